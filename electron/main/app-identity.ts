/**
 * The app's identity towards the OS. Must equal `appId` in electron/build/electron-builder.config.cjs:
 * Windows shows toasts only for a known AppUserModelID (electron #10864).
 */
export const APP_USER_MODEL_ID = 'org.ghostport.app';

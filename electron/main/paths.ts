/**
 * Where the built pieces live, relative to the app root (the folder of package.json, or the
 * root of app.asar when packaged). Pure path arithmetic.
 */
import { join } from 'node:path';

/** Paths of the built app inside its root. */
export interface AppPaths {
  readonly preload: string;
  readonly rendererDir: string;
  readonly assetsDir: string;
  readonly appIcon: string;
}

/** The built app's files under `appRoot` (`app.getAppPath()`). */
export function appPaths(appRoot: string): AppPaths {
  return {
    preload: join(appRoot, 'dist', 'preload', 'preload.cjs'),
    rendererDir: join(appRoot, 'dist', 'renderer'),
    assetsDir: join(appRoot, 'assets'),
    appIcon: join(appRoot, 'assets', 'icon.png'),
  };
}

/**
 * Which tray icon file shows a tray state on which platform. Shared by the tray adapter and
 * the icon generator (electron/build/make-icons.ts), so names cannot drift. Pure.
 *
 * Sizes: Windows draws tray icons at 16 px at 100 % scale, the macOS menu bar at 16 pt; the
 * Linux StatusNotifier/AppIndicator panels of GNOME and KDE use a 22 px box, so Linux gets its
 * own 22 px set rather than a blurry upscale. Each has an `@2x` sibling that Electron's
 * nativeImage picks up by itself on HiDPI screens.
 */
import type { TrayState } from './tray-model.ts';

/** The icon family a platform uses: colour, macOS template (monochrome), or Linux colour at 22 px. */
export type TrayIconVariant = 'color' | 'template' | 'linux';

/** 1x size of each variant, in pixels. */
export const TRAY_ICON_SIZES: Readonly<Record<TrayIconVariant, number>> = { color: 16, template: 16, linux: 22 };

/** The variant for a platform (`process.platform`). */
export function trayIconVariant(platform: string): TrayIconVariant {
  if (platform === 'darwin') return 'template';
  if (platform === 'linux') return 'linux';
  return 'color';
}

/**
 * File name (inside assets/tray/) of the 1x icon; the 2x one is the same name with `@2x`
 * before `.png`. macOS template images must end in `Template` for Electron to treat them so.
 */
export function trayIconFileName(state: TrayState, variant: TrayIconVariant, scale: 1 | 2 = 1): string {
  const suffix = scale === 2 ? '@2x' : '';
  switch (variant) {
    case 'color':
      return `tray-${state}${suffix}.png`;
    case 'template':
      return `tray-${state}Template${suffix}.png`;
    case 'linux':
      return `tray-linux-${state}${suffix}.png`;
  }
}

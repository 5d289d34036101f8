/**
 * Draws every icon of the app and writes them to assets/ (`npm run build` does not need this:
 * the PNGs are committed; run `node electron/build/make-icons.ts` after changing a design, or
 * with `--check` to verify the committed files still match this source pixel for pixel).
 *
 * Tray states differ by SHAPE as well as colour, so they read in monochrome (macOS template
 * images) and for colour-blind users: clear = circle with a check, alert = triangle with "!",
 * paused = rounded square with pause bars, degraded = diamond with "?", error = octagon with
 * an X. Colour icons are a saturated fill with a white glyph and a thin dark rim, which keeps
 * the edge visible on light panels while the fill carries it on dark ones.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TRAY_STATES } from '#common/tray-model.ts';
import type { TrayState } from '#common/tray-model.ts';
import { TRAY_ICON_SIZES, trayIconFileName } from '#common/tray-icons.ts';
import type { TrayIconVariant } from '#common/tray-icons.ts';
import {
  capsule,
  circle,
  decodePng,
  encodePng,
  grow,
  polygon,
  polyline,
  regularPolygon,
  render,
  roundedBox,
  subtract,
  union,
} from './icon-raster.ts';
import type { Bitmap, Layer, Rgba, Sdf } from './icon-raster.ts';

/** Size of the app icon (electron-builder derives .icns/.ico and the Linux set from it). */
export const APP_ICON_SIZE = 512;

const WHITE: Rgba = [255, 255, 255, 255];
const BLACK: Rgba = [0, 0, 0, 255];
const RIM: Rgba = [0, 0, 0, 110];

interface StateDesign {
  readonly shape: Sdf;
  readonly glyph: Sdf;
  /** Fill colour; white text on it has a contrast ratio of at least 4.5:1. */
  readonly fill: Rgba;
}

const DESIGNS: Readonly<Record<TrayState, StateDesign>> = {
  clear: {
    shape: circle(8, 8, 7.2),
    glyph: polyline([[4.6, 8.3], [7, 10.7], [11.4, 5.6]], 1.05),
    fill: [24, 128, 56, 255],
  },
  alert: {
    shape: polygon([[8, 2.3], [14.1, 13.7], [1.9, 13.7]], 1.1),
    glyph: union(capsule([8, 5.9], [8, 9.5], 1.0), circle(8, 12.1, 1.05)),
    fill: [200, 35, 30, 255],
  },
  paused: {
    shape: roundedBox(8, 8, 7, 7, 2.4),
    glyph: union(roundedBox(5.9, 8, 1.15, 3.7, 0.5), roundedBox(10.1, 8, 1.15, 3.7, 0.5)),
    fill: [95, 99, 110, 255],
  },
  degraded: {
    shape: regularPolygon(8, 8, 7.7, 4, -Math.PI / 2, 1.3),
    glyph: union(
      polyline([[5.9, 6.3], [6.3, 5.0], [7.3, 4.3], [8.7, 4.3], [9.8, 5.1], [10.0, 6.3], [9.4, 7.3], [8.2, 8.1], [8.0, 9.2]], 0.95),
      circle(8, 11.6, 1.0),
    ),
    fill: [166, 77, 0, 255],
  },
  error: {
    shape: regularPolygon(8, 8, 7.5, 8, Math.PI / 8, 0.8),
    glyph: union(capsule([5.3, 5.3], [10.7, 10.7], 1.05), capsule([10.7, 5.3], [5.3, 10.7], 1.05)),
    fill: [120, 30, 190, 255],
  },
};

/** The layers of a tray icon in a variant. */
export function trayIconLayers(state: TrayState, variant: TrayIconVariant): readonly Layer[] {
  const design = DESIGNS[state];
  if (variant === 'template') {
    // Template images are black plus alpha; macOS tints them. The glyph is knocked out.
    return [{ shape: subtract(design.shape, design.glyph), color: BLACK }];
  }
  return [
    { shape: grow(design.shape, 0.45), color: RIM },
    { shape: design.shape, color: design.fill },
    { shape: design.glyph, color: WHITE },
  ];
}

/**
 * The layers of the app icon: a white ghost on a deep blue tile, watching. No state colour: the
 * app icon never changes, so a red mark on it would say "alert" while the port is clear.
 */
export function appIconLayers(): readonly Layer[] {
  const tile = roundedBox(8, 8, 7.4, 7.4, 3.2);
  const ghost = union(
    circle(8, 7.2, 4.1),
    roundedBox(8, 10.1, 4.1, 2.9, 0),
    ...[4.95, 6.98, 9.02, 11.05].map((x) => circle(x, 12.9, 1.02)),
  );
  const eyes = union(roundedBox(6.4, 7.3, 0.62, 0.95, 0.62), roundedBox(9.6, 7.3, 0.62, 0.95, 0.62));
  return [
    { shape: tile, color: [24, 36, 66, 255] },
    { shape: subtract(ghost, eyes), color: [245, 247, 250, 255] },
  ];
}

/** Every icon file (relative to the repository root) and its pixels. */
export function iconFiles(): readonly { readonly path: string; readonly image: Bitmap }[] {
  const files: { path: string; image: Bitmap }[] = [];
  for (const variant of ['color', 'template', 'linux'] as const) {
    for (const state of TRAY_STATES) {
      for (const scale of [1, 2] as const) {
        files.push({
          path: join('assets', 'tray', trayIconFileName(state, variant, scale)),
          image: render(trayIconLayers(state, variant), TRAY_ICON_SIZES[variant] * scale),
        });
      }
    }
  }
  files.push({ path: join('assets', 'icon.png'), image: render(appIconLayers(), APP_ICON_SIZE) });
  return files;
}

/** Paths whose committed pixels differ from this source (missing files included). */
export async function staleIcons(root: string): Promise<string[]> {
  const stale: string[] = [];
  for (const file of iconFiles()) {
    try {
      const committed = decodePng(await readFile(join(root, file.path)));
      const same =
        committed.width === file.image.width &&
        committed.height === file.image.height &&
        Buffer.from(committed.data).equals(Buffer.from(file.image.data));
      if (!same) stale.push(file.path);
    } catch {
      stale.push(file.path);
    }
  }
  return stale;
}

async function main(): Promise<void> {
  const root = process.cwd();
  if (process.argv.includes('--check')) {
    const stale = await staleIcons(root);
    if (stale.length > 0) {
      process.stderr.write(`Icons out of date (run node electron/build/make-icons.ts):\n  ${stale.join('\n  ')}\n`);
      process.exit(1);
    }
    process.stdout.write(`All ${iconFiles().length} icons match their source.\n`);
    return;
  }
  for (const file of iconFiles()) {
    const target = join(root, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, encodePng(file.image));
  }
  process.stdout.write(`Wrote ${iconFiles().length} icons to assets/.\n`);
}

if (import.meta.main) await main();

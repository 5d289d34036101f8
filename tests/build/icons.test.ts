/**
 * The committed icons: reproducible from electron/build/make-icons.ts, the right sizes for each
 * platform, template images monochrome, states distinguishable by shape alone, and visible on
 * light and dark panels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_ICON_SIZE, staleIcons } from '../../electron/build/make-icons.ts';
import { decodePng } from '../../electron/build/icon-raster.ts';
import type { Bitmap } from '../../electron/build/icon-raster.ts';
import { TRAY_STATES } from '#common/tray-model.ts';
import { TRAY_ICON_SIZES, trayIconFileName, trayIconVariant } from '#common/tray-icons.ts';

const root = process.cwd();

async function load(path: string): Promise<Bitmap> {
  return decodePng(await readFile(join(root, path)));
}

function luminance([r, g, b]: readonly number[]): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
}

function contrast(a: readonly number[], b: readonly number[]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

test('the committed PNGs are exactly what make-icons.ts draws', async () => {
  assert.deepEqual(await staleIcons(root), []);
});

test('every state has a 1x and 2x icon per platform, at the documented sizes', async () => {
  assert.deepEqual([trayIconVariant('darwin'), trayIconVariant('linux'), trayIconVariant('win32')], ['template', 'linux', 'color']);
  for (const variant of ['color', 'template', 'linux'] as const) {
    for (const state of TRAY_STATES) {
      for (const scale of [1, 2] as const) {
        const image = await load(join('assets', 'tray', trayIconFileName(state, variant, scale)));
        assert.equal(image.width, TRAY_ICON_SIZES[variant] * scale);
        assert.equal(image.height, TRAY_ICON_SIZES[variant] * scale);
      }
    }
  }
  const app = await load(join('assets', 'icon.png'));
  assert.deepEqual([app.width, app.height], [APP_ICON_SIZE, APP_ICON_SIZE]);
});

test('the app icon carries no alert colour: it is shown while the port is clear too', async () => {
  const app = await load(join('assets', 'icon.png'));
  let red = 0;
  for (let i = 0; i < app.data.length; i += 4) {
    const [r, g, b, a] = [app.data[i]!, app.data[i + 1]!, app.data[i + 2]!, app.data[i + 3]!];
    if (a > 128 && r > 150 && r > 2 * g && r > 2 * b) red++;
  }
  assert.equal(red, 0, `${red} red pixels`);
});

test('macOS template images are black with alpha only (macOS tints them)', async () => {
  for (const state of TRAY_STATES) {
    const image = await load(join('assets', 'tray', trayIconFileName(state, 'template', 2)));
    let opaque = 0;
    for (let i = 0; i < image.data.length; i += 4) {
      if (image.data[i + 3]! > 0) {
        opaque++;
        assert.deepEqual([image.data[i], image.data[i + 1], image.data[i + 2]], [0, 0, 0], state);
      }
    }
    assert.ok(opaque > 200, `${state} is not empty`);
  }
});

test('states differ by shape alone: their monochrome masks are far apart', async () => {
  const masks = new Map<string, boolean[]>();
  for (const state of TRAY_STATES) {
    const image = await load(join('assets', 'tray', trayIconFileName(state, 'template', 1)));
    masks.set(state, Array.from({ length: image.width * image.height }, (_, i) => image.data[i * 4 + 3]! >= 128));
  }
  for (const a of TRAY_STATES) {
    for (const b of TRAY_STATES) {
      if (a >= b) continue;
      const ma = masks.get(a)!;
      const mb = masks.get(b)!;
      const differing = ma.filter((v, i) => v !== mb[i]).length;
      // 16x16 = 256 pixels; well over a tenth of them differ between any two states.
      assert.ok(differing >= 30, `${a} vs ${b}: only ${differing} pixels differ`);
    }
  }
});

test('colour icons: the glyph reads on its fill, and the icon shows on light and dark panels', async () => {
  const light = [242, 242, 242];
  const dark = [32, 32, 32];
  for (const variant of ['color', 'linux'] as const) {
    for (const state of TRAY_STATES) {
      const image = await load(join('assets', 'tray', trayIconFileName(state, variant, 2)));
      const solid: number[][] = [];
      for (let i = 0; i < image.data.length; i += 4) {
        if (image.data[i + 3] === 255) solid.push([image.data[i]!, image.data[i + 1]!, image.data[i + 2]!]);
      }
      const fill = solid.find((c) => !(c[0] === 255 && c[1] === 255 && c[2] === 255) && luminance(c) > 0.02)!;
      assert.ok(fill, `${state}: has a fill`);
      assert.ok(contrast(fill, [255, 255, 255]) >= 4.5, `${state}: white glyph on fill ${fill} is ${contrast(fill, [255, 255, 255]).toFixed(2)}:1`);
      assert.ok(contrast(fill, light) >= 3, `${state}: fill on a light panel`);
      assert.ok(Math.max(...solid.map((c) => contrast(c, dark))) >= 3, `${state}: something stands out on a dark panel`);
    }
  }
});

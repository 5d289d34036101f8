/**
 * A tiny vector rasteriser for the app's icons: shapes are signed distance functions on a
 * 16-unit canvas, painted back to front with analytic anti-aliasing, and encoded as RGBA PNG
 * with node:zlib. No Chromium or image library, so the icons are reproducible on any machine
 * from this source alone (the pixels, not necessarily the compressed bytes: zlib versions differ).
 */
import { crc32, deflateSync, inflateSync } from 'node:zlib';

/** A point on the canvas, in units. */
export type Point = readonly [number, number];

/** Signed distance in canvas units from a point to a shape: negative inside. */
export type Sdf = (x: number, y: number) => number;

/** An RGBA colour, channels 0–255 (alpha too). */
export type Rgba = readonly [number, number, number, number];

/** One painted layer: a shape and its colour. */
export interface Layer {
  readonly shape: Sdf;
  readonly color: Rgba;
}

/** A disc. */
export function circle(cx: number, cy: number, r: number): Sdf {
  return (x, y) => Math.hypot(x - cx, y - cy) - r;
}

/** A thick line with round caps. */
export function capsule(a: Point, b: Point, halfWidth: number): Sdf {
  const [ax, ay] = a;
  const [bx, by] = b;
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  return (x, y) => {
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len2));
    return Math.hypot(x - (ax + t * dx), y - (ay + t * dy)) - halfWidth;
  };
}

/** A polyline of round-capped segments. */
export function polyline(points: readonly Point[], halfWidth: number): Sdf {
  const parts = points.slice(1).map((p, i) => capsule(points[i]!, p, halfWidth));
  return union(...parts);
}

/** A convex or concave polygon (exact distance; Inigo Quilez's formulation), optionally rounded. */
export function polygon(points: readonly Point[], rounding = 0): Sdf {
  return (x, y) => {
    const first = points[0]!;
    let d = (x - first[0]) ** 2 + (y - first[1]) ** 2;
    let sign = 1;
    for (let i = 0, j = points.length - 1; i < points.length; j = i, i++) {
      const [vix, viy] = points[i]!;
      const [vjx, vjy] = points[j]!;
      const ex = vjx - vix;
      const ey = vjy - viy;
      const wx = x - vix;
      const wy = y - viy;
      const t = Math.max(0, Math.min(1, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
      const bx = wx - ex * t;
      const by = wy - ey * t;
      d = Math.min(d, bx * bx + by * by);
      const c1 = y >= viy;
      const c2 = y < vjy;
      const c3 = ex * wy > ey * wx;
      if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) sign = -sign;
    }
    return sign * Math.sqrt(d) - rounding;
  };
}

/** A regular polygon with `sides` corners, the first at angle `rotation` (radians). */
export function regularPolygon(cx: number, cy: number, r: number, sides: number, rotation: number, rounding = 0): Sdf {
  const points: Point[] = Array.from({ length: sides }, (_, i) => {
    const a = rotation + (i * 2 * Math.PI) / sides;
    return [cx + (r - rounding) * Math.cos(a), cy + (r - rounding) * Math.sin(a)];
  });
  return polygon(points, rounding);
}

/** An axis-aligned box with rounded corners. */
export function roundedBox(cx: number, cy: number, halfW: number, halfH: number, radius: number): Sdf {
  return (x, y) => {
    const qx = Math.abs(x - cx) - halfW + radius;
    const qy = Math.abs(y - cy) - halfH + radius;
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
  };
}

/** Everything inside any of the shapes. */
export function union(...shapes: readonly Sdf[]): Sdf {
  return (x, y) => shapes.reduce((d, s) => Math.min(d, s(x, y)), Number.POSITIVE_INFINITY);
}

/** The first shape minus the others. */
export function subtract(shape: Sdf, ...holes: readonly Sdf[]): Sdf {
  return (x, y) => holes.reduce((d, h) => Math.max(d, -h(x, y)), shape(x, y));
}

/** The shape grown outward by `amount` units (for outlines). */
export function grow(shape: Sdf, amount: number): Sdf {
  return (x, y) => shape(x, y) - amount;
}

/** RGBA pixels of a rendered image, row by row, straight (not premultiplied) alpha. */
export interface Bitmap {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Paints the layers (back to front) on a `size`×`size` image of a `units`×`units` canvas.
 * Coverage comes from the distance at the pixel centre in pixels (clamped 0.5 − d), which
 * anti-aliases edges to about one pixel at every size.
 */
export function render(layers: readonly Layer[], size: number, units = 16): Bitmap {
  const data = new Uint8Array(size * size * 4);
  const scale = size / units;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const x = (px + 0.5) / scale;
      const y = (py + 0.5) / scale;
      // Premultiplied accumulation, "source over".
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (const layer of layers) {
        const coverage = Math.max(0, Math.min(1, 0.5 - layer.shape(x, y) * scale));
        if (coverage === 0) continue;
        const la = (layer.color[3] / 255) * coverage;
        r = layer.color[0] * la + r * (1 - la);
        g = layer.color[1] * la + g * (1 - la);
        b = layer.color[2] * la + b * (1 - la);
        a = la + a * (1 - la);
      }
      const i = (py * size + px) * 4;
      if (a > 0) {
        data[i] = Math.round(r / a);
        data[i + 1] = Math.round(g / a);
        data[i + 2] = Math.round(b / a);
        data[i + 3] = Math.round(a * 255);
      }
    }
  }
  return { width: size, height: size, data };
}

/** Encodes a bitmap as an 8-bit RGBA PNG. */
export function encodePng(image: Bitmap): Buffer {
  const rowBytes = image.width * 4;
  const raw = Buffer.alloc((rowBytes + 1) * image.height);
  for (let y = 0; y < image.height; y++) {
    raw[y * (rowBytes + 1)] = 0; // filter: none
    raw.set(image.data.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(image.width, 0);
  header.writeUInt32BE(image.height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/**
 * Decodes a PNG written by `encodePng` (8-bit RGBA, non-interlaced; every filter type is
 * handled so files re-saved by other tools still decode). For the reproducibility test.
 */
export function decodePng(png: Buffer): Bitmap {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (crc32(png.subarray(offset + 4, offset + 8 + length)) !== png.readUInt32BE(offset + 8 + length)) throw new Error(`bad CRC in ${type}`);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 6 || body[12] !== 0) throw new Error('only 8-bit RGBA non-interlaced PNGs are supported');
    } else if (type === 'IDAT') idat.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rowBytes = width * 4;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (rowBytes + 1)]!;
    const row = raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
    for (let x = 0; x < rowBytes; x++) {
      const left = x >= 4 ? data[y * rowBytes + x - 4]! : 0;
      const up = y > 0 ? data[(y - 1) * rowBytes + x]! : 0;
      const upLeft = y > 0 && x >= 4 ? data[(y - 1) * rowBytes + x - 4]! : 0;
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter];
      if (predictor === undefined) throw new Error(`unknown PNG filter ${filter}`);
      data[y * rowBytes + x] = (row[x]! + predictor) & 0xff;
    }
  }
  return { width, height, data };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

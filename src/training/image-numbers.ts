/**
 * Numbers made of scanned digits: MNIST's training images laid side by side, as the
 * literature composes digit strings for the line readers it trains. Pen data gives the line
 * model strokes of one even width drawn by a program; these are pen on paper, scanned, with
 * the thickness, blots and soft edges of real ink, which is what a photo of a form shows.
 */
import { sampleBilinear, type GrayImage } from '../core/image.ts';
import { boundsOf, type Point } from '../core/pen-points.ts';
import type { Random } from '../core/random.ts';
import type { DigitSet } from '../data/mnist.ts';
import { rasterizeStrokes } from './stroke-raster.ts';

/** MNIST's images, found by label. */
export interface ImageDigits {
  readonly set: DigitSet;
  readonly byLabel: readonly (readonly number[])[];
}

export function imageDigits(set: DigitSet): ImageDigits {
  const byLabel: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < set.count; i++) byLabel[set.labels[i]].push(i);
  return { set, byLabel };
}

const SIDE = 28;

/** One image's ink (0..1), cropped to the pixels that hold some. */
export function croppedDigit(set: DigitSet, index: number): GrayImage {
  const base = index * SIDE * SIDE;
  let [x0, y0, x1, y1] = [SIDE, SIDE, -1, -1];
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++)
      if (set.images[base + y * SIDE + x] > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  if (x1 < 0) return { width: 1, height: 1, data: new Float32Array(1) };
  const width = x1 - x0 + 1;
  const height = y1 - y0 + 1;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data[y * width + x] = set.images[base + (y0 + y) * SIDE + x0 + x] / 255;
  return { width, height, data };
}

/** `img` resized to w x h by bilinear interpolation (MNIST's 20 px are enlarged). */
export function resizeBilinear(img: GrayImage, w: number, h: number): GrayImage {
  const data = new Float32Array(w * h);
  const sx = img.width / w;
  const sy = img.height / h;
  // Pixel centres to pixel centres, held inside the image: its edges are not faded.
  const within = (v: number, size: number) => Math.max(0, Math.min(size - 1, v));
  for (let y = 0; y < h; y++) {
    const fy = within((y + 0.5) * sy - 0.5, img.height);
    for (let x = 0; x < w; x++)
      data[y * w + x] = sampleBilinear(img, within((x + 0.5) * sx - 0.5, img.width), fy);
  }
  return { width: w, height: h, data };
}

/** Strokes (y up, any box) drawn at `height` pixels high with a pen `brush` wide, cropped. */
export function strokesAsImage(
  strokes: readonly (readonly Point[])[],
  height: number,
  brush: number,
): GrayImage {
  const { x0, y0, x1, y1 } = boundsOf(strokes);
  const scale = height / Math.max(1e-9, y1 - y0, (x1 - x0) / 4);
  const margin = Math.ceil(brush / 2) + 1;
  const width = Math.ceil((x1 - x0) * scale) + 2 * margin;
  const rows = Math.ceil((y1 - y0) * scale) + 2 * margin;
  const placed = strokes.map((s) =>
    s.map((p) => ({ x: (p.x - x0) * scale + margin, y: (y1 - p.y) * scale + margin })),
  );
  return rasterizeStrokes(placed, brush, width, rows);
}

/** A glyph already drawn: its image (ink 0..1) and where it stands on the line. */
export interface ImageGlyph {
  readonly image: GrayImage;
  /** Pixels. */
  readonly left: number;
  readonly bottom: number;
  /** Columns the top row leans right by, per row up (tan of the slant). */
  readonly slant: number;
}

/** The glyphs drawn into one ink map, overlapping ink kept at its darkest. */
export function composeImages(glyphs: readonly ImageGlyph[]): GrayImage {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const g of glyphs) {
    const lean = g.slant * g.image.height;
    x0 = Math.min(x0, g.left + Math.min(0, lean));
    x1 = Math.max(x1, g.left + g.image.width + Math.max(0, lean));
    y0 = Math.min(y0, g.bottom - g.image.height);
    y1 = Math.max(y1, g.bottom);
  }
  const margin = 4;
  const width = Math.ceil(x1 - x0) + 2 * margin;
  const height = Math.ceil(y1 - y0) + 2 * margin;
  const data = new Float32Array(width * height);
  for (const g of glyphs) {
    const { width: w, height: h, data: src } = g.image;
    for (let y = 0; y < h; y++) {
      const row = Math.round(g.bottom - h + y - y0) + margin;
      const shift = Math.round(g.left - x0 + g.slant * (h - y)) + margin;
      if (row < 0 || row >= height) continue;
      for (let x = 0; x < w; x++) {
        const col = shift + x;
        if (col < 0 || col >= width) continue;
        const i = row * width + col;
        data[i] = Math.max(data[i], src[y * w + x]);
      }
    }
  }
  return { width, height, data };
}

/** A random scanned image of digit `d`, cropped to its ink. */
export function pickImage(digits: ImageDigits, d: number, rng: Random): GrayImage {
  const list = digits.byLabel[d];
  return croppedDigit(digits.set, list[rng.int(list.length)]);
}

/**
 * Paper that is not white: a photo or a scan of a page, grey where the light is dim and
 * brighter where it falls. The pipeline takes anything lighter than 235 of 255 for ink, so
 * such a page was all ink: validation writers' pen digits on a photographed page (paper 200,
 * lit unevenly by ±30, grain) were read 10% right, as by chance. Here the paper's brightness
 * is estimated across the image, from the lightest pixels of each neighbourhood, and every
 * pixel divided by it, so paper becomes white and ink keeps its darkness against it. A drawing
 * on white (a canvas, a clean scan) is returned as it is. Light ink on dark (a blackboard,
 * MNIST's own convention) is the same with the levels turned over.
 */
import type { GrayBitmap, InkPolarity } from './preprocess.ts';
import { dropPrint, dropRules } from './print.ts';

/** Cells across the longer side: the paper's light is taken as even within one. */
const CELLS = 16;
/**
 * Cells at least this many pixels wide: a stroke crosses a cell rather than fills it, and a
 * 28x28 digit is never taken for a page (with 8, 53 of MNIST's 70,000 were changed; now none).
 */
const MIN_CELL = 16;
/**
 * A cell is full of ink when its lightest pixel is darker than this share of its
 * neighbours' lightest...
 */
const FILLED = 0.8;
/**
 * ...or than this share of the page's paper (the lightest of nine cells in ten): a stroke
 * wider than three cells fills its neighbours too. A photo's dim corner stays above it (at
 * 0.55 of the bright side in the tests); grey ink lighter than half the paper, in a blot
 * wider than three cells, is taken for paper in shadow.
 */
const INKY = 0.5;
/** Where every cell's paper is at least this, the paper is plain already. */
const PLAIN = 250;

/** The bitmap with its paper made plain: white under dark ink, black under light ink. */
export function flattenPaper(bitmap: GrayBitmap, ink: InkPolarity = 'dark'): GrayBitmap {
  const { width: w, height: h, data } = bitmap;
  // Paper's brightness for dark ink; for light ink, how dark the paper is.
  const level = ink === 'dark' ? (i: number) => data[i] : (i: number) => 255 - data[i];
  const cell = Math.max(MIN_CELL, Math.ceil(Math.max(w, h) / CELLS));
  const nx = Math.ceil(w / cell);
  const ny = Math.ceil(h / cell);
  // Too small to tell paper from ink: a crop of a few pixels, a single grey level.
  if (nx * ny < 4) return bitmap;
  // The lightest pixel of each cell; on white paper its first pixel already is (no scan).
  const lightest = new Float32Array(nx * ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      let max = 0;
      scan: for (let y = j * cell, y1 = Math.min(h, y + cell); y < y1; y++) {
        for (let x = i * cell, x1 = Math.min(w, x + cell); x < x1; x++) {
          max = Math.max(max, level(y * w + x));
          if (max >= 255) break scan;
        }
      }
      lightest[j * nx + i] = max;
    }
  }
  // Each cell's paper: its lightest pixel, unless the cell is full of ink (NaN until filled in).
  const page = [...lightest].sort((a, b) => a - b)[Math.floor(0.9 * (lightest.length - 1))];
  const paper = new Float32Array(nx * ny);
  const neighbours = (k: number): number[] => {
    const [i, j] = [k % nx, Math.floor(k / nx)];
    const out: number[] = [];
    for (let jj = Math.max(0, j - 1); jj <= Math.min(ny - 1, j + 1); jj++)
      for (let ii = Math.max(0, i - 1); ii <= Math.min(nx - 1, i + 1); ii++) out.push(jj * nx + ii);
    return out;
  };
  for (let k = 0; k < paper.length; k++) {
    const around = Math.max(...neighbours(k).map((n) => lightest[n]));
    const own = lightest[k];
    paper[k] = own < FILLED * around || own < INKY * page ? NaN : own;
  }
  // Cells full of ink take the paper of the nearest cells that show some, ring by ring.
  // (The lightest cell always shows paper, so every ring fills some.)
  for (let filled = 1; filled > 0;) {
    const next = Float32Array.from(paper);
    filled = 0;
    for (let k = 0; k < paper.length; k++) {
      if (!Number.isNaN(paper[k])) continue;
      const known = neighbours(k).filter((n) => !Number.isNaN(paper[n]));
      if (known.length === 0) continue;
      next[k] = Math.max(...known.map((n) => paper[n]));
      filled++;
    }
    paper.set(next);
  }
  if (Math.min(...paper) >= PLAIN) return bitmap;
  // Divided by the paper, interpolated between the cells' centres: per row, the paper of
  // every cell column at that height, then per pixel between two of them.
  const out = new Uint8ClampedArray(w * h);
  const column = new Int32Array(w);
  const across = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const fx = (x + 0.5) / cell - 0.5;
    column[x] = Math.floor(fx);
    across[x] = fx - column[x];
  }
  const clampI = (i: number) => Math.min(nx - 1, Math.max(0, i));
  const row = new Float32Array(nx);
  for (let y = 0; y < h; y++) {
    const fy = (y + 0.5) / cell - 0.5;
    const j = Math.floor(fy);
    const ty = fy - j;
    const j0 = Math.min(ny - 1, Math.max(0, j)) * nx;
    const j1 = Math.min(ny - 1, Math.max(0, j + 1)) * nx;
    for (let i = 0; i < nx; i++) row[i] = paper[j0 + i] * (1 - ty) + paper[j1 + i] * ty;
    for (let x = 0; x < w; x++) {
      const i = column[x];
      const tx = across[x];
      const p = row[clampI(i)] * (1 - tx) + row[clampI(i + 1)] * tx;
      out[y * w + x] = Math.min(255, (level(y * w + x) * 255) / Math.max(p, 1));
    }
  }
  // Paper that was not plain may have print on it: a check's pattern, a form's lines.
  const clean = dropRules(dropPrint({ width: w, height: h, data: out }));
  if (ink === 'dark') return clean;
  return { width: w, height: h, data: Uint8ClampedArray.from(clean.data, (v) => 255 - v) };
}

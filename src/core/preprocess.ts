/**
 * MNIST-style preprocessing: from a grayscale bitmap of any size to the 28x28 the network
 * was trained on. As MNIST itself was made: crop to the ink, fit the longer side into
 * 20x20 keeping the aspect ratio (area-averaged, so anti-aliased), then place it in 28x28
 * with its centre of mass at the centre.
 */
import { boxGap, heightOf, union, widthOf, type Box } from './box.ts';
import { MODEL_SIZE, type GrayImage } from './image.ts';
import { flattenPaper } from './paper.ts';

export type InkPolarity = 'dark' | 'light';

/** Grayscale input: values 0..255, row-major. */
export interface GrayBitmap {
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number>;
}

export const FIT_SIZE = 20;
/** Ink fainter than this (of 1) is background: paper grain, JPEG noise, anti-aliasing haze. */
const INK_FLOOR = 0.08;
/** Pixels at least this inky form the connected components used to find specks. */
const COMPONENT_THRESHOLD = 0.25;

/** Ink in 0..1 of one gray level: background below INK_FLOOR is 0. */
function inkLevel(gray: number, ink: InkPolarity): number {
  const v = gray / 255;
  const level = ink === 'dark' ? 1 - v : v;
  return level < INK_FLOOR ? 0 : level > 1 ? 1 : level;
}

/** The 8-bit gray of a decoded image, whose 256 ink levels are looked up, not computed. */
function bytesOf(data: ArrayLike<number>): Uint8Array | Uint8ClampedArray | null {
  return data instanceof Uint8Array || data instanceof Uint8ClampedArray ? data : null;
}

function levelTable(ink: InkPolarity): Float32Array {
  const table = new Float32Array(256);
  for (let g = 0; g < 256; g++) table[g] = inkLevel(g, ink);
  return table;
}

/**
 * Ink map in 0..1, ink = 1, whatever the input's polarity: of the whole bitmap, or of `box`
 * of it.
 */
export function inkMap(
  bitmap: GrayBitmap,
  ink: InkPolarity = 'dark',
  box: Box = { x0: 0, y0: 0, x1: bitmap.width, y1: bitmap.height },
): GrayImage {
  const { data } = bitmap;
  const bytes = bytesOf(data);
  const table = levelTable(ink);
  const width = box.x1 - box.x0;
  const height = box.y1 - box.y0;
  const out = new Float32Array(width * height);
  for (let y = 0, o = 0; y < height; y++) {
    const from = (box.y0 + y) * bitmap.width + box.x0;
    for (let i = from; i < from + width; i++, o++)
      out[o] = bytes ? table[bytes[i]] : inkLevel(data[i], ink);
  }
  return { width, height, data: out };
}

/**
 * The smallest box that holds every pixel with any ink; null for a blank bitmap. Everything
 * outside it is paper, so the rest of the pipeline can work on it alone: a drawing covers a
 * fraction of a canvas.
 */
export function inkExtent(bitmap: GrayBitmap, ink: InkPolarity = 'dark'): Box | null {
  const { width: w, height: h, data } = bitmap;
  const bytes = bytesOf(data);
  const table = levelTable(ink);
  const paper = (i: number) => (bytes ? table[bytes[i]] : inkLevel(data[i], ink)) === 0;
  // Blank paper is skipped four 8-bit pixels at a time where they can be read as a word.
  const words =
    bytes && bytes.byteOffset % 4 === 0
      ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2)
      : null;
  const blank = ink === 'dark' ? -1 : 0; // four bytes of 255, or of 0
  const firstInk = (from: number, end: number) => {
    for (let i = from; i < end; i++) {
      if (words && (i & 3) === 0 && i + 4 <= end && words[i >> 2] === blank) i += 3;
      else if (!paper(i)) return i;
    }
    return end;
  };
  let x0 = w;
  let y0 = h;
  let x1 = 0;
  let y1 = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const left = firstInk(row, row + w) - row;
    if (left === w) continue;
    let right = w;
    while (paper(row + right - 1)) right--;
    if (y0 === h) y0 = y;
    y1 = y + 1;
    if (left < x0) x0 = left;
    if (right > x1) x1 = right;
  }
  return y0 === h ? null : { x0, y0, x1, y1 };
}

export interface Component {
  mass: number;
  box: Box;
}

/**
 * 8-connected components of the pixels at or above COMPONENT_THRESHOLD, in the order of their
 * first pixel, row by row. Found as runs of ink in each row, each joined to the runs of the
 * row above that touch it (diagonals included): one pass over the pixels, and a union-find
 * over a few hundred runs instead of a flood fill over thousands of pixels.
 */
export function inkComponents(img: GrayImage): Component[] {
  return findComponents(img, false).components;
}

/**
 * The components of inkComponents, and which one each pixel belongs to: `labels[i]` is the
 * component's index in `components`, or -1 for pixels below COMPONENT_THRESHOLD. Segmenting
 * a number needs the pixels of each piece, not only its box.
 */
export function inkComponentLabels(img: GrayImage): {
  components: Component[];
  labels: Int32Array;
} {
  const { components, labels } = findComponents(img, true);
  return { components, labels: labels! };
}

function findComponents(
  img: GrayImage,
  withLabels: boolean,
): { components: Component[]; labels?: Int32Array } {
  const { width: w, height: h, data } = img;
  const runs: { y: number; x0: number; x1: number; mass: number }[] = [];
  const parent: number[] = [];
  const root = (r: number): number => {
    while (parent[r] !== r) r = parent[r] = parent[parent[r]];
    return r;
  };
  let above = 0; // the first run of the row above; the row's own start at the end
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const first = runs.length;
    for (let x = 0; x < w;) {
      if (data[row + x] < COMPONENT_THRESHOLD) {
        x++;
        continue;
      }
      const x0 = x;
      let mass = 0;
      for (; x < w && data[row + x] >= COMPONENT_THRESHOLD; x++) mass += data[row + x];
      const r = runs.length;
      runs.push({ y, x0, x1: x, mass });
      parent.push(r);
      for (let q = above; q < first; q++) {
        if (runs[q].x0 <= x && x0 <= runs[q].x1) {
          const [a, b] = [root(q), root(r)];
          // The older root stays, so a component is known by its first run.
          if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
        }
      }
    }
    above = first;
  }
  const found: Component[] = [];
  const index = new Map<number, number>();
  const labels = withLabels ? new Int32Array(w * h).fill(-1) : undefined;
  runs.forEach((run, r) => {
    const top = root(r);
    let k = index.get(top);
    if (k === undefined) {
      k = found.length;
      index.set(top, k);
      found.push({ mass: 0, box: { x0: run.x0, y0: run.y, x1: run.x1, y1: run.y + 1 } });
    }
    const c = found[k];
    c.mass += run.mass;
    c.box.x0 = Math.min(c.box.x0, run.x0);
    c.box.x1 = Math.max(c.box.x1, run.x1);
    c.box.y1 = run.y + 1;
    labels?.fill(k, run.y * w + run.x0, run.y * w + run.x1);
  });
  return { components: found, labels };
}

/**
 * The box around the digit's ink. Small blobs far from the main strokes (a stray tap of
 * the pen, a speck of dust in a scan) are left out; detached parts of the digit itself,
 * like the bar of a 5 drawn separately, are near the main strokes or large, and stay.
 */
export function inkBox(
  img: GrayImage,
  components: readonly Component[] = inkComponents(img),
): Box | null {
  const comps = [...components].sort((a, b) => b.mass - a.mass);
  if (comps.length === 0) return null;
  const main = comps[0];
  let box = main.box;
  const size = Math.max(widthOf(box), heightOf(box));
  for (const c of comps.slice(1)) {
    const speck = c.mass < 0.1 * main.mass && boxGap(c.box, main.box) > 0.25 * size;
    if (!speck) box = union(box, c.box);
  }
  return growOverFaintInk(img, box);
}

/** Anti-aliased edges just outside the thresholded strokes belong to the digit too. */
function growOverFaintInk(img: GrayImage, box: Box): Box {
  const { width: w, height: h, data } = img;
  const rowHasInk = (y: number) => {
    for (let x = box.x0; x < box.x1; x++) if (data[y * w + x] > 0) return true;
    return false;
  };
  const colHasInk = (x: number) => {
    for (let y = box.y0; y < box.y1; y++) if (data[y * w + x] > 0) return true;
    return false;
  };
  const out = { ...box };
  if (box.y0 > 0 && rowHasInk(box.y0 - 1)) out.y0--;
  if (box.y1 < h && rowHasInk(box.y1)) out.y1++;
  if (box.x0 > 0 && colHasInk(box.x0 - 1)) out.x0--;
  if (box.x1 < w && colHasInk(box.x1)) out.x1++;
  return out;
}

/**
 * Area-averaging resample of `box` of `img` into a `w` x `h` image: each output pixel is
 * the mean of the input area it covers, so thin strokes fade instead of vanishing.
 */
export function resampleArea(img: GrayImage, box: Box, w: number, h: number): GrayImage {
  const [bw, bh] = [box.x1 - box.x0, box.y1 - box.y0];
  const sx = bw / w;
  const sy = bh / h;
  const out = new Float32Array(w * h);
  // In the box's own coordinates, so the same ink gives the same result wherever it lies,
  // and never past its far edges, where rounding could otherwise reach.
  for (let oy = 0; oy < h; oy++) {
    const ya = oy * sy;
    const yb = ya + sy;
    for (let ox = 0; ox < w; ox++) {
      const xa = ox * sx;
      const xb = xa + sx;
      let sum = 0;
      for (let y = Math.floor(ya), y1 = Math.min(Math.ceil(yb), bh); y < y1; y++) {
        const wy = Math.min(yb, y + 1) - Math.max(ya, y);
        if (wy <= 0) continue;
        const row = (box.y0 + y) * img.width + box.x0;
        for (let x = Math.floor(xa), x1 = Math.min(Math.ceil(xb), bw); x < x1; x++) {
          const wx = Math.min(xb, x + 1) - Math.max(xa, x);
          if (wx > 0) sum += img.data[row + x] * wx * wy;
        }
      }
      out[oy * w + ox] = sum / (sx * sy);
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * `img` (just resampled) with its strongest ink at 1, in place: area-averaging a big drawing
 * down dims its strokes.
 */
export function atFullStrength(img: GrayImage): GrayImage {
  let peak = 0;
  for (const v of img.data) peak = Math.max(peak, v);
  if (peak > 0 && peak < 1) for (let i = 0; i < img.data.length; i++) img.data[i] /= peak;
  return img;
}

/** Places `img` in a size x size canvas with its centre of mass at the centre. */
export function centreByMass(img: GrayImage, size = MODEL_SIZE): GrayImage {
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const v = img.data[y * img.width + x];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  const cx = mass > 0 ? mx / mass : (img.width - 1) / 2;
  const cy = mass > 0 ? my / mass : (img.height - 1) / 2;
  const ox = Math.round((size - 1) / 2 - cx);
  const oy = Math.round((size - 1) / 2 - cy);
  const out = new Float32Array(size * size);
  for (let y = 0; y < img.height; y++) {
    const ty = y + oy;
    if (ty < 0 || ty >= size) continue;
    for (let x = 0; x < img.width; x++) {
      const tx = x + ox;
      if (tx >= 0 && tx < size) out[ty * size + tx] = img.data[y * img.width + x];
    }
  }
  return { width: size, height: size, data: out };
}

/** The whole pipeline on an ink map; null when there is no ink at all. */
export function normalizeInk(img: GrayImage): GrayImage | null {
  const box = inkBox(img);
  if (!box) return null;
  const bw = box.x1 - box.x0;
  const bh = box.y1 - box.y0;
  const scale = FIT_SIZE / Math.max(bw, bh);
  const w = Math.max(1, Math.min(FIT_SIZE, Math.round(bw * scale)));
  const h = Math.max(1, Math.min(FIT_SIZE, Math.round(bh * scale)));
  return centreByMass(atFullStrength(resampleArea(img, box, w, h)));
}

/** Throws a RangeError for a bitmap whose size and data disagree (or that is empty). */
export function checkBitmap(bitmap: GrayBitmap): void {
  if (
    bitmap.width < 1 ||
    bitmap.height < 1 ||
    bitmap.data.length !== bitmap.width * bitmap.height
  ) {
    throw new RangeError(
      `bitmap of ${bitmap.width}x${bitmap.height} needs ${bitmap.width * bitmap.height} values, got ${bitmap.data.length}`,
    );
  }
}

/** Grayscale bitmap (0..255) to the model's 28x28 input; null when there is no ink. */
export function preprocess(bitmap: GrayBitmap, ink: InkPolarity = 'dark'): GrayImage | null {
  checkBitmap(bitmap);
  bitmap = flattenPaper(bitmap, ink);
  const extent = inkExtent(bitmap, ink);
  return extent && normalizeInk(inkMap(bitmap, ink, extent));
}

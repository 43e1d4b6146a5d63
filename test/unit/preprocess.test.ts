import { describe, expect, it } from 'vitest';
import { MODEL_SIZE, type GrayImage } from '../../src/core/image.ts';
import {
  inkBox,
  inkComponents,
  inkExtent,
  inkMap,
  normalizeInk,
  preprocess,
  type GrayBitmap,
} from '../../src/core/preprocess.ts';
import { flattenPaper } from '../../src/core/paper.ts';

/** A white canvas (255) with black (0) rectangles drawn on it. */
function canvas(
  width: number,
  height: number,
  rects: [number, number, number, number][],
): GrayBitmap {
  const data = new Uint8ClampedArray(width * height).fill(255);
  for (const [x0, y0, w, h] of rects)
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * width + x] = 0;
  return { width, height, data };
}

function stats(img: GrayImage) {
  let mass = 0,
    mx = 0,
    my = 0;
  let x0 = img.width,
    y0 = img.height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const v = img.data[y * img.width + x];
      mass += v;
      mx += v * x;
      my += v * y;
      if (v > 0.05) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  return { mass, cx: mx / mass, cy: my / mass, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

describe('preprocess', () => {
  it('fits an off-centre stroke into 20 px, centred by mass in 28x28', () => {
    const out = preprocess(canvas(280, 280, [[200, 20, 12, 60]]))!;
    expect(out.width).toBe(MODEL_SIZE);
    const s = stats(out);
    expect(s.height).toBeGreaterThanOrEqual(19);
    expect(s.height).toBeLessThanOrEqual(21);
    expect(s.width).toBeLessThan(8); // aspect ratio kept: a bar stays a bar
    expect(Math.abs(s.cx - 13.5)).toBeLessThanOrEqual(0.75);
    expect(Math.abs(s.cy - 13.5)).toBeLessThanOrEqual(0.75);
  });

  it('gives the same result for a tiny and a large drawing of the same shape', () => {
    const small = preprocess(
      canvas(280, 280, [
        [10, 10, 2, 10],
        [10, 10, 8, 2],
      ]),
    )!;
    const large = preprocess(
      canvas(280, 280, [
        [100, 60, 20, 100],
        [100, 60, 80, 20],
      ]),
    )!;
    let diff = 0;
    for (let i = 0; i < small.data.length; i++) diff += Math.abs(small.data[i] - large.data[i]);
    expect(diff / stats(large).mass).toBeLessThan(0.15);
  });

  it('scales a single dot up to a blob in the middle', () => {
    const s = stats(preprocess(canvas(100, 100, [[3, 90, 3, 3]]))!);
    expect(s.width).toBeGreaterThanOrEqual(19);
    expect(Math.abs(s.cx - 13.5)).toBeLessThanOrEqual(0.75);
  });

  it('keeps a horizontal line 20 px wide and thin', () => {
    const s = stats(preprocess(canvas(280, 280, [[40, 140, 200, 10]]))!);
    expect(s.width).toBeGreaterThanOrEqual(19);
    expect(s.height).toBeLessThanOrEqual(3);
  });

  it('returns null for an empty image and handles an all-ink one', () => {
    expect(preprocess(canvas(50, 50, []))).toBeNull();
    const full = preprocess(canvas(40, 40, [[0, 0, 40, 40]]))!;
    const s = stats(full);
    expect(s.width).toBe(20);
    expect(s.height).toBe(20);
  });

  it('handles 1xN and Nx1 images', () => {
    expect(stats(preprocess(canvas(1, 50, [[0, 10, 1, 30]]))!).height).toBeGreaterThanOrEqual(19);
    expect(stats(preprocess(canvas(50, 1, [[10, 0, 30, 1]]))!).width).toBeGreaterThanOrEqual(19);
    expect(preprocess(canvas(1, 1, [[0, 0, 1, 1]]))).not.toBeNull();
  });

  it('ignores a stray speck far from the digit, keeps a detached part close to it', () => {
    const withSpeck = canvas(280, 280, [
      [100, 80, 12, 120],
      [260, 10, 4, 4],
    ]);
    expect(inkBox(inkMap(withSpeck))).toEqual({ x0: 100, y0: 80, x1: 112, y1: 200 });
    // The bar of a 5 drawn as its own stroke, a little apart from the body.
    const five = canvas(280, 280, [
      [100, 110, 12, 90],
      [105, 80, 80, 12],
    ]);
    expect(inkBox(inkMap(five))).toEqual({ x0: 100, y0: 80, x1: 185, y1: 200 });
  });

  it('finds 8-connected components of ink as a flood fill does, in the order of their first pixel', () => {
    /** The obvious flood fill, as the reference. */
    function floodFill(img: GrayImage) {
      const { width: w, height: h, data } = img;
      const seen = new Uint8Array(w * h);
      const found: { mass: number; box: { x0: number; y0: number; x1: number; y1: number } }[] = [];
      for (let start = 0; start < w * h; start++) {
        if (seen[start] || data[start] < 0.25) continue;
        const box = { x0: w, y0: h, x1: 0, y1: 0 };
        let mass = 0;
        const stack = [start];
        seen[start] = 1;
        while (stack.length) {
          const p = stack.pop()!;
          const [x, y] = [p % w, Math.floor(p / w)];
          mass += data[p];
          box.x0 = Math.min(box.x0, x);
          box.y0 = Math.min(box.y0, y);
          box.x1 = Math.max(box.x1, x + 1);
          box.y1 = Math.max(box.y1, y + 1);
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const [nx, ny] = [x + dx, y + dy];
              const q = ny * w + nx;
              if (nx < 0 || ny < 0 || nx >= w || ny >= h || seen[q] || data[q] < 0.25) continue;
              seen[q] = 1;
              stack.push(q);
            }
        }
        found.push({ mass, box });
      }
      return found;
    }
    let seed = 3;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 30; trial++) {
      // Sparse random ink: many small shapes, touching along edges and only at corners.
      const [w, h] = [40 + trial, 30];
      const data = new Float32Array(w * h).map(() => (next() < 0.3 ? next() : 0));
      const expected = floodFill({ width: w, height: h, data });
      const actual = inkComponents({ width: w, height: h, data });
      expect(actual.map((c) => c.box)).toEqual(expected.map((c) => c.box));
      actual.forEach((c, i) => expect(c.mass).toBeCloseTo(expected[i].mass, 4));
    }
  });

  it('takes the faint anti-aliased edge of a stroke into the box', () => {
    const bitmap = canvas(60, 60, [[20, 10, 6, 40]]);
    const data = bitmap.data as Uint8ClampedArray;
    for (let y = 10; y < 50; y++) data[y * 60 + 26] = 200; // ink 0.22: below the component threshold
    expect(inkBox(inkMap(bitmap))).toEqual({ x0: 20, y0: 10, x1: 27, y1: 50 });
  });

  it('finds the extent of all ink, faint edges and specks included; none on blank paper', () => {
    const bitmap = canvas(100, 80, [
      [30, 20, 10, 30],
      [90, 70, 2, 2],
    ]);
    (bitmap.data as Uint8ClampedArray)[19 * 100 + 5] = 230; // faint ink (0.1) up and left
    expect(inkExtent(bitmap)).toEqual({ x0: 5, y0: 19, x1: 92, y1: 72 });
    expect(inkExtent(canvas(50, 50, []))).toBeNull();
    (bitmap.data as Uint8ClampedArray)[19 * 100 + 5] = 240; // under the ink floor: paper
    expect(inkExtent(bitmap)).toEqual({ x0: 30, y0: 20, x1: 92, y1: 72 });
  });

  it('gives exactly what the whole bitmap would: cropping to the ink extent changes nothing', () => {
    const random = (seed: number) => () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const next = random(7);
    // Widths that are and are not a multiple of four (blank paper is skipped a word at a time).
    for (const [width, height] of [
      [120, 90],
      [117, 61],
    ]) {
      for (let trial = 0; trial < 20; trial++) {
        // Strokes, specks and anti-aliased grey anywhere, edges of the canvas included.
        const bitmap = canvas(width, height, []);
        const data = bitmap.data as Uint8ClampedArray;
        for (let k = 0; k < 6; k++) {
          const [x, y] = [Math.floor(next() * (width - 10)), Math.floor(next() * (height - 10))];
          const [w, h] = [1 + Math.floor(next() * 30), 1 + Math.floor(next() * 30)];
          const gray = Math.floor(next() * 256);
          for (let yy = y; yy < Math.min(height, y + h); yy++)
            for (let xx = x; xx < Math.min(width, x + w); xx++) data[yy * width + xx] = gray;
        }
        // Grey covering whole cells may be taken for paper in shadow: made plain first.
        const whole = normalizeInk(inkMap(flattenPaper(bitmap)));
        expect(preprocess(bitmap)?.data).toEqual(whole?.data);
        // The same as MNIST's white on black, as 8-bit and as plain numbers.
        const light = { ...bitmap, data: data.map((v) => 255 - v) };
        expect(preprocess(light, 'light')?.data).toEqual(whole?.data);
        expect(preprocess({ ...light, data: Array.from(light.data) }, 'light')?.data).toEqual(
          whole?.data,
        );
      }
    }
  });

  it('reads light ink on dark (MNIST) the same as dark ink on light', () => {
    const dark = canvas(60, 60, [[20, 10, 6, 40]]);
    const light: GrayBitmap = { ...dark, data: Array.from(dark.data, (v) => 255 - v) };
    expect(preprocess(light, 'light')!.data).toEqual(preprocess(dark, 'dark')!.data);
  });

  it('rejects a bitmap whose data does not match its size', () => {
    expect(() => preprocess({ width: 10, height: 10, data: new Uint8Array(99) })).toThrow(
      /needs 100 values, got 99/,
    );
    expect(() => preprocess({ width: 0, height: 10, data: new Uint8Array(0) })).toThrow(RangeError);
  });
});

/** Print left out of the writing: a check's pattern, ruled lines and borders (print.ts). */
import { describe, expect, it } from 'vitest';
import { flattenPaper } from '../../src/core/paper.ts';
import { dropPrint, dropRules, otsuThreshold } from '../../src/core/print.ts';
import type { GrayBitmap } from '../../src/core/preprocess.ts';
import { Random } from '../../src/core/random.ts';

const W = 180;
const H = 50;

/** Security paper: paper 215 ±10 of grain, a wavy pattern of grey lines (150) across it. */
function checkPaper(seed = 1): Uint8ClampedArray {
  const rng = new Random(seed);
  const data = new Uint8ClampedArray(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const wave = Math.sin((y + 3 * Math.sin(x / 9)) / 1.6);
      data[y * W + x] = wave > 0.7 ? 150 + rng.int(20) : 205 + rng.int(20);
    }
  return data;
}

/** Pen strokes (ink 30) as boxes: each [x0, y0, x1, y1]. */
function write(data: Uint8ClampedArray, boxes: number[][], level = 30): void {
  for (const [x0, y0, x1, y1] of boxes)
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * W + x] = level;
}

const DIGITS = [
  [20, 10, 24, 40], // a 1
  [50, 10, 70, 13], // a 7: its bar and its stem
  [66, 10, 70, 40],
  [100, 10, 104, 40], // a 0 as a box of strokes
  [100, 10, 120, 14],
  [116, 10, 120, 40],
  [100, 36, 120, 40],
];

const at = (b: GrayBitmap, x: number, y: number) => b.data[y * b.width + x];
const darkPixels = (b: GrayBitmap) => Array.from(b.data).filter((v) => v < 128).length;

describe('otsuThreshold', () => {
  it('splits two classes between them', () => {
    const histogram = new Float64Array(256);
    histogram[20] = 500;
    histogram[30] = 300;
    histogram[200] = 100;
    histogram[210] = 80;
    const t = otsuThreshold(histogram);
    expect(t).toBeGreaterThanOrEqual(30);
    expect(t).toBeLessThan(200);
  });
});

describe('dropPrint', () => {
  it("leaves a check's pattern out and keeps the writing at full strength", () => {
    const data = checkPaper();
    write(data, DIGITS);
    const clean = dropPrint(flattenPaper({ width: W, height: H, data }));
    // The pattern (lighter than the pen) is gone: every pixel away from the strokes is paper.
    let stray = 0;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const nearInk = DIGITS.some(
          ([x0, y0, x1, y1]) => x >= x0 - 1 && x <= x1 && y >= y0 - 1 && y <= y1,
        );
        if (!nearInk && at(clean, x, y) < 200) stray++;
      }
    expect(stray).toBe(0);
    expect(at(clean, 22, 25)).toBeLessThan(30);
    expect(at(clean, 60, 11)).toBeLessThan(30);
  });

  it('finds nothing written on a blank grey sheet lit unevenly', () => {
    const data = new Uint8ClampedArray(W * H);
    for (let i = 0; i < W * H; i++)
      data[i] = 150 + Math.round((80 * (i % W)) / W) + ((i * 7919) % 5);
    const clean = flattenPaper({ width: W, height: H, data });
    expect(darkPixels(clean)).toBe(0);
    expect(Math.min(...Array.from(clean.data))).toBe(255);
  });

  it('is applied by flattenPaper to paper that was not plain, never to a canvas', () => {
    const data = checkPaper(2);
    write(data, DIGITS);
    const flat = flattenPaper({ width: W, height: H, data });
    expect(darkPixels(flat)).toBe(darkPixels(dropPrint(flat)));
    const canvas = new Uint8ClampedArray(W * H).fill(255);
    write(canvas, DIGITS, 140); // a light pen on white stays as drawn
    const same = flattenPaper({ width: W, height: H, data: canvas });
    expect(Array.from(same.data)).toEqual(Array.from(canvas));
  });
});

describe('dropRules', () => {
  it('leaves out an underline, keeping the strokes written through it', () => {
    const data = new Uint8ClampedArray(W * H).fill(255);
    write(data, [[2, 44, 178, 46]]); // the field's line
    write(data, [[140, 20, 144, 49]]); // a 1 whose foot crosses it
    write(data, DIGITS);
    const clean = dropRules({ width: W, height: H, data });
    expect(at(clean, 90, 45)).toBe(255);
    expect(at(clean, 10, 44)).toBe(255);
    expect(at(clean, 142, 45)).toBe(30);
    for (const [x0, y0] of DIGITS) expect(at(clean, x0 + 1, y0 + 1)).toBe(30);
  });

  it("leaves out a field's border at an edge, never a tall 1 inside the field", () => {
    const data = new Uint8ClampedArray(W * H).fill(255);
    write(data, [[1, 0, 3, 50]]); // the box's left side
    write(data, [[80, 1, 84, 49]]); // a 1 as tall as the field
    const clean = dropRules({ width: W, height: H, data });
    expect(at(clean, 2, 25)).toBe(255);
    expect(at(clean, 82, 25)).toBe(30);
  });

  it('keeps a dash, which runs across a small part of the field', () => {
    const data = new Uint8ClampedArray(W * H).fill(255);
    write(data, [[150, 24, 175, 27], ...DIGITS]);
    expect(Array.from(dropRules({ width: W, height: H, data }).data)).toEqual(Array.from(data));
  });
});

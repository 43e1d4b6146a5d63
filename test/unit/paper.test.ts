/** Paper that is not white (a photo, a scan) is made white before preprocessing. */
import { describe, expect, it } from 'vitest';
import { flattenPaper } from '../../src/core/paper.ts';
import { preprocess, type GrayBitmap } from '../../src/core/preprocess.ts';

/** A page lit from one corner (paper from `dim` to `bright`), with dark rectangles of `ink`. */
function page(
  size: number,
  dim: number,
  bright: number,
  ink: number,
  rects: [number, number, number, number][],
): GrayBitmap {
  const data = new Uint8ClampedArray(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      data[y * size + x] = dim + ((bright - dim) * (x + y)) / (2 * size);
  for (const [x0, y0, w, h] of rects)
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * size + x] = ink;
  return { width: size, height: size, data };
}

const SEVEN: [number, number, number, number][] = [
  [80, 70, 120, 16],
  [170, 70, 16, 150],
];

describe('flattenPaper', () => {
  it('leaves a drawing on white as it is', () => {
    const white = page(280, 255, 255, 0, SEVEN);
    expect(flattenPaper(white)).toBe(white);
  });

  it('makes grey, unevenly lit paper white and keeps the ink dark', () => {
    const flat = flattenPaper(page(280, 120, 220, 40, SEVEN));
    const at = (x: number, y: number) => flat.data[y * 280 + x];
    for (const [x, y] of [
      [5, 5],
      [270, 270],
      [40, 200],
      [240, 30],
    ])
      expect(at(x, y), `paper at ${x},${y}`).toBeGreaterThanOrEqual(240);
    expect(at(120, 78)).toBeLessThanOrEqual(90);
    expect(at(178, 200)).toBeLessThanOrEqual(90);
  });

  it('makes a blackboard black under light ink, and leaves MNIST-style black alone', () => {
    const board = page(280, 120, 220, 40, SEVEN);
    const chalk = { ...board, data: Uint8ClampedArray.from(board.data, (v) => 255 - v) };
    const flat = flattenPaper(chalk, 'light');
    expect(flat.data[5 * 280 + 5]).toBeLessThanOrEqual(15);
    expect(flat.data[78 * 280 + 120]).toBeGreaterThanOrEqual(165);
    const white = page(280, 255, 255, 0, SEVEN);
    const mnist = { ...white, data: Uint8ClampedArray.from(white.data, (v) => 255 - v) };
    expect(flattenPaper(mnist, 'light')).toBe(mnist);
  });

  it('does not take a stroke thick enough to fill a cell for paper', () => {
    // Cells are 25 px on a 400 px page; the band is 60 px wide.
    const flat = flattenPaper(page(400, 150, 200, 30, [[170, 20, 60, 360]]));
    expect(flat.data[200 * 400 + 200]).toBeLessThanOrEqual(60);
  });

  it('prepares a photographed digit as the same digit drawn on white', () => {
    const onWhite = preprocess(page(280, 255, 255, 0, SEVEN))!;
    const photo = preprocess(page(280, 110, 215, 50, SEVEN))!;
    const meanDiff = photo.data.reduce((sum, v, i) => sum + Math.abs(v - onWhite.data[i]), 0) / 784;
    expect(meanDiff).toBeLessThan(0.05);
  });
});

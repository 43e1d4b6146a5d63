/** The lines of writing on a page (text-lines.ts) and a page made ready line by line. */
import { describe, expect, it } from 'vitest';
import type { GrayImage } from '../../src/core/image.ts';
import { MAX_LINES, prepareLines } from '../../src/core/line-reading.ts';
import { rowsOf, textLines } from '../../src/core/text-lines.ts';

/** A 200-wide map with ink in the given boxes [x0, y0, x1, y1). */
function map(height: number, boxes: number[][]): GrayImage {
  const data = new Float32Array(200 * height);
  for (const [x0, y0, x1, y1] of boxes)
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * 200 + x] = 1;
  return { width: 200, height, data };
}

describe('textLines', () => {
  it('finds lines apart by empty rows, top to bottom', () => {
    const page = map(200, [
      [10, 10, 60, 50],
      [80, 12, 120, 48],
      [10, 90, 150, 130],
      [20, 160, 40, 190],
    ]);
    expect(textLines(page)).toEqual([
      { from: 10, to: 49 },
      { from: 90, to: 129 },
      { from: 160, to: 189 },
    ]);
  });

  it("keeps a line's lone marks with it: a dot below, a dash above", () => {
    const page = map(200, [
      [10, 20, 100, 60], // the digits
      [105, 64, 109, 68], // a dot just below their baseline
      [10, 110, 100, 150], // the next line
      [110, 100, 140, 103], // a dash nearer to it than to the first
    ]);
    expect(textLines(page)).toEqual([
      { from: 20, to: 67 },
      { from: 100, to: 149 },
    ]);
  });

  it('finds no line on an empty map, and cuts a band out as a map of its own', () => {
    expect(textLines(map(20, []))).toEqual([]);
    const page = map(40, [[0, 10, 200, 20]]);
    const band = rowsOf(page, { from: 5, to: 14 });
    expect([band.width, band.height]).toEqual([200, 10]);
    expect(band.data[4 * 200]).toBe(0);
    expect(band.data[5 * 200]).toBe(1);
  });
});

describe('prepareLines', () => {
  const white = (w: number, h: number) => new Uint8ClampedArray(w * h).fill(255);

  it("places each line's strip where its rows are in the image", () => {
    const data = white(120, 100);
    for (const y0 of [10, 60])
      for (let y = y0; y < y0 + 25; y++) for (let x = 30; x < 36; x++) data[y * 120 + x] = 0;
    const lines = prepareLines({ width: 120, height: 100, data });
    expect(lines.map((l) => l.offsetY + l.strip.ink.y0)).toEqual([10, 60]);
    expect(lines.every((l) => l.offsetX + l.strip.ink.x0 === 30)).toBe(true);
    expect(prepareLines({ width: 10, height: 10, data: white(10, 10) })).toEqual([]);
  });

  it('refuses a page of more lines than MAX_LINES', () => {
    const rows = MAX_LINES + 1;
    const data = white(40, rows * 6);
    for (let k = 0; k < rows; k++)
      for (let y = k * 6; y < k * 6 + 3; y++) for (let x = 5; x < 30; x++) data[y * 40 + x] = 0;
    expect(() => prepareLines({ width: 40, height: rows * 6, data })).toThrow(/lines of writing/);
  });
});

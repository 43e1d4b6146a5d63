/** Numbers made of scanned digits for the line model's training (image-numbers.ts). */
import { describe, expect, it } from 'vitest';
import type { GrayImage } from '../../src/core/image.ts';
import type { DigitSet } from '../../src/data/mnist.ts';
import {
  composeImages,
  croppedDigit,
  imageDigits,
  resizeBilinear,
  strokesAsImage,
} from '../../src/training/image-numbers.ts';

/** A set of two 28x28 images: a bar at rows 5-9, columns 10-13 (label 1), and a blank (label 7). */
function tinySet(): DigitSet {
  const images = new Uint8Array(2 * 28 * 28);
  for (let y = 5; y < 10; y++) for (let x = 10; x < 14; x++) images[y * 28 + x] = 255;
  images[7 * 28 + 11] = 128;
  return { images, labels: Uint8Array.from([1, 7]), count: 2 };
}

const sum = (img: GrayImage) => img.data.reduce((s, v) => s + v, 0);

describe('scanned digits laid out as numbers', () => {
  it('finds images by label and crops each to its ink', () => {
    const digits = imageDigits(tinySet());
    expect(digits.byLabel[1]).toEqual([0]);
    expect(digits.byLabel[7]).toEqual([1]);
    const crop = croppedDigit(digits.set, 0);
    expect([crop.width, crop.height]).toEqual([4, 5]);
    expect(crop.data[2 * 4 + 1]).toBeCloseTo(128 / 255);
    expect(sum(crop)).toBeCloseTo(19 + 128 / 255);
    // An image without ink is one empty pixel, not a crash.
    expect(croppedDigit(digits.set, 1).width).toBe(1);
  });

  it('resizes without moving or losing the ink', () => {
    const flat: GrayImage = { width: 3, height: 2, data: new Float32Array(6).fill(0.5) };
    const big = resizeBilinear(flat, 9, 6);
    expect([big.width, big.height]).toEqual([9, 6]);
    expect(big.data.every((v) => Math.abs(v - 0.5) < 1e-6)).toBe(true);
    const dot: GrayImage = { width: 2, height: 1, data: Float32Array.from([1, 0]) };
    const wide = resizeBilinear(dot, 8, 1);
    expect(wide.data[0]).toBe(1);
    expect(wide.data[7]).toBe(0);
  });

  it('draws strokes at the height asked for, cropped with a margin for the pen', () => {
    const img = strokesAsImage(
      [
        [
          { x: 0, y: 0 },
          { x: 0, y: 10 },
        ],
      ],
      20,
      3,
    );
    // 20 px of line and a pen of 3: ink on 23 rows at most, inside a 2 px margin on each side.
    let rows = 0;
    for (let y = 0; y < img.height; y++)
      if (img.data.subarray(y * img.width, (y + 1) * img.width).some((v) => v > 0.5)) rows++;
    expect(rows).toBeGreaterThanOrEqual(20);
    expect(rows).toBeLessThanOrEqual(23);
  });

  it('composes glyphs side by side, keeping the darker ink where they overlap', () => {
    const block = (v: number): GrayImage => ({
      width: 4,
      height: 4,
      data: new Float32Array(16).fill(v),
    });
    const map = composeImages([
      { image: block(0.5), left: 0, bottom: 10, slant: 0 },
      { image: block(1), left: 2, bottom: 10, slant: 0 },
    ]);
    // 6 columns of ink in a 4 px margin, 4 rows.
    expect([map.width, map.height]).toEqual([14, 12]);
    const row = Array.from(map.data.subarray(5 * map.width, 6 * map.width));
    expect(row.slice(4, 10)).toEqual([0.5, 0.5, 1, 1, 1, 1]);
    expect(sum(map)).toBeCloseTo(4 * (2 * 0.5 + 4));
  });

  it('leans a slanted glyph to the right at its top', () => {
    const bar: GrayImage = { width: 1, height: 10, data: new Float32Array(10).fill(1) };
    const map = composeImages([{ image: bar, left: 0, bottom: 0, slant: 0.5 }]);
    const columnOf = (row: number) =>
      Array.from(map.data.subarray(row * map.width, (row + 1) * map.width)).findIndex((v) => v > 0);
    // The top row is 5 columns right of the bottom one.
    expect(columnOf(4) - columnOf(13)).toBe(4);
  });
});

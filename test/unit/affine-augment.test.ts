import { describe, expect, it } from 'vitest';
import { affine } from '../../src/core/affine.ts';
import { augment, elastic, thickness } from '../../src/core/augment.ts';
import { blankImage, type GrayImage } from '../../src/core/image.ts';
import { Random } from '../../src/core/random.ts';
import { VARIANTS, variantBatch } from '../../src/core/variants.ts';
import { AUGMENT } from '../../src/training/config.ts';

function bar(): GrayImage {
  const img = blankImage(28, 28);
  for (let y = 4; y < 24; y++) for (let x = 13; x < 15; x++) img.data[y * 28 + x] = 1;
  return img;
}
const mass = (img: GrayImage) => img.data.reduce((a, b) => a + b, 0);
const at = (img: GrayImage, x: number, y: number) => img.data[y * img.width + x];

describe('affine', () => {
  it('the identity copies', () => {
    const img = bar();
    const out = affine(img, {});
    expect(out.data).toEqual(img.data);
    expect(out.data).not.toBe(img.data);
  });

  it('shifts by whole pixels exactly', () => {
    const out = affine(bar(), { dx: 3, dy: -2 });
    expect(at(out, 16, 2)).toBe(1);
    expect(at(out, 13, 10)).toBe(0);
  });

  it('a 90 degree rotation turns a vertical bar horizontal', () => {
    const out = affine(bar(), { rotate: 90 });
    expect(at(out, 6, 13)).toBeCloseTo(1);
    expect(at(out, 13, 6)).toBeCloseTo(0);
  });

  it('scaling changes the ink mass by about the area factor', () => {
    expect(mass(affine(bar(), { scale: 0.5 })) / mass(bar())).toBeCloseTo(0.25, 1);
  });
});

describe('augmentation', () => {
  it('thickness grows and thins strokes', () => {
    expect(mass(thickness(bar(), 1))).toBeGreaterThan(mass(bar()) * 1.5);
    expect(mass(thickness(bar(), -1))).toBeLessThan(mass(bar()) * 0.5);
  });

  it('elastic moves ink but keeps most of it', () => {
    const out = elastic(bar(), new Random(1), 2, 3);
    expect(out.data).not.toEqual(bar().data);
    expect(mass(out) / mass(bar())).toBeGreaterThan(0.8);
  });

  it('is reproducible from the seed and differs between seeds', () => {
    const a = augment(bar(), new Random(7), AUGMENT);
    expect(augment(bar(), new Random(7), AUGMENT).data).toEqual(a.data);
    expect(augment(bar(), new Random(8), AUGMENT).data).not.toEqual(a.data);
  });
});

describe('Random', () => {
  it('is uniform enough and shuffles into a permutation', () => {
    const r = new Random(3);
    const xs = Array.from({ length: 10000 }, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((a, b) => a + b) / xs.length).toBeCloseTo(0.5, 1);
    expect(r.shuffle([...Array(50).keys()]).sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
  });
});

describe('variants', () => {
  it('are 10 fixed transforms, the first the input itself', () => {
    expect(VARIANTS).toHaveLength(10);
    const batch = variantBatch(bar());
    expect(batch.length).toBe(10 * 784);
    expect(batch.subarray(0, 784)).toEqual(bar().data);
    expect(variantBatch(bar())).toEqual(batch);
  });
});

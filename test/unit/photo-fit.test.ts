/** The sizes of a photo the page reads (src/web/photo-fit.ts). */
import { describe, expect, it } from 'vitest';
import {
  fitWithin,
  MAX_PHOTO_PIXELS,
  MAX_PHOTO_SIDE,
  sizeProblem,
} from '../../src/web/photo-fit.ts';

describe('fitWithin', () => {
  it("scales a phone's photo down to the longest side allowed, keeping its shape", () => {
    expect(fitWithin({ width: 4032, height: 3024 })).toEqual({ width: 1600, height: 1200 });
    expect(fitWithin({ width: 3024, height: 4032 })).toEqual({ width: 1200, height: 1600 });
    expect(MAX_PHOTO_SIDE).toBe(1600);
  });

  it('never scales up: a small scan is read at its own size', () => {
    expect(fitWithin({ width: 640, height: 200 })).toEqual({ width: 640, height: 200 });
    expect(fitWithin({ width: 1600, height: 10 })).toEqual({ width: 1600, height: 10 });
  });

  it('keeps a very long, thin strip at least one pixel high', () => {
    expect(fitWithin({ width: 20000, height: 3 })).toEqual({ width: 1600, height: 1 });
  });

  it('takes another limit', () => {
    expect(fitWithin({ width: 1000, height: 500 }, 100)).toEqual({ width: 100, height: 50 });
  });
});

describe('sizeProblem', () => {
  it('lets a phone photo through', () => {
    expect(sizeProblem({ width: 8000, height: 6000 })).toBeNull();
  });

  it('refuses an image too large to decode, saying how large it is', () => {
    const problem = sizeProblem({ width: 20000, height: 20000 });
    expect(problem).toMatch(/20000×20000 \(400 megapixels\), too large/);
    expect(problem).toContain(`${MAX_PHOTO_PIXELS / 1e6} megapixels`);
  });

  it('refuses an image with no pixels', () => {
    expect(sizeProblem({ width: 0, height: 10 })).toMatch(/no pixels/);
  });
});

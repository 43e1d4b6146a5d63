/**
 * A drawing as a photo or a scan of paper would show it: grey paper, lit more on one side
 * than the other, grain, and grey ink. For measuring how the pipeline reads such images
 * (`npm run eval:paper`); the drawing's own pixels give where the ink is.
 */
import type { GrayBitmap } from '../core/preprocess.ts';
import type { Random } from '../core/random.ts';

export interface Paper {
  /** The paper's grey level at the middle of the image. */
  readonly paper: number;
  /** How much lighter one side is than the other (the light's direction is random). */
  readonly light: number;
  readonly ink: number;
  /** Grain: each pixel is off by up to this, at random. */
  readonly grain: number;
}

export function photographed(drawing: GrayBitmap, paper: Paper, rng: Random): GrayBitmap {
  const { width: w, height: h, data } = drawing;
  const out = new Uint8ClampedArray(w * h);
  const angle = rng.next() * 2 * Math.PI;
  const [cx, cy] = [Math.cos(angle), Math.sin(angle)];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const lit = paper.paper + paper.light * ((x / w - 0.5) * cx + (y / h - 0.5) * cy);
      const cover = 1 - data[y * w + x] / 255;
      out[y * w + x] = lit * (1 - cover) + paper.ink * cover + paper.grain * (2 * rng.next() - 1);
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * Training-time augmentation of 28x28 digits: random affine (rotation, zoom, aspect, shear,
 * shift), elastic distortion and stroke thickness. People draw with thin and fat pens,
 * slanted and squeezed; MNIST alone covers little of that.
 */
import { affine, type AffineParams } from './affine.ts';
import { blankImage, sampleBilinear, type GrayImage } from './image.ts';
import type { Random } from './random.ts';

export interface AugmentConfig {
  readonly rotate: number; // max degrees either way
  readonly scale: [number, number];
  readonly aspect: [number, number];
  readonly shear: number;
  readonly shift: number; // max pixels either way
  readonly elasticProbability: number;
  readonly elasticAlpha: number; // largest displacement, pixels
  readonly elasticGrid: number; // cells of the coarse displacement lattice per side
  readonly thicknessProbability: number;
}

export function randomAffine(rng: Random, cfg: AugmentConfig): AffineParams {
  return {
    rotate: rng.uniform(-cfg.rotate, cfg.rotate),
    scale: rng.uniform(cfg.scale[0], cfg.scale[1]),
    aspect: rng.uniform(cfg.aspect[0], cfg.aspect[1]),
    shear: rng.uniform(-cfg.shear, cfg.shear),
    dx: rng.uniform(-cfg.shift, cfg.shift),
    dy: rng.uniform(-cfg.shift, cfg.shift),
  };
}

/**
 * Elastic distortion (after Simard et al., 2003): a smooth random displacement field, made
 * by bilinearly interpolating random displacements on a coarse `grid` x `grid` lattice,
 * which is smooth by construction and far cheaper than blurring per-pixel noise.
 */
export function elastic(img: GrayImage, rng: Random, alpha: number, grid: number): GrayImage {
  const { width: w, height: h } = img;
  const n = grid + 1;
  const gx = new Float32Array(n * n);
  const gy = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) {
    gx[i] = rng.uniform(-alpha, alpha);
    gy[i] = rng.uniform(-alpha, alpha);
  }
  const out = blankImage(w, h);
  for (let y = 0; y < h; y++) {
    const v = (y / (h - 1)) * grid;
    const r = Math.min(Math.floor(v), grid - 1);
    const fy = v - r;
    for (let x = 0; x < w; x++) {
      const u = (x / (w - 1)) * grid;
      const c = Math.min(Math.floor(u), grid - 1);
      const fx = u - c;
      const i = r * n + c;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const dx = gx[i] * w00 + gx[i + 1] * w01 + gx[i + n] * w10 + gx[i + n + 1] * w11;
      const dy = gy[i] * w00 + gy[i + 1] * w01 + gy[i + n] * w10 + gy[i + n + 1] * w11;
      out.data[y * w + x] = sampleBilinear(img, x + dx, y + dy);
    }
  }
  return out;
}

/**
 * Grey-level dilation (amount > 0) or erosion (amount < 0) with a 3x3 cross, blended by
 * |amount| so that strokes get a continuous range of widths.
 */
export function thickness(img: GrayImage, amount: number): GrayImage {
  const { width: w, height: h, data } = img;
  const out = blankImage(w, h);
  const t = Math.min(Math.abs(amount), 1);
  // Off the image is background: it never wins a dilation and always wins an erosion.
  const grow = amount > 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const c = data[i];
      const l = x > 0 ? data[i - 1] : 0;
      const r = x < w - 1 ? data[i + 1] : 0;
      const u = y > 0 ? data[i - w] : 0;
      const d = y < h - 1 ? data[i + w] : 0;
      const v = grow ? Math.max(c, l, r, u, d) : Math.min(c, l, r, u, d);
      out.data[i] = c + (v - c) * t;
    }
  return out;
}

/** One augmented copy of a 28x28 digit (values 0..1). */
export function augment(img: GrayImage, rng: Random, cfg: AugmentConfig): GrayImage {
  let out = img;
  if (rng.next() < cfg.thicknessProbability) out = thickness(out, rng.uniform(-1, 1.6));
  if (rng.next() < cfg.elasticProbability) {
    out = elastic(out, rng, rng.uniform(0, cfg.elasticAlpha), cfg.elasticGrid);
  }
  return affine(out, randomAffine(rng, cfg));
}

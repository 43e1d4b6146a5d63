/**
 * Small affine transforms about the image centre: the shared geometry of training
 * augmentation and of the recognizer's test-time variants.
 */
import { blankImage, sampleBilinear, type GrayImage } from './image.ts';

export interface AffineParams {
  /** Degrees, counter-clockwise as seen on screen. */
  readonly rotate?: number;
  /** Uniform scale; 1 keeps the size. */
  readonly scale?: number;
  /** Extra horizontal scale on top of `scale` (aspect change). */
  readonly aspect?: number;
  /** Horizontal shear factor. */
  readonly shear?: number;
  /** Pixels. */
  readonly dx?: number;
  readonly dy?: number;
}

/** Output-to-input mapping (inverse transform) as a 2x3 matrix [a, b, c, d, e, f]. */
export function inverseMatrix(p: AffineParams, cx: number, cy: number): number[] {
  const theta = ((p.rotate ?? 0) * Math.PI) / 180;
  const sx = (p.scale ?? 1) * (p.aspect ?? 1);
  const sy = p.scale ?? 1;
  const k = p.shear ?? 0;
  // Forward: M = R(theta) * Shear(k) * S(sx, sy). On screen y points down, so a
  // counter-clockwise rotation uses -theta in image coordinates.
  const c = Math.cos(-theta);
  const s = Math.sin(-theta);
  const m00 = c * sx;
  const m01 = c * k * sy - s * sy;
  const m10 = s * sx;
  const m11 = s * k * sy + c * sy;
  const det = m00 * m11 - m01 * m10;
  const i00 = m11 / det;
  const i01 = -m01 / det;
  const i10 = -m10 / det;
  const i11 = m00 / det;
  const tx = cx + (p.dx ?? 0);
  const ty = cy + (p.dy ?? 0);
  // input = inv(M) * (out - t) + centre
  return [i00, i01, cx - i00 * tx - i01 * ty, i10, i11, cy - i10 * tx - i11 * ty];
}

export function isIdentity(p: AffineParams): boolean {
  return (
    (p.rotate ?? 0) === 0 &&
    (p.scale ?? 1) === 1 &&
    (p.aspect ?? 1) === 1 &&
    (p.shear ?? 0) === 0 &&
    (p.dx ?? 0) === 0 &&
    (p.dy ?? 0) === 0
  );
}

/** Warps the image with bilinear sampling; the size stays the same. */
export function affine(img: GrayImage, p: AffineParams): GrayImage {
  if (isIdentity(p)) return { ...img, data: img.data.slice() };
  const { width: w, height: h } = img;
  const [a, b, c, d, e, f] = inverseMatrix(p, (w - 1) / 2, (h - 1) / 2);
  const out = blankImage(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out.data[y * w + x] = sampleBilinear(img, a * x + b * y + c, d * x + e * y + f);
    }
  }
  return out;
}

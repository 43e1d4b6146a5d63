/** A single-channel image: row-major values, ink = high (MNIST's own convention). */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** The network's input side: 28x28, values in 0..1, white ink on black. */
export const MODEL_SIZE = 28;
export const MODEL_PIXELS = MODEL_SIZE * MODEL_SIZE;

export function blankImage(width: number, height: number): GrayImage {
  return { width, height, data: new Float32Array(width * height) };
}

/** Bilinear sample with zero (background) outside the image. Hot in augmentation. */
export function sampleBilinear(img: GrayImage, x: number, y: number): number {
  const { width: w, height: h, data } = img;
  if (x <= -1 || y <= -1 || x >= w || y >= h) return 0;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const i = y0 * w + x0;
  const left = x0 >= 0;
  const right = x0 + 1 < w;
  const v00 = y0 >= 0 && left ? data[i] : 0;
  const v01 = y0 >= 0 && right ? data[i + 1] : 0;
  const v10 = y0 + 1 < h && left ? data[i + w] : 0;
  const v11 = y0 + 1 < h && right ? data[i + w + 1] : 0;
  return (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy;
}

/**
 * A stored byte of a 28x28 (0..255, ink = 255: MNIST's files, the corrections store, its
 * CSV export) as the network's 0..1. Exact, not rounded: the server adapts, and training
 * learns, from exactly the values the network was trained on.
 */
export const unitOfByte = (byte: number): number => byte / 255;

/** Stored bytes of a 28x28 as the network's input (see unitOfByte). */
export const unitsOfBytes = (bytes: ArrayLike<number>): Float32Array =>
  Float32Array.from(bytes, unitOfByte);

/** The network's 0..1 as a byte: rounded to the nearest of 256 levels, clamped to 0..255. */
export const byteOfUnit = (unit: number): number =>
  Math.round(Math.min(1, Math.max(0, unit)) * 255);

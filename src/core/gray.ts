/**
 * RGBA pixels to the grayscale bitmap the recognizer takes: luminance 0.299 R + 0.587 G +
 * 0.114 B, alpha composited over white (a transparent canvas is paper). The server's PNG
 * decoding and the page's in-browser mode both use it, so both see the same drawing.
 */
import type { GrayBitmap } from './preprocess.ts';

/** One pixel's gray, 0..255 (not rounded: a Uint8ClampedArray rounds it on store). */
export function grayOf(r: number, g: number, b: number, alpha: number): number {
  const a = alpha / 255;
  return (0.299 * r + 0.587 * g + 0.114 * b) * a + 255 * (1 - a);
}

export function rgbaToGray(rgba: ArrayLike<number>, width: number, height: number): GrayBitmap {
  const data = new Uint8ClampedArray(width * height);
  for (let i = 0, p = 0; i < data.length; i++, p += 4)
    data[i] = grayOf(rgba[p], rgba[p + 1], rgba[p + 2], rgba[p + 3]);
  return { width, height, data };
}

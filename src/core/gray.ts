/**
 * RGBA pixels to the grayscale bitmap the recognizer takes: luminance 0.299 R + 0.587 G +
 * 0.114 B, alpha composited over white (a transparent canvas is paper). The server's PNG
 * decoding and the page's in-browser mode both use it, so both see the same drawing.
 */
import type { GrayBitmap } from './preprocess.ts';

export function rgbaToGray(rgba: ArrayLike<number>, width: number, height: number): GrayBitmap {
  const data = new Uint8ClampedArray(width * height);
  for (let i = 0, p = 0; i < data.length; i++, p += 4) {
    const a = rgba[p + 3] / 255;
    const lum = 0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2];
    data[i] = lum * a + 255 * (1 - a);
  }
  return { width, height, data };
}

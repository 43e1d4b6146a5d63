/**
 * The sizes of a photo the page reads (pure, unit-tested in test/unit/photo-fit.test.ts): how
 * large it is sent and read, and whether it is too large to open at all.
 */

export interface Size {
  readonly width: number;
  readonly height: number;
}

/**
 * The longest side a photo is read at. A phone's 4000x3000 photo is scaled down to this in
 * the browser before anything is read or sent: the digits of a form or a check stay tens of
 * pixels high, the upload stays small, and the server's 2048x2048 limit is never reached.
 */
export const MAX_PHOTO_SIDE = 1600;

/**
 * Images with more pixels than this are refused before they are decoded: decoding takes 4
 * bytes a pixel, and a small file can claim a huge image (a 20000x20000 PNG of blank paper
 * is 400 kB and would hold 1.6 GB).
 */
export const MAX_PHOTO_PIXELS = 50_000_000;

/** `size` scaled down (never up) so that its longest side is at most `maxSide`, aspect kept. */
export function fitWithin(size: Size, maxSide: number = MAX_PHOTO_SIDE): Size {
  const scale = Math.min(1, maxSide / Math.max(size.width, size.height));
  return {
    width: Math.max(1, Math.round(size.width * scale)),
    height: Math.max(1, Math.round(size.height * scale)),
  };
}

/** Why an image of `size` cannot be opened, or null when it can. */
export function sizeProblem(size: Size): string | null {
  if (!(size.width >= 1 && size.height >= 1)) return 'The image has no pixels.';
  if (size.width * size.height > MAX_PHOTO_PIXELS) {
    const megapixels = Math.round((size.width * size.height) / 1e6);
    return (
      `The image is ${size.width}×${size.height} (${megapixels} megapixels), too large to ` +
      `open here: pick one of at most ${MAX_PHOTO_PIXELS / 1e6} megapixels.`
    );
  }
  return null;
}

/**
 * The cost of a request, known before anything is decoded: how many images it holds, how
 * many pixels each has (from the image's header, or `width` x `height`), and from those an
 * estimate of the inference workers' time it takes. The scheduler shares the workers by this
 * estimate, the admission bounds and the rate limit by work count it, and the limits below
 * refuse what is too large at once.
 */
import { MODEL_PIXELS } from '../core/image.ts';
import { dataUrlHeader, MAX_SIDE } from '../node/decode.ts';
import type { WorkInput, WorkOperation } from './inference-protocol.ts';

/** Largest image, in pixels: MAX_SIDE x MAX_SIDE (422 invalid_image beyond). */
export const MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE;

/**
 * Default limit on the pixels of one batch: 2^30, what 256 images of 2048x2048 hold, so every
 * batch the other limits allow passes by default; `MAX_BATCH_MEGAPIXELS` lowers it (413 beyond).
 */
export const DEFAULT_MAX_BATCH_PIXELS = 2 ** 30;

/**
 * The worker's time per image, measured here (2 cores, docs/benchmarks.md "Fair sharing"):
 * decoding and preprocessing grow with the pixels (a 2048x2048 canvas PNG 38 ms, about
 * 9 ns a pixel; a JPEG about 50 ns a pixel, jpeg-js being plain JavaScript; a `pixels` array
 * 7 ns), and each variant of the forward pass costs about 0.2 ms whatever the size.
 * Estimates only: the scheduler corrects them by the speed it measures.
 */
const FIXED_US = 500;
const VARIANT_US = 200;
const NS_PER_PIXEL = { png: 10, jpg: 50, pixels: 7 } as const;
/**
 * Reading a number (POST /api/read) recognizes each of its digits and, where a cut is in
 * doubt, the candidates: counted as six recognitions, and its segmentation as half again the
 * decoding. A guess, not measured on its own: the pool's measured speed corrects the sum.
 */
const READ_RECOGNITIONS = 6;
const READ_PIXEL_FACTOR = 1.5;

/** One input with what it will cost, ready for the inference pool. */
export interface CostedInput {
  readonly input: WorkInput;
  readonly pixels: number;
  /** Estimated microseconds of a worker's time. */
  readonly cost: number;
}

/** Estimated microseconds of a worker's time for `operation` on an image of `pixels`. */
export function estimateCost(
  kind: keyof typeof NS_PER_PIXEL,
  pixels: number,
  variants: number,
  operation: WorkOperation = 'recognize',
): number {
  const read = operation === 'read';
  const recognitions = read ? READ_RECOGNITIONS : 1;
  const pixelFactor = read ? READ_PIXEL_FACTOR : 1;
  return Math.round(
    FIXED_US +
      VARIANT_US * variants * recognitions +
      (NS_PER_PIXEL[kind] * pixels * pixelFactor) / 1000,
  );
}

/**
 * The cost of one input: the pixels come from an image's header (only its first kilobytes
 * are decoded), so an image that is no PNG or JPEG, or larger than 2048x2048, is refused
 * here (InputError invalid_image) without a worker's time.
 */
export function costOf(input: WorkInput, operation: WorkOperation = 'recognize'): CostedInput {
  const variants = input.ensemble === 'off' ? 1 : 10;
  if (input.kind === 'pixels') {
    const pixels = input.width * input.height;
    return { input, pixels, cost: estimateCost('pixels', pixels, variants, operation) };
  }
  if (input.kind === 'input') {
    // A stored correction's 28x28, already prepared: the forward pass is all it costs.
    return { input, pixels: MODEL_PIXELS, cost: estimateCost('pixels', 0, variants, operation) };
  }
  const header = dataUrlHeader(input.image);
  const pixels = header.width * header.height;
  return { input, pixels, cost: estimateCost(header.type, pixels, variants, operation) };
}

/** The total pixels of a batch, refused (413 by the caller) over `maxPixels`. */
export function batchPixelsError(inputs: readonly CostedInput[], maxPixels: number): string | null {
  const pixels = inputs.reduce((sum, item) => sum + item.pixels, 0);
  if (pixels <= maxPixels) return null;
  const mp = (n: number) => `${(n / 1e6).toFixed(1)} megapixels`;
  return `the batch holds ${mp(pixels)} of images; the largest accepted is ${mp(maxPixels)}: split it or send smaller images`;
}

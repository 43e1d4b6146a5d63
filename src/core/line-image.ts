/**
 * A number's drawing as the line model sees it: the ink cropped, scaled so that its height
 * fills LINE_INK_HEIGHT of a LINE_HEIGHT-pixel strip whatever its width, with empty margins
 * around it. Any width: the model reads columns, and a number is as long as it is written.
 * The same steps as preprocess.ts (paper made plain, specks left out, area-averaged, ink at
 * full strength), so training and every reader prepare a drawing alike.
 */
import { heightOf, widthOf, type Box } from './box.ts';
import type { GrayImage } from './image.ts';
import {
  atFullStrength,
  inkBox,
  inkComponents,
  resampleArea,
  type Component,
} from './preprocess.ts';

/** Rows of the strip the line model reads. */
export const LINE_HEIGHT = 32;
/** Rows the ink's height is scaled to: a margin above and below, as MNIST leaves one. */
export const LINE_INK_HEIGHT = 24;
/** Empty columns before and after the ink, so the first and last digit have a blank beside them. */
export const LINE_MARGIN = 8;
/**
 * The longest ink, in heights, read at full height: longer drawings (a long dash, a wide
 * scribble) are scaled down to fit, which bounds every strip at LINE_MAX_WIDTH columns. Twenty
 * digits written tightly are about 14 heights long.
 */
export const LINE_MAX_ASPECT = 24;
export const LINE_MAX_WIDTH = LINE_INK_HEIGHT * LINE_MAX_ASPECT + 2 * LINE_MARGIN;
/**
 * The model's columns per strip column: its pooling halves the width twice. Strips are made
 * a multiple of it wide so every output column stands for the same pixels.
 */
export const LINE_STRIDE = 4;

export interface LineImage {
  /** LINE_HEIGHT rows, ink = 1. */
  readonly image: GrayImage;
  /** Strip pixels per input pixel. */
  readonly scale: number;
  /** Where the strip's pixel (0, 0) lies in the ink map. */
  readonly originX: number;
  readonly originY: number;
  /** The ink's box in the ink map's pixels (specks left out). */
  readonly ink: Box;
}

/**
 * The strip of an ink map (ink = 1), placed in the map's own pixels; null when it has no ink.
 * `components` are the map's inkComponents when the caller has them already.
 */
export function lineOfInk(
  img: GrayImage,
  components: readonly Component[] = inkComponents(img),
): LineImage | null {
  const box = inkBox(img, components);
  if (!box) return null;
  const [bw, bh] = [widthOf(box), heightOf(box)];
  const scale = LINE_INK_HEIGHT / Math.max(bh, bw / LINE_MAX_ASPECT);
  const w = Math.max(1, Math.round(bw * scale));
  const h = Math.max(1, Math.round(bh * scale));
  const fitted = atFullStrength(resampleArea(img, box, w, h));
  const width = Math.ceil((w + 2 * LINE_MARGIN) / LINE_STRIDE) * LINE_STRIDE;
  const left = Math.floor((width - w) / 2);
  const top = Math.floor((LINE_HEIGHT - h) / 2);
  const data = new Float32Array(width * LINE_HEIGHT);
  for (let y = 0; y < h; y++)
    data.set(fitted.data.subarray(y * w, (y + 1) * w), (top + y) * width + left);
  return {
    image: { width, height: LINE_HEIGHT, data },
    scale,
    originX: box.x0 - left / scale,
    originY: box.y0 - top / scale,
    ink: box,
  };
}

/** Strips padded with empty columns to the widest, as one batch. */
export function padStrips(strips: readonly GrayImage[]): {
  images: Float32Array;
  width: number;
} {
  const width = Math.max(...strips.map((s) => s.width));
  const images = new Float32Array(strips.length * LINE_HEIGHT * width);
  strips.forEach((s, i) => {
    for (let y = 0; y < LINE_HEIGHT; y++)
      images.set(s.data.subarray(y * s.width, (y + 1) * s.width), (i * LINE_HEIGHT + y) * width);
  });
  return { images, width };
}

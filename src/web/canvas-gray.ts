/** A canvas's pixels as the recognizer's gray bitmap: the pad's drawing and a photo alike. */
import { rgbaToGray } from '../core/gray.ts';
import type { GrayBitmap } from '../core/preprocess.ts';

export function canvasGray(ctx: CanvasRenderingContext2D): GrayBitmap {
  const { width, height } = ctx.canvas;
  return rgbaToGray(ctx.getImageData(0, 0, width, height).data, width, height);
}

/** A canvas's pixels (or a rectangle's) as the recognizer's gray bitmap: the pad's drawing and a photo alike. */
import { rgbaToGray } from '../core/gray.ts';
import type { GrayBitmap } from '../core/preprocess.ts';

export function canvasGray(
  ctx: CanvasRenderingContext2D,
  { x, y, width, height } = { x: 0, y: 0, width: ctx.canvas.width, height: ctx.canvas.height },
): GrayBitmap {
  return rgbaToGray(ctx.getImageData(x, y, width, height).data, width, height);
}

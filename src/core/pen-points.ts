/**
 * Points of pen strokes, as the data sets record them and the training draws them, and the
 * box around them: shared by the data loaders, the number composer and stroke augmentation.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** The smallest box holding every point (x0 > x1 when there are none). */
export interface Bounds {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export function boundsOf(strokes: readonly (readonly Point[])[]): Bounds {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const s of strokes)
    for (const p of s) {
      x0 = Math.min(x0, p.x);
      x1 = Math.max(x1, p.x);
      y0 = Math.min(y0, p.y);
      y1 = Math.max(y1, p.y);
    }
  return { x0, y0, x1, y1 };
}

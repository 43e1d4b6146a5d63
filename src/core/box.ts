/** Boxes around ink, in pixels, and what segmentation and preprocessing measure of them. */

export interface Box {
  x0: number;
  y0: number;
  x1: number; // exclusive
  y1: number;
}

export const widthOf = (b: Box) => b.x1 - b.x0;
export const heightOf = (b: Box) => b.y1 - b.y0;

/** How far apart two boxes are (0 when they touch or overlap). */
export function boxGap(a: Box, b: Box): number {
  const dx = Math.max(0, a.x0 - b.x1, b.x0 - a.x1);
  const dy = Math.max(0, a.y0 - b.y1, b.y0 - a.y1);
  return Math.hypot(dx, dy);
}

/** How many columns two boxes share. */
export const overlapX = (a: Box, b: Box) =>
  Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));

export function union(a: Box, b: Box): Box {
  return {
    x0: Math.min(a.x0, b.x0),
    y0: Math.min(a.y0, b.y0),
    x1: Math.max(a.x1, b.x1),
    y1: Math.max(a.y1, b.y1),
  };
}

/**
 * Pen strokes drawn straight into an ink map (ink = 1): round caps and joins, each pixel's
 * ink the part of it the pen covers (one pixel of soft edge), as a canvas anti-aliases. The
 * line model's training draws hundreds of thousands of numbers; a canvas per number, and the
 * copy of its pixels out of native memory, would cost more than the training step.
 */
import type { GrayImage } from '../core/image.ts';
import type { Point } from '../core/pen-points.ts';

/** Draws `strokes` (pixels, y down) with a pen `brush` pixels wide into a new width x height map. */
export function rasterizeStrokes(
  strokes: readonly (readonly Point[])[],
  brush: number,
  width: number,
  height: number,
): GrayImage {
  const data = new Float32Array(width * height);
  const r = Math.max(0.5, brush / 2);
  const segment = (a: Point, b: Point) => {
    const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - r - 1));
    const x1 = Math.min(width - 1, Math.ceil(Math.max(a.x, b.x) + r + 1));
    const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - r - 1));
    const y1 = Math.min(height - 1, Math.ceil(Math.max(a.y, b.y) + r + 1));
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const length2 = dx * dx + dy * dy;
    const outer2 = (r + 0.5) * (r + 0.5);
    const inner2 = r > 0.5 ? (r - 0.5) * (r - 0.5) : -1;
    for (let y = y0; y <= y1; y++) {
      const py = y + 0.5;
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5;
        const t = length2
          ? Math.max(0, Math.min(1, ((px - a.x) * dx + (py - a.y) * dy) / length2))
          : 0;
        const ex = px - (a.x + t * dx);
        const ey = py - (a.y + t * dy);
        const d2 = ex * ex + ey * ey;
        if (d2 >= outer2) continue;
        const i = y * width + x;
        // Inside the pen's core the pixel is covered whole: no square root.
        const v = d2 <= inner2 ? 1 : r + 0.5 - Math.sqrt(d2);
        if (v > data[i]) data[i] = v;
      }
    }
  };
  for (const stroke of strokes) {
    if (stroke.length === 1) segment(stroke[0], stroke[0]);
    for (let i = 1; i < stroke.length; i++) segment(stroke[i - 1], stroke[i]);
  }
  return { width, height, data };
}

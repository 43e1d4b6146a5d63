/**
 * Digits as a person writes them on the pad: strokes as polylines in pad-relative
 * coordinates (0..1, y down), in the order and direction they are usually drawn.
 */
export type Point = readonly [number, number];
export type Stroke = readonly Point[];

/** Points along a circle or ellipse arc, angles in degrees (0 = right, 90 = down). */
function arc(
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  fromDeg: number,
  toDeg: number,
  steps = 24,
): Point[] {
  const out: Point[] = [];
  for (let i = 0; i <= steps; i++) {
    const t = ((fromDeg + ((toDeg - fromDeg) * i) / steps) * Math.PI) / 180;
    out.push([cx + rx * Math.cos(t), cy + ry * Math.sin(t)]);
  }
  return out;
}

export const DIGIT_STROKES: Readonly<Record<number, readonly Stroke[]>> = {
  // An oval, started at the top and drawn anticlockwise, closing where it began.
  0: [arc(0.5, 0.5, 0.19, 0.29, -90, -90 - 370, 40)],
  // One vertical stroke, slightly slanted.
  1: [
    [
      [0.52, 0.2],
      [0.5, 0.5],
      [0.48, 0.8],
    ],
  ],
  // A hook over the top, a diagonal down to the left, a flat base.
  2: [[...arc(0.5, 0.36, 0.17, 0.15, 170, 390, 24), [0.32, 0.78], [0.72, 0.78]]],
  // Two bumps in one stroke.
  3: [[...arc(0.48, 0.33, 0.15, 0.13, 200, 450, 22), ...arc(0.48, 0.62, 0.17, 0.16, -90, 150, 24)]],
  // An open 4: down-left and across, then the upright.
  4: [
    [
      [0.5, 0.2],
      [0.3, 0.6],
      [0.74, 0.6],
    ],
    [
      [0.62, 0.32],
      [0.62, 0.82],
    ],
  ],
  // Down, the belly, then the flag on top as a second stroke.
  5: [
    [[0.38, 0.22], [0.36, 0.48], ...arc(0.5, 0.62, 0.17, 0.16, -140, 150, 26)],
    [
      [0.38, 0.22],
      [0.68, 0.22],
    ],
  ],
  // Down the left side from the top, then round into the loop.
  6: [[[0.62, 0.2], [0.5, 0.28], [0.4, 0.42], ...arc(0.5, 0.64, 0.16, 0.16, 180, -190, 30)]],
  // A bar, then the diagonal down to the left, in one stroke.
  7: [
    [
      [0.3, 0.24],
      [0.7, 0.24],
      [0.46, 0.8],
    ],
  ],
  // From the top, left and down through the middle, round the bottom and back up.
  8: [figureEight(0.5, 0.5, 0.17, 0.3)],
  // The loop anticlockwise from its right side, then the stem straight down.
  9: [[...arc(0.5, 0.36, 0.15, 0.14, 0, -360, 30), [0.62, 0.6], [0.6, 0.82]]],
};

/** A figure eight in one stroke (Gerono's lemniscate), started at the top. */
function figureEight(cx: number, cy: number, a: number, b: number, steps = 48): Point[] {
  const out: Point[] = [];
  for (let i = 0; i <= steps; i++) {
    const t = (2 * Math.PI * i) / steps;
    out.push([cx - a * Math.sin(2 * t), cy - b * Math.cos(t)]);
  }
  return out;
}

export const DIGITS_TO_DRAW = [0, 1, 2, 3, 4, 5, 7] as const;

/** Strokes moved right by `du` (in units of the pad's height): the next digit of a number. */
export function shiftStrokes(strokes: readonly Stroke[], du: number): Stroke[] {
  return strokes.map((s) => s.map(([u, v]) => [u + du, v] as const));
}

/** Strokes scaled by `k` about the point (u, v) of the pad: a digit written small. */
export function scaleStrokes(strokes: readonly Stroke[], k: number, u = 1, v = 0.5): Stroke[] {
  return strokes.map((s) => s.map(([x, y]) => [u + (x - 0.5) * k, v + (y - 0.5) * k] as const));
}

/** The strokes of a number written left to right, `step` pad heights from digit to digit. */
export function numberStrokes(digits: string, step = 0.55): Stroke[] {
  return [...digits].flatMap((d, i) => shiftStrokes(DIGIT_STROKES[Number(d)], i * step - 0.2));
}

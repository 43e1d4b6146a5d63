/**
 * Augmentation of pen strokes, before they are drawn: what image augmentation cannot make.
 * Writers differ in the proportions of a digit's parts (how long the flag of a 1 is, how wide
 * the bar of a 7, how long the tail of a 9) and in where they put a second stroke (the bar of
 * a 4, 5 or 7). An affine warp of the image keeps proportions; these change them:
 *
 * - one part of a stroke, before or after its sharpest corner, is scaled and turned about that
 *   corner (a part is never grown past most of the drawing, which would make another shape);
 * - each stroke of a drawing of several is moved and turned a little on its own;
 * - a 1 may be given another flag, long and flat as many Europeans write it, where corner
 *   scaling only lengthens or turns the short, steep flags most training writers draw.
 *
 * Pure maths on points (no drawing): the training renders what comes out.
 */
import { boundsOf, type Point } from './pen-points.ts';
import type { Random } from './random.ts';

export type { Point } from './pen-points.ts';

export interface StrokeAugmentConfig {
  /** Chance that a drawing has one part scaled about its sharpest corner. */
  readonly cornerProbability: number;
  /** The part's scale, drawn log-uniformly in this range. */
  readonly cornerScale: readonly [number, number];
  /** ... and turned about the corner by up to this many degrees (how steep a 1's flag is). */
  readonly cornerTurn: number;
  /** No part is grown to reach further from its corner than this fraction of the drawing's size. */
  readonly maxArm: number;
  /** A turn of at least this many degrees is a corner (a smooth curve has none). */
  readonly cornerAngle: number;
  /** Each stroke of a drawing of several is moved by up to this fraction of the drawing's size. */
  readonly strokeShift: number;
  /** ... and turned about its centre by up to this many degrees. */
  readonly strokeRotate: number;
  /** Chance that a 1's flag is replaced, or a bare stem given one (withFlag). */
  readonly flagProbability: number;
  /** The flag's length, a fraction of the 1's height, drawn uniformly in this range. */
  readonly flagLength: readonly [number, number];
  /** ... and its slope below the horizontal, in degrees. */
  readonly flagSlope: readonly [number, number];
}

/**
 * Where a stroke turns most sharply, with the turn in degrees, judged `reach` along the stroke
 * on either side (the size of a digit's parts, not of the pen's jitter). Points nearer than
 * `reach / 2` to an end are not corners: a pen's first and last points often hook. Null when
 * no point qualifies.
 */
export function sharpestCorner(
  stroke: readonly Point[],
  reach: number,
): { index: number; angle: number } | null {
  const along = [0];
  for (let i = 1; i < stroke.length; i++)
    along.push(
      along[i - 1] + Math.hypot(stroke[i].x - stroke[i - 1].x, stroke[i].y - stroke[i - 1].y),
    );
  const length = along[along.length - 1];
  let best: { index: number; angle: number } | null = null;
  for (let i = 1; i < stroke.length - 1; i++) {
    if (along[i] < reach / 2 || length - along[i] < reach / 2) continue;
    let before = i - 1;
    while (before > 0 && along[i] - along[before] < reach) before--;
    let after = i + 1;
    while (after < stroke.length - 1 && along[after] - along[i] < reach) after++;
    const p = stroke[i];
    const a = Math.atan2(p.y - stroke[before].y, p.x - stroke[before].x);
    const b = Math.atan2(stroke[after].y - p.y, stroke[after].x - p.x);
    let turn = Math.abs(b - a);
    if (turn > Math.PI) turn = 2 * Math.PI - turn;
    const angle = (turn * 180) / Math.PI;
    if (!best || angle > best.angle) best = { index: i, angle };
  }
  return best;
}

/** Points turned by `radians` and scaled about `centre`, then moved by (dx, dy). */
function about(
  points: readonly Point[],
  centre: Point,
  radians: number,
  scale: number,
  dx: number,
  dy: number,
): Point[] {
  const cos = Math.cos(radians) * scale;
  const sin = Math.sin(radians) * scale;
  return points.map((p) => ({
    x: centre.x + (p.x - centre.x) * cos - (p.y - centre.y) * sin + dx,
    y: centre.y + (p.x - centre.x) * sin + (p.y - centre.y) * cos + dy,
  }));
}

/** How far the farthest of `points` is from `from` (0 for none). */
function reach(points: readonly Point[], from: Point): number {
  return points.reduce((far, p) => Math.max(far, Math.hypot(p.x - from.x, p.y - from.y)), 0);
}

/** A part beyond the top reaching further than this fraction of the height is not a flag. */
const MAX_FLAG = 0.75;
/** Points a flag is drawn with: a straight line, like the pen data's sampling of one. */
const FLAG_POINTS = 8;

/**
 * `strokes` (y up, as in the pen box) as a 1 with a straight flag drawn into the top of the
 * stroke that reaches highest, from below and to the left: `length` times the drawing's height
 * long, `slope` degrees below the horizontal. The stroke's shorter side of its top (the flag
 * the writer drew, if any) is replaced by it. Null when that side reaches further than a flag
 * does: the drawing is not a stem with a flag.
 */
export function withFlag(
  strokes: readonly (readonly Point[])[],
  length: number,
  slope: number,
): Point[][] | null {
  const out = strokes.filter((s) => s.length > 0).map((s) => [...s]);
  if (!out.length) return null;
  const b = boundsOf(out);
  const height = b.y1 - b.y0;
  const s = out.findIndex((stroke) => stroke.some((p) => p.y === b.y1));
  const stroke = out[s];
  const t = stroke.findIndex((p) => p.y === b.y1);
  const top = stroke[t];
  const head = stroke.slice(0, t);
  const tail = stroke.slice(t + 1);
  const [headReach, tailReach] = [reach(head, top), reach(tail, top)];
  const flagFirst = headReach <= tailReach;
  if (Math.min(headReach, tailReach) > MAX_FLAG * height) return null;
  const radians = (slope * Math.PI) / 180;
  const flag = Array.from({ length: FLAG_POINTS }, (_, i) => {
    const along = (1 - i / FLAG_POINTS) * length * height;
    return { x: top.x - along * Math.cos(radians), y: top.y - along * Math.sin(radians) };
  });
  out[s] = flagFirst ? [...flag, top, ...tail] : [...head, top, ...flag.reverse()];
  return out;
}

/**
 * A new drawing made from `strokes`, kept inside the square [0, box] (shrunk about its centre
 * if it grew out of it). Strokes without points are dropped. `label` is the digit drawn: a 1
 * may be given a flag.
 */
export function augmentStrokes(
  strokes: readonly (readonly Point[])[],
  config: StrokeAugmentConfig,
  box: number,
  rng: Random,
  label?: number,
): Point[][] {
  let out = strokes.filter((s) => s.length > 0).map((s) => [...s]);
  if (!out.length) return out;
  if (label === 1 && rng.next() < config.flagProbability) {
    const length = rng.uniform(config.flagLength[0], config.flagLength[1]);
    const slope = rng.uniform(config.flagSlope[0], config.flagSlope[1]);
    out = withFlag(out, length, slope) ?? out;
  }
  const b = boundsOf(out);
  const size = Math.max(b.x1 - b.x0, b.y1 - b.y0, 1e-9);

  if (rng.next() < config.cornerProbability) {
    const sharp = out.flatMap((stroke, s) => {
      const corner = sharpestCorner(stroke, 0.12 * size);
      return corner && corner.angle >= config.cornerAngle ? [{ stroke: s, at: corner.index }] : [];
    });
    if (sharp.length) {
      const { stroke: s, at } = sharp[rng.int(sharp.length)];
      const [low, high] = config.cornerScale;
      const stroke = out[s];
      const corner = stroke[at];
      const head = rng.next() < 0.5;
      const arm = Math.max(reach(head ? stroke.slice(0, at) : stroke.slice(at + 1), corner), 1e-9);
      // A part grown past most of the drawing's size makes another shape (a 1's flag as long
      // as its stem is a caret).
      const scale = Math.min(
        Math.exp(rng.uniform(Math.log(low), Math.log(high))),
        Math.max(1, (config.maxArm * size) / arm),
      );
      const turn = (rng.uniform(-1, 1) * config.cornerTurn * Math.PI) / 180;
      const moved = about(stroke, corner, turn, scale, 0, 0);
      out[s] = stroke.map((p, i) => ((head ? i < at : i > at) ? moved[i] : p));
    }
  }

  if (out.length > 1) {
    out = out.map((s) => {
      const sb = boundsOf([s]);
      const radians = (rng.uniform(-1, 1) * config.strokeRotate * Math.PI) / 180;
      const dx = rng.uniform(-1, 1) * config.strokeShift * size;
      const dy = rng.uniform(-1, 1) * config.strokeShift * size;
      const centre = { x: (sb.x0 + sb.x1) / 2, y: (sb.y0 + sb.y1) / 2 };
      return about(s, centre, radians, 1, dx, dy);
    });
  }

  return insideBox(out, box);
}

/** The drawing shrunk about its centre and moved, only as far as needed to fit in [0, box]. */
function insideBox(strokes: Point[][], box: number): Point[][] {
  const b = boundsOf(strokes);
  const width = b.x1 - b.x0;
  const height = b.y1 - b.y0;
  const shrink = Math.min(1, box / Math.max(width, height, 1e-9));
  const cx = (b.x0 + b.x1) / 2;
  const cy = (b.y0 + b.y1) / 2;
  const halfW = (width * shrink) / 2;
  const halfH = (height * shrink) / 2;
  const nx = Math.min(Math.max(cx, halfW), box - halfW);
  const ny = Math.min(Math.max(cy, halfH), box - halfH);
  if (shrink === 1 && nx === cx && ny === cy) return strokes;
  return strokes.map((s) =>
    s.map((p) => ({ x: nx + (p.x - cx) * shrink, y: ny + (p.y - cy) * shrink })),
  );
}

/**
 * Ones with a long flag, made from the training writers' own ones. The European 1 (a flag
 * down-left from the top of the stem, as long as a third to a half of the stem) was the main
 * error on the pen-digit validation writers (11 of 259 ones read as 7 at brush 16): MNIST's
 * ones are mostly plain sticks, and the training writers' flags are short. A 7 differs in its
 * bar, which runs flatter and longer than such a flag, so the flag's angle and length are
 * kept within what these writers draw.
 */
import type { Random } from '../core/random.ts';
import type { PenPoint, PenStroke } from '../data/pen-text.ts';
import type { PenSample } from './rendered-sets.ts';

/** The flag's length, in heights of the stem. */
const LENGTH: [number, number] = [0.25, 0.55];
/** The flag's angle below the horizontal, in degrees. */
const ANGLE: [number, number] = [20, 50];
/** The stem must fall at least this much of the drawing's height below its top point... */
const STEM = 0.7;
/** ...and be at most this wide for its height (a one leans, but is no bar). */
const LEAN = 0.6;

/**
 * The one with its flag replaced by a long straight one, or null when the drawing is not a
 * stem drawn downwards from its top (y up, as the pen data records).
 */
export function withLongFlag(strokes: readonly PenStroke[], rng: Random): PenStroke[] | null {
  if (strokes.length === 0) return null;
  const ys = strokes.flat().map((p) => p.y);
  const height = Math.max(...ys) - Math.min(...ys);
  if (!(height > 0)) return null;
  // The stem is the stroke holding the highest point, from that point on.
  const s = strokes.findIndex((st) => st.some((p) => p.y === Math.max(...ys)));
  const stroke = strokes[s];
  const top = stroke.findIndex((p) => p.y === Math.max(...ys));
  const stem = stroke.slice(top);
  const fall = stem[0].y - Math.min(...stem.map((p) => p.y));
  const xs = stem.map((p) => p.x);
  if (stem.length < 2 || fall < STEM * height || Math.max(...xs) - Math.min(...xs) > LEAN * fall)
    return null;
  const length = height * rng.uniform(...LENGTH);
  const angle = (rng.uniform(...ANGLE) * Math.PI) / 180;
  const start = {
    x: stem[0].x - length * Math.cos(angle),
    y: stem[0].y - length * Math.sin(angle),
  };
  const flag: PenPoint[] = Array.from({ length: 6 }, (_, i) => ({
    x: start.x + ((stem[0].x - start.x) * i) / 6,
    y: start.y + ((stem[0].y - start.y) * i) / 6,
  }));
  const out = strokes.map((st, i) => (i === s ? [...flag, ...stem] : st));
  // Keep the drawing inside the pen box when the flag reaches past its left edge.
  const shift = Math.max(0, -start.x);
  return shift ? out.map((st) => st.map((p) => ({ x: p.x + shift, y: p.y }))) : out;
}

/** Each training one once more, with a long flag (those that are not a stem are skipped). */
export function longFlagOnes(samples: readonly PenSample[], rng: Random): PenSample[] {
  return samples.flatMap((sample) => {
    if (sample.label !== 1) return [];
    const strokes = withLongFlag(sample.strokes, rng);
    return strokes ? [{ label: 1, strokes }] : [];
  });
}

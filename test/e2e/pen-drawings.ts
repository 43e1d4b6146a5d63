/**
 * Real writers' drawings for `npm run bench:web`: the pen-digits validation writers' digits
 * (src/training/config.ts, PEN_DIGITS.validationWriters), and a 5-digit number composed from
 * one writer's digits (src/data/compose-numbers.ts), as strokes on the pad. The data stays
 * outside the repository (design.md, "Development data"); only the bench reads it, never a test.
 *
 * Strokes are in units of the pad's height from its top-left corner (as digit-strokes.ts), so
 * a number runs to the right beyond 1; each point is a pen sample, with points added on
 * longer segments so no two are more than STEP apart (as a pointer reports them).
 */
import { composeNumber, DigitBank } from '../../src/data/compose-numbers.ts';
import { loadPendigits, PEN_BOX, type PenDigit, type PenStroke } from '../../src/data/pendigits.ts';
import { Random } from '../../src/core/random.ts';
import { PEN_DIGITS } from '../../src/training/config.ts';
import type { Stroke } from './digit-strokes.ts';

/** At most this far between two points (a hundredth of the pad's height: about 4 CSS px). */
const STEP = 0.01;

export interface PenDrawing {
  /** What is written (the digit, or the number's digits). */
  readonly text: string;
  readonly writer: number | string | null;
  readonly strokes: Stroke[];
  /** Points in all, as pointer events. */
  readonly points: number;
}

function densify(stroke: readonly (readonly [number, number])[]): Stroke {
  const out: [number, number][] = [[stroke[0][0], stroke[0][1]]];
  for (let i = 1; i < stroke.length; i++) {
    const [x0, y0] = stroke[i - 1];
    const [x1, y1] = stroke[i];
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / STEP));
    for (let k = 1; k <= steps; k++) {
      out.push([x0 + ((x1 - x0) * k) / steps, y0 + ((y1 - y0) * k) / steps]);
    }
  }
  return out;
}

function drawing(
  text: string,
  writer: PenDigit['writer'] | string,
  strokes: readonly PenStroke[],
  map: (p: { x: number; y: number }) => [number, number],
): PenDrawing {
  const out = strokes.map((s) => densify(s.map(map)));
  return { text, writer, strokes: out, points: out.reduce((n, s) => n + s.length, 0) };
}

/**
 * The bench's drawings: one validation writer's `digit` (the writer's box on the pad's left
 * square, 10% margin) and a 5-digit number by one validation writer, fitted into the pad's
 * height and `padAspect` (width / height), both chosen by `seed`.
 */
export async function penDrawings(
  dir: string | undefined,
  padAspect: number,
  digit = 4,
  seed = 25,
): Promise<{ digit: PenDrawing; number: PenDrawing }> {
  const all = await loadPendigits(dir);
  const validation = all.filter(
    (d) => d.writer !== null && PEN_DIGITS.validationWriters.includes(d.writer),
  );
  const rng = new Random(seed);
  const candidates = validation.filter((d) => d.label === digit);
  const one = candidates[rng.int(candidates.length)];
  // y points up in the writer's box, down on the pad.
  const digitDrawing = drawing(String(digit), one.writer, one.strokes, (p) => [
    0.1 + (0.8 * p.x) / PEN_BOX,
    0.1 + 0.8 * (1 - p.y / PEN_BOX),
  ]);

  const composed = composeNumber(new DigitBank(validation), rng, { kind: 'spaced', length: 5 });
  const scale = Math.min((0.95 * padAspect) / composed.width, 0.95 / composed.height);
  const left = (padAspect - composed.width * scale) / 2;
  const top = (1 - composed.height * scale) / 2;
  const numberDrawing = drawing(composed.text, composed.writer, composed.strokes, (p) => [
    left + p.x * scale,
    top + p.y * scale,
  ]);
  return { digit: digitDrawing, number: numberDrawing };
}

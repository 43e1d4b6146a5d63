/**
 * Numbers composed from real writers' digits, where the truth is known: to measure reading a
 * number (`npm run eval:numbers`, `npm run bench:read`) and to train on the candidate digits
 * segmentation cuts from them (src/training/number-pieces.ts). One writer writes each number, as a
 * person does on a pad: that writer's own digits, each scaled to the writing's height (with
 * the unevenness of real writing, ±15%), placed left to right on a baseline that slopes by up
 * to ±6°, with a pen of 5-12% of the height (the page's brush on its pad).
 *
 * Two kinds: `spaced`, with a gap of 0.1-0.45 of the height between the inks of neighbours,
 * and `tight`, where the inks of neighbours' boxes meet or overlap by up to 15% of the
 * height: most neighbours touch (`touching` says which numbers have ink that does).
 */
import { boundsOf, type Bounds } from '../core/pen-points.ts';
import type { Random } from '../core/random.ts';
import type { DigitBox } from '../core/segment.ts';
import type { PenStroke } from './pendigits.ts';

export type NumberKind = 'spaced' | 'tight';
export const NUMBER_KINDS: readonly NumberKind[] = ['spaced', 'tight'];

/** A digit as written: strokes in the writer's box, y pointing up (as the pen data records). */
export interface WrittenDigit {
  readonly label: number;
  readonly writer: number | string | null;
  readonly strokes: readonly PenStroke[];
}

export interface ComposedNumber {
  readonly text: string;
  readonly kind: NumberKind;
  readonly writer: number | string | null;
  /** Strokes in pixels of a width x height canvas, y pointing down. */
  readonly strokes: PenStroke[];
  readonly width: number;
  readonly height: number;
  readonly brush: number;
  /** Each digit's ink box (its points' box grown by half the brush), in order. */
  readonly boxes: DigitBox[];
  /** Whether the ink of some neighbours touches or crosses. */
  readonly touching: boolean;
}

export interface ComposeOptions {
  readonly kind: NumberKind;
  readonly length: number;
  /**
   * Gaps between neighbours' inks, in heights, instead of the kind's own (spaced 0.1-0.45,
   * tight -0.15-0).
   */
  readonly gap?: readonly [number, number];
  /** A pen of this many pixels, instead of 5-12% of the height. */
  readonly brush?: number;
}

/** The writers' digits, by writer and label, to draw numbers from. */
export class DigitBank {
  private readonly byWriter = new Map<number | string | null, WrittenDigit[][]>();
  readonly writers: (number | string | null)[];

  constructor(digits: readonly WrittenDigit[]) {
    for (const d of digits) {
      let labels = this.byWriter.get(d.writer);
      if (!labels) {
        labels = Array.from({ length: 10 }, () => []);
        this.byWriter.set(d.writer, labels);
      }
      labels[d.label].push(d);
    }
    // Writers with every digit, so any number can be written by one of them.
    this.writers = [...this.byWriter.keys()].filter((w) =>
      this.byWriter.get(w)!.every((l) => l.length > 0),
    );
    if (this.writers.length === 0) throw new Error('no writer has written every digit 0-9');
  }

  pick(rng: Random, writer: number | string | null, label: number): WrittenDigit {
    const samples = this.byWriter.get(writer)![label];
    return samples[rng.int(samples.length)];
  }
}

/** Distance from p to the segment a-b. */
function toSegment(
  p: { x: number; y: number },
  a: { x: number; y: number },
  b: { x: number; y: number },
) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = dx * dx + dy * dy;
  const t = len ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len)) : 0;
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** Whether strokes drawn with `brush` touch: some point within a brush of the other's lines. */
function inksTouch(a: readonly PenStroke[], b: readonly PenStroke[], brush: number): boolean {
  const near = (p: { x: number; y: number }, strokes: readonly PenStroke[]) =>
    strokes.some((s) =>
      s.length === 1
        ? Math.hypot(p.x - s[0].x, p.y - s[0].y) <= brush
        : s.some((q, i) => i > 0 && toSegment(p, s[i - 1], q) <= brush),
    );
  return a.some((s) => s.some((p) => near(p, b))) || b.some((s) => s.some((p) => near(p, a)));
}

/** Lays out one number of `length` digits, all by one writer drawn at random. */
export function composeNumber(
  bank: DigitBank,
  rng: Random,
  options: ComposeOptions,
): ComposedNumber {
  const writer = bank.writers[rng.int(bank.writers.length)];
  let text = '';
  const laid = layOut(rng, options, () => {
    const label = rng.int(10);
    text += String(label);
    return bank.pick(rng, writer, label);
  });
  return { ...laid, text, writer };
}

/**
 * Lays out a word: `marks` (a writer's letters, whatever their labels) left to right, as a
 * number's digits are. Its `text` is empty: there is no digit in it.
 */
export function composeWord(
  marks: readonly WrittenDigit[],
  rng: Random,
  options: Omit<ComposeOptions, 'kind'> & { kind?: NumberKind },
): ComposedNumber {
  const laid = layOut(rng, { kind: 'spaced', ...options }, () => marks[rng.int(marks.length)]);
  return { ...laid, text: '', writer: marks[0]?.writer ?? null };
}

/** Lays out `options.length` glyphs, each drawn by `next` when its turn comes. */
function layOut(
  rng: Random,
  options: ComposeOptions,
  next: () => WrittenDigit,
): Omit<ComposedNumber, 'text' | 'writer'> {
  const { kind } = options;
  const height = rng.uniform(60, 160);
  const brush = options.brush ?? Math.round(height * rng.uniform(0.05, 0.12));
  const [gapLow, gapHigh] = options.gap ?? (kind === 'spaced' ? [0.1, 0.45] : [-0.15, 0]);
  const slope = Math.tan((rng.uniform(-6, 6) * Math.PI) / 180);
  const margin = Math.round(0.4 * height + brush);
  const baseline = margin + height * 1.15;
  let cursor = margin;
  // A narrow digit overlapped by its neighbour may end before it: the canvas holds both.
  let right = margin;
  const placed: PenStroke[][] = [];
  const points: Bounds[] = [];
  for (let i = 0; i < options.length; i++) {
    const digit = next();
    const b = boundsOf(digit.strokes);
    const h = height * rng.uniform(0.85, 1.15);
    const scale = h / Math.max(1, b.y1 - b.y0);
    const w = (b.x1 - b.x0) * scale;
    // The gap between the inks; the points are a brush further apart.
    const gap = i === 0 ? 0 : height * rng.uniform(gapLow, gapHigh) + brush;
    const left = cursor + gap;
    const bottom = baseline + slope * (left - margin) + height * rng.uniform(-0.05, 0.05);
    // y up in the writer's box, down on the canvas.
    placed.push(
      digit.strokes.map((s) =>
        s.map((p) => ({ x: left + (p.x - b.x0) * scale, y: bottom - (p.y - b.y0) * scale })),
      ),
    );
    points.push({ x0: left, x1: left + w, y0: bottom - h, y1: bottom });
    cursor = left + w;
    right = Math.max(right, cursor);
  }
  // Shift everything so the highest point has a margin above it.
  const top = Math.min(...points.map((p) => p.y0));
  const lift = margin - top;
  const strokes = placed.map((digit) =>
    digit.map((s) => s.map((p) => ({ x: p.x, y: p.y + lift }))),
  );
  const r = brush / 2;
  const boxes = points.map((p) => {
    const x = Math.floor(p.x0 - r);
    const y = Math.floor(p.y0 + lift - r);
    return {
      x,
      y,
      width: Math.ceil(p.x1 + r) - x,
      height: Math.ceil(p.y1 + lift + r) - y,
    };
  });
  const touching = strokes.some((s, i) => i > 0 && inksTouch(strokes[i - 1], s, brush));
  return {
    kind,
    strokes: strokes.flat(),
    width: Math.ceil(right + margin),
    height: Math.ceil(Math.max(...points.map((p) => p.y1)) + lift + margin),
    brush,
    boxes,
    touching,
  };
}

/** Edits (insertions, deletions, substitutions) from `read` to `truth`. */
export function editDistance(read: string, truth: string): number {
  let row = Array.from({ length: truth.length + 1 }, (_, j) => j);
  for (let i = 1; i <= read.length; i++) {
    const next = [i];
    for (let j = 1; j <= truth.length; j++) {
      next.push(
        Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (read[i - 1] === truth[j - 1] ? 0 : 1)),
      );
    }
    row = next;
  }
  return row[truth.length];
}

/**
 * Generated drawings that are not digits, for the "not a digit" class beside the UNIPEN
 * letters and symbols: what people put on a pad when they test it or give up. Each kind is
 * made so that it cannot pass for a digit: long wandering scribbles (many times longer than
 * they are wide), scratch-outs (zigzags of many turns), spirals of two or more turns, and
 * crosses, grids and stars of several crossing bars.
 */
import { NOT_A_DIGIT } from '../core/classes.ts';
import type { Random } from '../core/random.ts';
import { PEN_BOX } from '../data/pendigits.ts';
import type { PenPoint } from '../data/pen-text.ts';
import type { PenSample } from './rendered-sets.ts';

type Kind = (rng: Random) => PenPoint[][];

/** A smooth random walk whose heading turns a little at every step. */
const scribble: Kind = (rng) => {
  const strokes: PenPoint[][] = [];
  for (let s = 0, n = 1 + rng.int(3); s < n; s++) {
    let x = rng.uniform(0.3, 0.7);
    let y = rng.uniform(0.3, 0.7);
    let heading = rng.uniform(0, 2 * Math.PI);
    let turn = 0;
    const stroke: PenPoint[] = [];
    for (let i = 0, steps = 60 + rng.int(80); i < steps; i++) {
      turn = 0.8 * turn + rng.normal() * 0.25;
      heading += turn;
      x = Math.min(1, Math.max(0, x + 0.03 * Math.cos(heading)));
      y = Math.min(1, Math.max(0, y + 0.03 * Math.sin(heading)));
      stroke.push({ x, y });
    }
    strokes.push(stroke);
  }
  return strokes;
};

/** Back and forth, as when crossing something out. */
const scratch: Kind = (rng) => {
  const turns = 5 + rng.int(8);
  const stroke: PenPoint[] = [];
  const tilt = rng.uniform(-0.4, 0.4);
  for (let i = 0; i <= turns; i++) {
    const t = i / turns;
    const x = i % 2 === 0 ? rng.uniform(0, 0.15) : rng.uniform(0.85, 1);
    stroke.push({ x, y: t + tilt * (x - 0.5) });
  }
  return [stroke];
};

const spiral: Kind = (rng) => {
  const turns = rng.uniform(2, 4);
  const stroke: PenPoint[] = [];
  const dir = rng.next() < 0.5 ? 1 : -1;
  for (let i = 0, n = Math.round(turns * 24); i <= n; i++) {
    const a = (dir * i * 2 * Math.PI) / 24;
    const r = 0.05 + (0.45 * i) / n;
    stroke.push({ x: 0.5 + r * Math.cos(a), y: 0.5 + r * Math.sin(a) });
  }
  return [stroke];
};

/** Three to six straight bars through the middle, or a grid of crossing bars. */
const bars: Kind = (rng) => {
  const strokes: PenPoint[][] = [];
  if (rng.next() < 0.5) {
    for (let i = 0, n = 3 + rng.int(4); i < n; i++) {
      const a = (Math.PI * i) / n + rng.uniform(-0.15, 0.15);
      const dx = 0.5 * Math.cos(a);
      const dy = 0.5 * Math.sin(a);
      strokes.push([
        { x: 0.5 - dx, y: 0.5 - dy },
        { x: 0.5 + dx, y: 0.5 + dy },
      ]);
    }
  } else {
    for (let i = 0, n = 2 + rng.int(3); i < n; i++) {
      const p = (i + 0.5) / n + rng.uniform(-0.05, 0.05);
      strokes.push([
        { x: p, y: rng.uniform(0, 0.1) },
        { x: p + rng.uniform(-0.1, 0.1), y: rng.uniform(0.9, 1) },
      ]);
      strokes.push([
        { x: rng.uniform(0, 0.1), y: p },
        { x: rng.uniform(0.9, 1), y: p + rng.uniform(-0.1, 0.1) },
      ]);
    }
  }
  return strokes;
};

const KINDS: readonly Kind[] = [scribble, scratch, spiral, bars];

/** `count` drawings of the kinds above, in the pen box at random sizes and places. */
export function scribbles(count: number, rng: Random): PenSample[] {
  const out: PenSample[] = [];
  for (let i = 0; i < count; i++) {
    const unit = KINDS[i % KINDS.length](rng);
    const width = rng.uniform(120, 320);
    const height = width * rng.uniform(0.6, 1.4);
    const x0 = rng.uniform(20, PEN_BOX - 20 - width);
    const y0 = rng.uniform(20, Math.max(21, PEN_BOX - 20 - height));
    const strokes = unit.map((stroke) =>
      stroke.map((p) => ({ x: x0 + p.x * width, y: y0 + p.y * height })),
    );
    out.push({ label: NOT_A_DIGIT, strokes });
  }
  return out;
}

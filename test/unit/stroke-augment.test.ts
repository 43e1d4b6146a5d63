import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.ts';
import {
  augmentStrokes,
  withFlag,
  sharpestCorner,
  type Point,
  type StrokeAugmentConfig,
} from '../../src/core/stroke-augment.ts';

/** A 1 with a flag: up from (200, 300) to the top (250, 400), then straight down to (250, 100). */
const ONE: Point[] = [
  ...Array.from({ length: 6 }, (_, i) => ({ x: 200 + i * 10, y: 300 + i * 20 })),
  ...Array.from({ length: 15 }, (_, i) => ({ x: 250, y: 380 - i * 20 })),
];
const TOP = 5;

const NONE: StrokeAugmentConfig = {
  cornerProbability: 0,
  cornerScale: [1, 1],
  cornerTurn: 0,
  maxArm: 0.7,
  cornerAngle: 50,
  strokeShift: 0,
  strokeRotate: 0,
  flagProbability: 0,
  flagLength: [0.3, 0.3],
  flagSlope: [30, 30],
};

const distance = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);

describe('sharpestCorner', () => {
  it('finds the top of a flagged 1', () => {
    const corner = sharpestCorner(ONE, 36)!;
    expect(corner.index).toBe(TOP);
    expect(corner.angle).toBeGreaterThan(140);
  });

  it('finds no turn on a straight stroke, and does not take a hook at its end for a corner', () => {
    const line = Array.from({ length: 20 }, (_, i) => ({ x: 100, y: 100 + i * 15 }));
    expect(sharpestCorner(line, 36)!.angle).toBeLessThan(1);
    // The pen lands, slips back 9 units, then draws the line: a turn of 150 degrees, too near
    // the end to be a corner (cornerAngle is 50).
    const hooked = [{ x: 105, y: 108 }, ...line];
    expect(sharpestCorner(hooked, 36)!.angle).toBeLessThan(50);
    expect(sharpestCorner(line.slice(0, 2), 36)).toBeNull();
  });
});

describe('withFlag', () => {
  // ONE is 300 high; its top is (250, 400).
  const flagTip = (length: number, slope: number) => ({
    x: 250 - length * 300 * Math.cos((slope * Math.PI) / 180),
    y: 400 - length * 300 * Math.sin((slope * Math.PI) / 180),
  });

  it("replaces a 1's flag by one of the length and slope asked for, and keeps its stem", () => {
    const [out] = withFlag([ONE], 0.5, 30)!;
    const tip = flagTip(0.5, 30);
    expect(out[0].x).toBeCloseTo(tip.x, 6);
    expect(out[0].y).toBeCloseTo(tip.y, 6);
    const top = out.findIndex((p) => p.y === 400);
    expect(out.slice(top)).toEqual(ONE.slice(TOP));
    // Every point of the new flag is on the line from its tip to the top.
    for (const p of out.slice(0, top)) {
      expect(Math.atan2(400 - p.y, 250 - p.x)).toBeCloseTo(Math.PI / 6, 6);
    }
  });

  it('gives a bare stem a flag, whichever way the stem was drawn', () => {
    const stem = ONE.slice(TOP);
    const down = withFlag([stem], 0.3, 45)![0];
    expect(down[0].x).toBeCloseTo(flagTip(0.3, 45).x, 6);
    expect(down.slice(-stem.length)).toEqual(stem);
    const up = withFlag([[...stem].reverse()], 0.3, 45)![0];
    expect(up[up.length - 1].y).toBeCloseTo(flagTip(0.3, 45).y, 6);
    expect(up.slice(0, stem.length)).toEqual([...stem].reverse());
  });

  it('leaves alone a drawing whose top is not the end of a stem', () => {
    const caret = [
      { x: 100, y: 100 },
      { x: 250, y: 400 },
      { x: 400, y: 100 },
    ];
    expect(withFlag([caret], 0.3, 30)).toBeNull();
  });

  it('is what augmentStrokes does to a 1, and only to a 1', () => {
    const config = {
      ...NONE,
      flagProbability: 1,
      flagLength: [0.5, 0.5],
      flagSlope: [30, 30],
    } as const;
    expect(augmentStrokes([ONE], config, 500, new Random(1), 1)).toEqual(withFlag([ONE], 0.5, 30));
    expect(augmentStrokes([ONE], config, 500, new Random(1), 7)).toEqual([ONE]);
  });
});

describe('augmentStrokes', () => {
  it('changes nothing when nothing is asked for, and drops empty strokes', () => {
    const out = augmentStrokes([ONE, []], NONE, 500, new Random(1));
    expect(out).toEqual([ONE]);
  });

  it('scales one arm about the corner and leaves the other as written', () => {
    const grow = { ...NONE, cornerProbability: 1, cornerScale: [1.5, 1.5] as const };
    const seen = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const [out] = augmentStrokes([ONE], grow, 500, new Random(seed));
      expect(out[TOP]).toEqual(ONE[TOP]);
      const flag = distance(out[0], out[TOP]) / distance(ONE[0], ONE[TOP]);
      const stem = distance(out[20], out[TOP]) / distance(ONE[20], ONE[TOP]);
      // The stem is as long as the drawing is tall: past maxArm already, so it is never grown.
      expect(stem).toBeCloseTo(1, 6);
      if (flag !== 1) {
        expect(flag).toBeCloseTo(1.5, 6);
        seen.add('flag');
      } else seen.add('stem');
    }
    expect(seen).toEqual(new Set(['flag', 'stem']));
  });

  it('grows no arm past maxArm of the drawing, and turns it by up to cornerTurn', () => {
    const config = {
      ...NONE,
      cornerProbability: 1,
      cornerScale: [4, 4] as const,
      cornerTurn: 20,
    };
    const size = 300;
    for (let seed = 1; seed <= 20; seed++) {
      const [out] = augmentStrokes([ONE], config, 500, new Random(seed));
      const flag = distance(out[0], out[TOP]);
      expect(flag).toBeLessThanOrEqual(0.7 * size + 1e-6);
      const before = Math.atan2(ONE[0].y - ONE[TOP].y, ONE[0].x - ONE[TOP].x);
      const after = Math.atan2(out[0].y - out[TOP].y, out[0].x - out[TOP].x);
      expect(Math.abs(after - before)).toBeLessThanOrEqual((20 * Math.PI) / 180 + 1e-9);
    }
  });

  it('moves the strokes of a drawing of several apart, and keeps everything inside the box', () => {
    const bar = [
      { x: 150, y: 250 },
      { x: 350, y: 250 },
    ];
    const config = { ...NONE, strokeShift: 0.5, strokeRotate: 30 };
    let moved = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const out = augmentStrokes([ONE, bar], config, 500, new Random(seed));
      expect(out).toHaveLength(2);
      for (const p of out.flat()) {
        expect(p.x).toBeGreaterThanOrEqual(-1e-9);
        expect(p.x).toBeLessThanOrEqual(500 + 1e-9);
        expect(p.y).toBeGreaterThanOrEqual(-1e-9);
        expect(p.y).toBeLessThanOrEqual(500 + 1e-9);
      }
      if (distance(out[1][0], out[0][TOP]) - distance(bar[0], ONE[TOP]) !== 0) moved++;
    }
    expect(moved).toBe(20);
  });

  it('is reproducible from its seed', () => {
    const config = {
      ...NONE,
      cornerProbability: 1,
      cornerScale: [0.5, 2] as const,
      cornerTurn: 20,
    };
    const a = augmentStrokes([ONE], config, 500, new Random(9));
    const b = augmentStrokes([ONE], config, 500, new Random(9));
    const c = augmentStrokes([ONE], config, 500, new Random(10));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});

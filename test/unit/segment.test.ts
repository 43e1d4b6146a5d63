import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { preprocess, type GrayBitmap } from '../../src/core/preprocess.ts';
import {
  bestPath,
  candidateScore,
  doubtfulCandidates,
  firstCandidates,
} from '../../src/core/reading-path.ts';
import {
  SEGMENT,
  segmentNumber,
  type Candidate,
  type DigitBox,
  type Segmentation,
} from '../../src/core/segment.ts';

/** A white canvas (255) with black (0) rectangles [x, y, width, height] on it. */
function canvas(
  width: number,
  height: number,
  rects: [number, number, number, number][],
): GrayBitmap {
  const data = new Uint8ClampedArray(width * height).fill(255);
  for (const [x0, y0, w, h] of rects)
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * width + x] = 0;
  return { width, height, data };
}

/** A hollow rectangle (a square "0") with sides `t` thick. */
function ring(x: number, y: number, w: number, h: number, t: number) {
  return [
    [x, y, w, t],
    [x, y + h - t, w, t],
    [x, y, t, h],
    [x + w - t, y, t, h],
  ] as [number, number, number, number][];
}

const box = (x: number, y: number, width: number, height: number): DigitBox => ({
  x,
  y,
  width,
  height,
});

/** Cuts at least 0.2 heights apart, so the synthetic cases below have few, known pieces. */
const margin20 = { ...SEGMENT, cutMargin: 0.2 };

function find(seg: Segmentation, start: number, end: number): Candidate {
  const c = seg.candidates.find((k) => k.start === start && k.end === end);
  if (!c) throw new Error(`no candidate for pieces ${start}..${end}`);
  return c;
}

/** The boxes of the path that the given candidate scores make best. */
function readBoxes(seg: Segmentation, score: (c: Candidate) => number): DigitBox[] {
  return bestPath(seg, seg.candidates.map(score))!.map((i) => seg.candidates[i].box);
}

/**
 * Expects `pieces` pieces, the runs [0, split) and [split, pieces) to be candidates with these
 * boxes, and scores that favour those two to read them.
 */
function expectTwoDigits(
  seg: Segmentation,
  pieces: number,
  split: number,
  boxes: [DigitBox, DigitBox],
): void {
  expect(seg.pieces).toBe(pieces);
  const left = find(seg, 0, split);
  const right = find(seg, split, pieces);
  expect([left.box, right.box]).toEqual(boxes);
  expect(readBoxes(seg, (c) => (c === left || c === right ? 0.99 : 0.5))).toEqual(boxes);
}

describe('segmentNumber', () => {
  it('finds nothing on blank paper', () => {
    expect(segmentNumber(canvas(100, 60, []))).toBeNull();
  });

  it('splits spaced digits left to right, each its own candidate, with exact boxes', () => {
    const seg = segmentNumber(
      canvas(200, 100, [
        [120, 25, 24, 60],
        [20, 20, 24, 60],
        [80, 20, 10, 60],
      ]),
    )!;
    expect(seg.pieces).toBe(3);
    // Side by side with a gap: never one digit, so only the three single candidates.
    expect(seg.candidates.map((c) => c.box)).toEqual([
      box(20, 20, 24, 60),
      box(80, 20, 10, 60),
      box(120, 25, 24, 60),
    ]);
    expect(seg.candidates.every((c) => c.image().width === 28 && c.image().height === 28)).toBe(
      true,
    );
  });

  it('reads along a sloping baseline with uneven sizes in the order written', () => {
    const seg = segmentNumber(
      canvas(200, 160, [
        [20, 20, 12, 50],
        [60, 35, 12, 60],
        [100, 60, 12, 70],
        [140, 40, 14, 44],
      ]),
    )!;
    expect(seg.lineHeight).toBe(60);
    expect(readBoxes(seg, () => 0.9)).toEqual([
      box(20, 20, 12, 50),
      box(60, 35, 12, 60),
      box(100, 60, 12, 70),
      box(140, 40, 14, 44),
    ]);
  });

  it('keeps the detached bar of a 5 with its body', () => {
    // The body (a hollow box, as a pen draws it), and a short bar above it that overlaps it
    // horizontally.
    const seg = segmentNumber(
      canvas(140, 120, [...ring(40, 40, 30, 40, 6), [45, 20, 35, 6]]),
      'dark',
      margin20,
    )!;
    // The bar joins the body; the body, wider than half the writing's height, may be two
    // touching digits and is cut twice, through its hollow.
    expect(seg.pieces).toBe(3);
    expect(find(seg, 0, 3).box).toEqual(box(40, 20, 40, 60));
    expect(find(seg, 0, 3).cut).toBe(false);
    expect(readBoxes(seg, () => 0.9)).toEqual([box(40, 20, 40, 60)]);
  });

  it('drops a speck far from the writing, and keeps a dot that is close to a stroke', () => {
    const seg = segmentNumber(
      canvas(240, 140, [
        [20, 20, 12, 60],
        [70, 20, 12, 60],
        [84, 82, 3, 3], // a dot just off the second stroke's foot
        [200, 120, 3, 3], // a speck far away
      ]),
    )!;
    expect(seg.pieces).toBe(2);
    expect(readBoxes(seg, () => 0.9)).toEqual([box(20, 20, 12, 60), box(70, 20, 17, 65)]);
  });

  it('offers a broken stroke both as two digits and as one, and the scores decide', () => {
    // A stroke with a gap: two marks, one above the other.
    const seg = segmentNumber(
      canvas(100, 120, [
        [40, 20, 12, 38],
        [40, 62, 12, 38],
      ]),
    )!;
    expect(seg.pieces).toBe(2);
    const whole = find(seg, 0, 2);
    expect(whole.box).toEqual(box(40, 20, 12, 80));
    const sure = (c: Candidate) => (c === whole ? 0.99 : 0.6);
    expect(readBoxes(seg, sure)).toEqual([whole.box]);
    const parts = (c: Candidate) => (c === whole ? 0.2 : 0.99);
    expect(readBoxes(seg, parts)).toEqual([box(40, 20, 12, 38), box(40, 62, 12, 38)]);
  });

  it('cuts touching digits where little ink joins them, and the scores pick the cut', () => {
    // Two square 0s joined by a short bridge: one component, 86 px wide, 60 high.
    const drawing = canvas(140, 100, [
      ...ring(20, 20, 40, 60, 6),
      [60, 45, 6, 6],
      ...ring(66, 20, 40, 60, 6),
    ]);
    const seg = segmentNumber(drawing, 'dark', margin20)!;
    // Cut twice through the first ring's hollow (12 px of ink), at the bridge (6 px) and twice
    // through the second ring's hollow, each cut at least 12 px (0.2 heights) from the others.
    expect(seg.pieces).toBe(6);
    const left = find(seg, 0, 3);
    const right = find(seg, 3, 6);
    expect(left.box).toEqual(box(20, 20, 40, 60));
    expect(right.box).toEqual(box(60, 20, 46, 60));
    expect(find(seg, 0, 6).box).toEqual(box(20, 20, 86, 60));
    const zeros = (c: Candidate) => (c === left || c === right ? 0.99 : 0.5);
    expect(readBoxes(seg, zeros)).toEqual([left.box, right.box]);
    // Cuts as close as the default allows (0.12 heights): more pieces, the same reading.
    const fine = segmentNumber(drawing)!;
    expect(fine.pieces).toBeGreaterThan(6);
    const same = (a: DigitBox, b: DigitBox) => JSON.stringify(a) === JSON.stringify(b);
    const zero = (c: Candidate) => (same(c.box, left.box) || same(c.box, right.box) ? 0.99 : 0.5);
    expect(readBoxes(fine, zero)).toEqual([left.box, right.box]);
  });

  it('keeps the inkier cut between touching digits however many cheaper cuts a digit offers', () => {
    // A thin-walled 0 (cuts through its hollow cross 6 px of ink) joined to a 1 by a bridge 8 px
    // tall: the cut between them crosses more ink than any cut through the 0. Cuts used to be
    // limited in number (one per 0.24 heights), the least inky first, and the 0's took them all.
    const seg = segmentNumber(
      canvas(100, 100, [...ring(20, 20, 40, 60, 3), [60, 46, 12, 8], [72, 20, 6, 60]]),
    )!;
    expectTwoDigits(seg, 7, 6, [box(20, 20, 48, 60), box(68, 20, 10, 60)]);
  });

  it('offers a wide digit cut into many pieces, touching its neighbour, as one candidate', () => {
    // A 0 as wide as it is tall, joined to a narrower one: the cuts, 0.12 heights apart, split
    // the wide one into 7 pieces (candidates used to hold at most 6).
    const seg = segmentNumber(
      canvas(180, 100, [...ring(20, 20, 60, 60, 6), [80, 45, 6, 6], ...ring(86, 20, 40, 60, 6)]),
    )!;
    expectTwoDigits(seg, 12, 7, [box(20, 20, 60, 60), box(80, 20, 46, 60)]);
  });

  it('keeps a wide 0 whole rather than read its cut-off side as a 1', () => {
    const seg = segmentNumber(canvas(100, 100, ring(20, 20, 40, 60, 6)))!;
    const whole = find(seg, 0, seg.pieces);
    const side = find(seg, 0, 1);
    const rest = find(seg, 1, seg.pieces);
    expect([whole.cut, side.cut, rest.cut]).toEqual([false, true, true]);
    // What the model says: a 0, though it doubts a wide one is a digit at all; the side, a 1;
    // the rest, a 0.
    const model = (c: Candidate) =>
      c === whole
        ? { digit: 0, probability: 0.9, notDigit: 0.5 }
        : c === side
          ? { digit: 1, probability: 0.99, notDigit: 0.02 }
          : c === rest
            ? { digit: 0, probability: 0.99, notDigit: 0.02 }
            : { digit: 5, probability: 0.5, notDigit: 0.5 };
    expect(readBoxes(seg, (c) => candidateScore(c, model(c)))).toEqual([box(20, 20, 40, 60)]);
    // Without the cost of a cut-off 1, "10".
    const free = { ...SEGMENT, cutOneCost: 0 };
    const scores = seg.candidates.map((c) => candidateScore(c, model(c), free));
    expect(bestPath(seg, scores, free)!.map((i) => seg.candidates[i])).toEqual([side, rest]);
  });

  it('scores a candidate by its digit and by how sure the model is that it is one', () => {
    const seg = segmentNumber(canvas(100, 100, ring(20, 20, 40, 60, 6)))!;
    const whole = find(seg, 0, seg.pieces);
    const side = find(seg, 0, 1);
    const one = { digit: 1, probability: 0.8, notDigit: 0.25 };
    expect(candidateScore(whole, one)).toBeCloseTo(0.6, 10);
    expect(candidateScore(side, one)).toBeCloseTo(0.6 * Math.exp(-SEGMENT.cutOneCost), 10);
    expect(candidateScore(side, { ...one, digit: 7 })).toBeCloseTo(0.6, 10);
  });

  it('scores the uncut candidates first, and the cuts only of a digit it doubts', () => {
    const seg = segmentNumber(
      canvas(200, 100, [
        [10, 20, 12, 60],
        ...ring(40, 20, 40, 60, 6),
        [80, 45, 6, 6],
        ...ring(86, 20, 40, 60, 6),
      ]),
      'dark',
      margin20,
    )!;
    // The bar, then the two joined rings cut into six pieces.
    expect(seg.pieces).toBe(7);
    const first = firstCandidates(seg);
    expect(first.map((i) => seg.candidates[i].box)).toEqual([
      box(10, 20, 12, 60),
      box(40, 20, 86, 60),
    ]);
    const scores = seg.candidates.map((_, i) => (first.includes(i) ? 0.99 : NaN));
    // 86 px wide for 60 px high: maybe two digits, so its cuts are tried next.
    const next = doubtfulCandidates(seg, scores);
    expect(next.length).toBeGreaterThan(0);
    expect(next.every((i) => seg.candidates[i].cut && seg.candidates[i].start >= 1)).toBe(true);
    // A narrow digit the model is sure of is never cut.
    const narrow = segmentNumber(canvas(100, 100, ring(20, 20, 40, 60, 6)))!;
    const sure = firstCandidates(narrow);
    expect(sure.map((i) => narrow.candidates[i].box)).toEqual([box(20, 20, 40, 60)]);
    const known = narrow.candidates.map((_, i) => (sure.includes(i) ? 0.99 : NaN));
    expect(doubtfulCandidates(narrow, known)).toEqual([]);
  });

  it('keeps every piece a candidate of its own, however wide, so a reading always exists', () => {
    // A dash 200 px long beside a 60 px stroke: over 2.5 heights wide, and left uncut.
    const seg = segmentNumber(
      canvas(300, 100, [
        [10, 20, 12, 60],
        [40, 50, 200, 6],
      ]),
      'dark',
      { ...SEGMENT, cutWidth: 100 },
    )!;
    expect(seg.pieces).toBe(2);
    for (let piece = 0; piece < seg.pieces; piece++) {
      expect(seg.candidates.some((c) => c.start === piece && c.end === piece + 1)).toBe(true);
    }
    const path = bestPath(
      seg,
      seg.candidates.map(() => 0.9),
    );
    expect(path).not.toBeNull();
    const boxes = path!.map((i) => seg.candidates[i].box);
    expect(boxes).toEqual([box(10, 20, 12, 60), box(40, 50, 200, 6)]);
  });

  it('prepares a single digit exactly as the single-digit pipeline does', () => {
    const bitmap = canvas(120, 120, [
      [40, 20, 12, 80],
      [30, 20, 20, 8],
      [100, 110, 2, 2], // a speck, which preprocess also sees
    ]);
    const seg = segmentNumber(bitmap)!;
    expect(seg.candidates).toHaveLength(1);
    expect(Array.from(seg.candidates[0].image().data)).toEqual(
      Array.from(preprocess(bitmap)!.data),
    );
  });

  it('takes light ink on dark as well', () => {
    const dark = canvas(120, 80, [
      [10, 10, 12, 60],
      [60, 10, 12, 60],
    ]);
    const light = { ...dark, data: Uint8ClampedArray.from(dark.data, (v) => 255 - v) };
    expect(segmentNumber(light, 'light')!.candidates.map((c) => c.box)).toEqual(
      segmentNumber(dark)!.candidates.map((c) => c.box),
    );
  });

  it('refuses a drawing with far more separate marks than a number has', () => {
    const dots: [number, number, number, number][] = [];
    for (let i = 0; i < 100; i++)
      dots.push([10 + (i % 20) * 10, 10 + Math.floor(i / 20) * 10, 4, 4]);
    expect(() => segmentNumber(canvas(220, 70, dots))).toThrow(InputError);
  });

  it('never cuts a bar: a minus or a long line is one candidate, not a row of 1s', () => {
    for (const bar of [
      canvas(280, 280, [[60, 134, 160, 12]]),
      canvas(2048, 8, [[0, 3, 2048, 3]]),
    ]) {
      const seg = segmentNumber(bar)!;
      expect(seg.pieces).toBe(1);
      expect(seg.candidates).toHaveLength(1);
    }
    // Tilted, as a hand draws it: rising 40 px over 160, one straight stroke 8 px thick.
    const tilted: [number, number, number, number][] = [];
    for (let x = 0; x < 160; x++) tilted.push([60 + x, 160 - Math.round(x / 4), 1, 8]);
    expect(segmentNumber(canvas(280, 280, tilted))!.pieces).toBe(1);
    // A stroke as wide but a few pens tall is still cut: it may be touching digits.
    expect(
      segmentNumber(
        canvas(280, 280, [...ring(60, 100, 80, 60, 12), ...ring(140, 100, 80, 60, 12)]),
      )!.pieces,
    ).toBeGreaterThan(1);
  });

  it('refuses a drawing that splits into far more candidates than a number has', () => {
    // A zigzag 2048 px long: one mark, cut into over a hundred pieces.
    const zigzag: [number, number, number, number][] = [];
    for (let x = 0; x < 2040; x++) {
      const t = (x % 60) / 60;
      zigzag.push([x, 2 + Math.round((t < 0.5 ? 2 * t : 2 - 2 * t) * 90), 5, 8]);
    }
    expect(() => segmentNumber(canvas(2048, 100, zigzag))).toThrow(/possible digits/);
  });

  it('rejects a bitmap whose data does not match its size', () => {
    expect(() => segmentNumber({ width: 10, height: 10, data: new Uint8Array(5) })).toThrow(
      RangeError,
    );
  });
});

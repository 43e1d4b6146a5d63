/**
 * The adaptation steps the server and the page share (src/core/adaptation-steps.ts), with a
 * fake feature extractor, and the pieces around them: a reading rebuilt around adapted digits,
 * the deadline race, the byte/unit conversion.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AdaptationParams } from '../../src/core/adapt.ts';
import {
  adaptDigits,
  buildMemory,
  type FeatureExtractor,
} from '../../src/core/adaptation-steps.ts';
import { within } from '../../src/core/deadline.ts';
import { byteOfUnit, unitOfByte, unitsOfBytes } from '../../src/core/image.ts';
import { judge, type UnsureThresholds } from '../../src/core/unsure.ts';
import {
  pageReading,
  readingMoved,
  readingOf,
  withDigits,
  type DigitReading,
} from '../../src/recognizer/answers.ts';

const PARAMS: AdaptationParams = { k: 3, minSimilarity: 0.8, strength: 6, width: 0.2 };
const THRESHOLDS: UnsureThresholds = { notDigit: 0.6, ambiguous: 0.7 };

/** A feature vector of 8 along `axis`. */
const along = (axis: number) => Float32Array.from({ length: 8 }, (_, i) => (i === axis ? 1 : 0));

/**
 * A fake network: an input's first value names the axis its features lie along; a negative
 * one gets no features. Records each pass, so a test sees how often and on what it ran.
 */
function fakeExtractor(): { featuresOf: FeatureExtractor; passes: number[][] } {
  const passes: number[][] = [];
  const featuresOf: FeatureExtractor = async (inputs) => {
    passes.push(inputs.map((input) => input[0]));
    return inputs.map((input) => (input[0] >= 0 ? along(input[0]) : null));
  };
  return { featuresOf, passes };
}

/** A digit read as `digit` (p 0.6, else `runnerUp`), whose fake features lie along `axis`. */
function digitOn(axis: number, digit = 7, runnerUp = 1): DigitReading {
  const probabilities = new Array<number>(10).fill(0);
  probabilities[digit] = 0.6;
  probabilities[runnerUp] = 0.4;
  const decision = {
    digit,
    confidence: 0.6,
    probabilities,
    votes: probabilities.map((_, d) => (d === digit ? 10 : 0)),
    variants: 10,
  };
  return {
    ...decision,
    ...judge(decision, 0, THRESHOLDS),
    ensemble: 'vote',
    notDigit: 0,
    input: [axis, 0, 0],
    ms: 1,
    box: { x: 0, y: 0, width: 10, height: 10 },
  };
}

describe('buildMemory', () => {
  it("takes the features of the corrections not yet learned, in one pass, and keeps the corrections' order", async () => {
    const { featuresOf, passes } = fakeExtractor();
    const known = { label: 4, features: along(5) };
    const { memory, learned } = await buildMemory(
      [{ label: 1, input: [0] }, known, { label: 2, input: [3] }],
      featuresOf,
    );
    expect(passes).toEqual([[0, 3]]);
    expect(learned).toEqual([
      { label: 1, features: along(0) },
      known,
      { label: 2, features: along(3) },
    ]);
    expect(learned[1]).toBe(known); // passed back, not taken again
    expect(memory.size).toBe(3);
    expect(memory.labels).toEqual([1, 4, 2]);
    expect(memory.dimension).toBe(8);
    expect(Array.from(memory.similarities(along(3)))).toEqual([0, 0, 1]);
  });

  it('runs no pass when every correction is learned, or there are none; sized as asked', async () => {
    const { featuresOf, passes } = fakeExtractor();
    expect((await buildMemory([{ label: 3, features: along(1) }], featuresOf)).memory.size).toBe(1);
    const none = await buildMemory([], featuresOf);
    expect(none.memory.dimension).toBe(0); // no particular size yet
    expect((await buildMemory([], featuresOf, 8)).memory.dimension).toBe(8);
    expect(passes).toEqual([]);
  });

  it('fails rather than forget a correction whose features were not taken', async () => {
    const { featuresOf } = fakeExtractor();
    await expect(buildMemory([{ label: 6, input: [-1] }], featuresOf)).rejects.toThrow(
      /features of a correction \(a 6\)/,
    );
    const refused: FeatureExtractor = () => Promise.reject(new Error('over budget'));
    await expect(buildMemory([{ label: 6, input: [0] }], refused)).rejects.toThrow('over budget');
  });
});

describe('adaptDigits', () => {
  it("adapts each digit like a correction to the correction's label, in one pass", async () => {
    const { featuresOf, passes } = fakeExtractor();
    const { memory } = await buildMemory([{ label: 1, input: [0] }], featuresOf);
    const digits = [digitOn(0), digitOn(4, 3, 8)];
    const adapted = await adaptDigits(digits, memory, featuresOf, THRESHOLDS, PARAMS);
    expect(passes).toEqual([[0], [0, 4]]);
    expect(adapted[0].digit).toBe(1);
    expect(adapted[0].adaptation).toEqual({ corrections: 1, neighbours: 1, modelDigit: 7 });
    expect(adapted[0].votes).toEqual(digits[0].votes); // the model's own
    expect(adapted[0].box).toBe(digits[0].box); // the rest as it was
    // Like no correction: the model's answer, saying so.
    expect(adapted[1]).toEqual({
      ...digits[1],
      adaptation: { corrections: 1, neighbours: 0, modelDigit: 3 },
    });
  });

  it('with no corrections runs no pass, and says so on each digit', async () => {
    const { featuresOf, passes } = fakeExtractor();
    const { memory } = await buildMemory([], featuresOf);
    const digit = digitOn(0);
    expect(await adaptDigits([digit], memory, featuresOf, THRESHOLDS, PARAMS)).toEqual([
      { ...digit, adaptation: { corrections: 0, neighbours: 0, modelDigit: 7 } },
    ]);
    expect(await adaptDigits([], memory, featuresOf, THRESHOLDS, PARAMS)).toEqual([]);
    expect(passes).toEqual([]);
  });

  it("keeps the model's answer for a digit without features; a failed pass rejects", async () => {
    const { featuresOf } = fakeExtractor();
    const { memory } = await buildMemory([{ label: 1, input: [0] }], featuresOf);
    const [kept, adapted] = await adaptDigits(
      [digitOn(-1), digitOn(0)],
      memory,
      featuresOf,
      THRESHOLDS,
      PARAMS,
    );
    expect(kept.digit).toBe(7);
    expect(kept.adaptation).toEqual({ corrections: 1, neighbours: 0, modelDigit: 7 });
    expect(adapted.digit).toBe(1);
    const refused: FeatureExtractor = () => {
      throw new Error('over budget');
    };
    await expect(adaptDigits([digitOn(0)], memory, refused, THRESHOLDS, PARAMS)).rejects.toThrow(
      'over budget',
    );
  });
});

describe('withDigits', () => {
  it("keeps a reading's marks and its verdict that it is no number; the text follows the digits", () => {
    const mark = { kind: 'other' as const, box: { x: 20, y: 0, width: 5, height: 10 } };
    const reading = readingOf([digitOn(0, 7)], 3, { marks: [mark], notANumber: true });
    const rebuilt = withDigits(reading, [{ ...digitOn(0, 1, 7), unsure: false, reason: null }]);
    expect(rebuilt).toMatchObject({ text: '1', marks: [mark], reason: 'not_a_number', ms: 3 });
    const plain = readingOf([digitOn(0, 7)], 3);
    expect(withDigits(plain, [{ ...digitOn(0, 1, 7), unsure: false, reason: null }])).toMatchObject(
      { text: '1', unsure: false, reason: null },
    );
  });
});

describe('pageReading', () => {
  const sure = (axis: number, digit: number): DigitReading => ({
    ...digitOn(axis, digit),
    unsure: false,
    reason: null,
  });
  const box = { x: 0, y: 0, width: 50, height: 20 };

  it("is its lines' digits in order, and rebuilds each line around its own when they change", () => {
    const page = pageReading(
      [
        { ...readingOf([sure(0, 4), sure(1, 2)], 0), box },
        { ...readingOf([], 0, { notANumber: true }), box: { ...box, y: 40 } },
        { ...readingOf([sure(2, 7)], 0), box: { ...box, y: 80 } },
      ],
      5,
    );
    expect(page.text).toBe('42\n\n7');
    expect(page.lines!.map((l) => [l.first, l.count])).toEqual([
      [0, 2],
      [2, 0],
      [2, 1],
    ]);
    expect(page.reason).toBe('ambiguous');
    const adapted = withDigits(page, [sure(0, 4), sure(1, 3), { ...digitOn(2, 1), unsure: true }]);
    expect(adapted.text).toBe('43\n\n1');
    expect(adapted.lines!.map((l) => l.text)).toEqual(['43', '', '1']);
    expect(adapted.lines![2].unsure).toBe(true);
    expect(adapted.lines![1].reason).toBe('not_a_number');
    expect(adapted.lines![2].box.y).toBe(80);
    expect(adapted.ms).toBe(5);
  });

  it('is no number when none of its lines is one', () => {
    const word = { ...readingOf([], 0, { notANumber: true }), box };
    expect(pageReading([word, word], 0).reason).toBe('not_a_number');
    const numbers = pageReading([{ ...readingOf([sure(0, 1)], 0), box }], 0);
    expect([numbers.text, numbers.unsure, numbers.reason]).toEqual(['1', false, null]);
  });
});

describe('within', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("gives the work's outcome in time, and clears its timer", async () => {
    vi.useFakeTimers();
    await expect(within(Promise.resolve('done'), 50, () => 'late')).resolves.toBe('done');
    await expect(within(Promise.reject(new Error('failed')), 50, () => 'late')).rejects.toThrow(
      'failed',
    );
    expect(vi.getTimerCount()).toBe(0);
  });

  it("gives late()'s value, or its error, once the time is up", async () => {
    vi.useFakeTimers();
    const never = new Promise<string>(() => {});
    const value = within(never, 50, () => null);
    const error = within(never, 50, () => {
      throw new Error('too slow');
    });
    const caught = error.catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(49);
    let settled = false;
    void value.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(value).resolves.toBeNull();
    expect(await caught).toEqual(new Error('too slow'));
  });

  it('goes on waiting for the work when late() hands it back', async () => {
    vi.useFakeTimers();
    let finish!: (v: string) => void;
    const work = new Promise<string>((resolve) => (finish = resolve));
    const outcome = within(work, 50, () => work);
    await vi.advanceTimersByTimeAsync(500);
    finish('committed');
    await expect(outcome).resolves.toBe('committed');
  });
});

describe('bytes and the network’s 0..1', () => {
  it('convert exactly one way and back, also through the listing’s 4 decimals', () => {
    expect(unitOfByte(0)).toBe(0);
    expect(unitOfByte(255)).toBe(1);
    expect(unitOfByte(51)).toBe(0.2);
    expect(Array.from(unitsOfBytes(Uint8Array.of(0, 255)))).toEqual([0, 1]);
    for (let b = 0; b < 256; b++) {
      expect(byteOfUnit(unitOfByte(b))).toBe(b);
      expect(byteOfUnit(Math.round(unitOfByte(b) * 1e4) / 1e4)).toBe(b);
    }
    expect([byteOfUnit(-0.5), byteOfUnit(1.5), byteOfUnit(0.5)]).toEqual([0, 255, 128]);
  });
});

describe('readingMoved', () => {
  const box = { x: 3, y: 4, width: 10, height: 20 };
  const digit = { ...digitOn(0, 5), box };

  it("places a part's reading in the whole: every box moved, nothing else changed", () => {
    const mark = { kind: 'separator' as const, box: { ...box, x: 20 } };
    const part = readingOf([digit, { ...digit, box: { ...box, x: 40 } }], 2, { marks: [mark] });
    const whole = readingMoved(part, 100, 50);
    expect(whole.digits.map((d) => [d.box.x, d.box.y])).toEqual([
      [103, 54],
      [140, 54],
    ]);
    expect(whole.marks[0].box).toEqual({ x: 120, y: 54, width: 10, height: 20 });
    expect({ ...whole, digits: [], marks: [] }).toEqual({ ...part, digits: [], marks: [] });
    expect(whole.digits.map((d) => d.input)).toEqual(part.digits.map((d) => d.input));
  });

  it("moves a page's lines too, and leaves a reading at the corner as it is", () => {
    const page = pageReading([{ ...readingOf([digit], 0), box }], 1);
    const moved = readingMoved(page, 7, 9);
    expect(moved.lines?.[0].box).toEqual({ x: 10, y: 13, width: 10, height: 20 });
    expect(moved.digits[0].box).toEqual({ x: 10, y: 13, width: 10, height: 20 });
    expect(readingMoved(page, 0, 0)).toBe(page);
  });
});

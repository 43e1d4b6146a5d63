/** Adaptation to a user's corrections (src/core/adapt.ts) and its protocol (src/evaluation). */
import { describe, expect, it } from 'vitest';
import {
  adapt,
  adaptAnswer,
  ADAPTATION,
  CorrectionMemory,
  describeAdaptation,
  evidence,
  unit,
  type AdaptationParams,
} from '../../src/core/adapt.ts';
import { describeUncertainty, judge, type UnsureThresholds } from '../../src/core/unsure.ts';
import {
  chooseParams,
  inTurns,
  runProtocol,
  type AnsweredDrawing,
} from '../../src/evaluation/adaptation.ts';

const PARAMS: AdaptationParams = { k: 3, minSimilarity: 0.8, strength: 6, width: 0.2 };

/** A feature vector pointing mostly along axis `axis` of 8, tilted a little by `tilt`. */
const along = (axis: number, tilt = 0, tiltAxis = (axis + 1) % 8) =>
  Float32Array.from({ length: 8 }, (_, i) => (i === axis ? 1 : i === tiltAxis ? tilt : 0));

/** The model reads `digit` with probability `p`, the rest spread over `runnerUp`. */
const model = (digit: number, p: number, runnerUp: number) => {
  const probabilities = new Array<number>(10).fill(0);
  probabilities[digit] = p;
  probabilities[runnerUp] = 1 - p;
  return { digit, probabilities };
};

describe('unit and CorrectionMemory', () => {
  it('normalizes to length 1 and keeps zero as zero', () => {
    const v = unit([3, 4]);
    expect(Array.from(v)).toEqual([0.6000000238418579, 0.800000011920929]);
    expect(Array.from(unit([0, 0]))).toEqual([0, 0]);
  });

  it('grows past its first capacity and measures cosine similarity', () => {
    const memory = new CorrectionMemory(8);
    for (let i = 0; i < 40; i++) memory.add(along(i % 8), i % 10);
    expect(memory.size).toBe(40);
    const sims = memory.similarities(unit(along(3)));
    expect(sims[3]).toBeCloseTo(1, 6);
    expect(sims[35]).toBeCloseTo(1, 6);
    expect(sims[4]).toBeCloseTo(0, 6);
    expect(memory.labels[35]).toBe(5);
  });

  it('refuses a vector of the wrong size or a label that is not a digit', () => {
    const memory = new CorrectionMemory(8);
    expect(() => memory.add(new Float32Array(7), 1)).toThrow(/8 features/);
    expect(() => memory.add(along(0), 10)).toThrow(/digit/);
  });
});

describe('adapt', () => {
  it('leaves the answer exactly as it was with no correction near', () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 1);
    const answer = model(7, 0.8, 1);
    const adapted = adapt(answer, along(5), memory, PARAMS);
    expect(adapted).toEqual({ ...answer, confidence: 0.8, notDigit: 0, neighbours: 0 });
    expect(adapt(answer, along(0), new CorrectionMemory(8), PARAMS).neighbours).toBe(0);
  });

  it("reads a drawing like a corrected one as the correction's label", () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 1); // "this user's 1 was read as 7"
    const adapted = adapt(model(7, 0.85, 1), along(0, 0.2), memory, PARAMS);
    expect(adapted.digit).toBe(1);
    expect(adapted.neighbours).toBe(1);
    expect(adapted.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(adapted.confidence).toBe(adapted.probabilities[1]);
  });

  it('does not turn a clearly read drawing into a digit the model finds impossible', () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 3); // one odd correction: a 3 that looked like a 2
    const probabilities = new Array<number>(10).fill(1e-9);
    probabilities[2] = 1 - 9e-9;
    const adapted = adapt({ digit: 2, probabilities }, along(0, 0.1), memory, PARAMS);
    expect(adapted.digit).toBe(2);
    expect(adapted.neighbours).toBe(1);
  });

  it("keeps the model's own decision when the corrections do not move the top digit", () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 4);
    // The variants voted 9 though 4 has the higher mean probability.
    const adapted = adapt(
      { digit: 9, probabilities: model(4, 0.6, 9).probabilities },
      along(0),
      memory,
      {
        ...PARAMS,
        strength: 0.01,
      },
    );
    expect(adapted.digit).toBe(9);
  });

  it('overrules the vote when a correction pushes the most probable digit well ahead of it', () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 1);
    // The variants voted 7, though 1 had the higher mean probability (0.52 against 0.48).
    const split = { digit: 7, probabilities: model(1, 0.52, 7).probabilities };
    const adapted = adapt(split, along(0, 0.2), memory, PARAMS);
    expect(adapted.digit).toBe(1);
    expect(adapted.confidence).toBeGreaterThan(0.9);
  });

  it('lets a near copy of a corrected drawing overrule a confident model, a loose likeness not', () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 1);
    const params = { ...ADAPTATION, minSimilarity: 0 };
    // The model is sure (1 in 10,000 for a 1); the writer said this drawing is a 1.
    const sure = model(7, 0.9999, 1);
    const nearCopy = along(0, 0.1); // cosine 0.995
    const likeness = along(0, 1); // cosine 0.71
    expect(adapt(sure, nearCopy, memory, params).digit).toBe(1);
    expect(adapt(sure, likeness, memory, params).digit).toBe(7);
    // The same likeness does tip a close call.
    expect(adapt(model(7, 0.6, 1), likeness, memory, params).digit).toBe(1);
    expect(evidence(1, params)).toBe(params.strength);
    expect(evidence(1 - params.width, params)).toBeCloseTo(params.strength / Math.E, 9);
  });

  it('reads the very drawing corrected as corrected, however sure the model is', () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 7);
    // A clear 1 the user says is their 7: 13.6 log-odds, more than a correction's 12.
    const sure = model(1, 0.99995, 7);
    expect(adapt(sure, along(0), memory, PARAMS).digit).toBe(7);
    expect(adapt(sure, along(0, 0.05), memory, PARAMS).digit).toBe(1); // cosine 0.9988
    // Corrected again, to 4: the newest correction of the drawing decides.
    memory.add(along(0), 4);
    expect(adapt(sure, along(0), memory, PARAMS).digit).toBe(4);
  });

  it('uses at most k neighbours, the nearest', () => {
    const memory = new CorrectionMemory(8);
    for (let i = 0; i < 5; i++) memory.add(along(0, 0.05 * i), 1);
    expect(adapt(model(7, 0.9, 1), along(0), memory, { ...PARAMS, k: 2 }).neighbours).toBe(2);
  });
});

/** A recognition as the recognizer gives it: the model reads `digit` with `p`, judged. */
const THRESHOLDS: UnsureThresholds = { notDigit: 0.6, ambiguous: 0.7 };
const recognition = (
  digit: number,
  p: number,
  runnerUp: number,
  options: { notDigit?: number; top?: number } = {},
) => {
  const { probabilities } = model(options.top ?? digit, p, runnerUp);
  const decision = {
    digit,
    confidence: probabilities[digit],
    probabilities,
    votes: probabilities.map((_, d) => (d === digit ? 10 : 0)),
    variants: 10,
  };
  const notDigit = options.notDigit ?? 0;
  return { ...decision, notDigit, ...judge(decision, notDigit, THRESHOLDS) };
};

describe('adaptAnswer', () => {
  it('judges an adapted answer again: read as the user\'s 1, it is no longer "A 7 or a 1?"', () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 1);
    const unsure = recognition(7, 0.6, 1);
    expect(describeUncertainty(unsure)).toBe('A 7 or a 1?');
    const adapted = adaptAnswer(unsure, along(0, 0.2), memory, THRESHOLDS, PARAMS);
    expect(adapted.digit).toBe(1);
    expect(adapted.confidence).toBeGreaterThan(0.9);
    expect(adapted).toMatchObject({ unsure: false, reason: null, alternatives: undefined });
    expect(adapted.votes).toEqual(unsure.votes); // the model's own
    expect(adapted.adaptation).toEqual({ corrections: 1, neighbours: 1, modelDigit: 7 });
  });

  it('no longer calls a drawing like a corrected one "not a digit"; a loose likeness barely moves it', () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 4);
    const odd = recognition(4, 0.9, 9, { notDigit: 0.8 });
    expect(odd.reason).toBe('not_a_digit');
    const near = adaptAnswer(odd, along(0, 0.1), memory, THRESHOLDS, ADAPTATION);
    expect(near.notDigit).toBeLessThan(0.01);
    expect(near.unsure).toBe(false);
    const loose = adaptAnswer(odd, along(0, 3), memory, THRESHOLDS, ADAPTATION); // cosine 0.32
    expect(loose.adaptation.neighbours).toBe(1);
    expect(loose.notDigit).toBeGreaterThan(0.7);
    expect(loose.reason).toBe('not_a_digit');
  });

  it('leaves an answer no correction is near exactly as it was, but for what adaptation did', () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 1);
    const unsure = recognition(7, 0.6, 1);
    expect(adaptAnswer(unsure, along(5), memory, THRESHOLDS)).toEqual({
      ...unsure,
      adaptation: { corrections: 1, neighbours: 0, modelDigit: 7 },
    });
  });
});

describe('describeAdaptation', () => {
  it('says so when the corrections changed the digit, and nothing otherwise', () => {
    const memory = new CorrectionMemory(8);
    memory.add(along(0), 1);
    const changed = adaptAnswer(recognition(7, 0.85, 1), along(0, 0.2), memory, THRESHOLDS, PARAMS);
    expect(describeAdaptation(changed)).toBe(
      'Read with your corrections: the model alone reads a 7.',
    );
    // A correction near, but the model's digit stands.
    const sure = recognition(2, 1 - 1e-9, 3);
    const kept = adaptAnswer(sure, along(0, 0.1), memory, THRESHOLDS, PARAMS);
    expect(kept.adaptation.neighbours).toBe(1);
    expect(describeAdaptation(kept)).toBeNull();
    // No correction near, and an answer never adapted.
    const far = adaptAnswer(recognition(7, 0.85, 1), along(5), memory, THRESHOLDS, PARAMS);
    expect(describeAdaptation(far)).toBeNull();
    expect(describeAdaptation({ digit: 7 })).toBeNull();
  });
});

describe('the adaptation protocol', () => {
  it('orders drawings in turns and counts copies per writer', () => {
    const drawings = [
      { writer: 2, label: 1 },
      { writer: 1, label: 1 },
      { writer: 1, label: 0 },
      { writer: 1, label: 1 },
    ];
    expect(inTurns(drawings).map((d) => [d.writer, d.label, d.copy])).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [1, 1, 1],
      [2, 1, 0],
    ]);
  });

  it('fixes a writer whose 1 is read as 7, and reports writers made worse', () => {
    // Writer 1: every 1 looks alike and is read as 7 (p 0.7). Writer 2 drew one odd 3 that
    // is read as 2 with certainty, and later clear 2s that look somewhat like it.
    const drawings: AnsweredDrawing[] = [];
    for (let copy = 0; copy < 5; copy++) {
      drawings.push({
        writer: 1,
        label: 1,
        copy,
        features: along(0, 0.01 * copy),
        ...model(7, 0.7, 1),
      });
      if (copy === 0)
        drawings.push({ writer: 2, label: 3, copy, features: along(2), ...model(2, 0.99999, 3) });
      else
        drawings.push({
          writer: 2,
          label: 2,
          copy,
          features: along(2, 0.3),
          ...model(2, 0.9999, 3),
        });
    }
    const outcome = runProtocol(drawings, PARAMS);
    expect(outcome.count).toBe(8);
    expect(outcome.accuracyAlone).toBe(0.5);
    expect(outcome.accuracyAdapted).toBe(1);
    expect(outcome.corrections).toBe(2);
    expect(outcome.worstLoss).toBe(0);
    // Writer 1's first 1 was wrong already, so every later one had a correction before it.
    expect(outcome.firstErrors).toBe(0);

    // A correction that overwhelms the model turns writer 2's next clear 2 into a 3.
    const reckless = runProtocol(drawings, { k: 1, minSimilarity: 0, strength: 50, width: 1 });
    expect(reckless.worstLoss).toBe(1);
    expect(outcome.errors).toEqual([]);
    // The 2 it got wrong is listed, with the writer's one earlier correction (a 3).
    expect(reckless.errors).toEqual([
      { writer: 2, copy: 1, label: 2, digit: 3, corrections: 1, ofLabel: 0 },
    ]);
    expect(reckless.writers.find((w) => w.writer === 2)).toMatchObject({
      correctAlone: 4,
      correctAdapted: 3,
    });
    expect(chooseParams([reckless, outcome])).toBe(outcome);
    expect(chooseParams([reckless], 0)).toBeUndefined();
  });

  it("counts the later copies that are the first of their writer's digit read wrong", () => {
    // Writer 1's 4s: right, wrong, wrong; its 5s: wrong, wrong. Writer 2's 4s: right, wrong.
    const drawing = (writer: number, label: number, copy: number, digit: number) => ({
      writer,
      label,
      copy,
      features: along(copy),
      ...model(digit, 0.9, digit === label ? 9 : label),
    });
    const outcome = runProtocol(
      [
        drawing(1, 4, 0, 4),
        drawing(1, 5, 0, 6),
        drawing(1, 4, 1, 9),
        drawing(1, 5, 1, 6),
        drawing(1, 4, 2, 9),
        drawing(2, 4, 0, 4),
        drawing(2, 4, 1, 9),
      ],
      PARAMS,
    );
    expect(outcome.firstErrors).toBe(2);
  });
});

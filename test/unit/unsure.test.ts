import { describe, expect, it } from 'vitest';
import { describeUncertainty, judge, uncertaintyScores } from '../../src/core/unsure.ts';
import type { Decision } from '../../src/core/vote.ts';
import { auroc, calibrate, unsureReport, type JudgedSample } from '../../src/evaluation/unsure.ts';

function decision(probabilities: number[], votes?: number[]): Decision {
  const digit = probabilities.indexOf(Math.max(...probabilities));
  const v = votes ?? probabilities.map((_, k) => (k === digit ? 10 : 0));
  return { digit, confidence: probabilities[digit], probabilities, votes: v, variants: 10 };
}

const sure7 = decision([0, 0, 0, 0, 0, 0, 0, 0.97, 0.02, 0.01]);
const oneOrSeven = decision(
  [0, 0.45, 0, 0, 0, 0, 0, 0.5, 0.03, 0.02],
  [0, 4, 0, 0, 0, 0, 0, 6, 0, 0],
);
const thresholds = { notDigit: 0.5, ambiguous: 0.6 };

describe('judge', () => {
  it('is sure of a clear digit', () => {
    expect(judge(sure7, 0.01, thresholds)).toEqual({ unsure: false, reason: null });
  });

  it('says "not a digit" when that class wins, whatever the digits say', () => {
    expect(judge(sure7, 0.8, thresholds)).toEqual({ unsure: true, reason: 'not_a_digit' });
  });

  it('lists the alternatives of an ambiguous answer, most likely first', () => {
    const v = judge(oneOrSeven, 0.01, thresholds);
    expect(v.reason).toBe('ambiguous');
    expect(v.alternatives).toEqual([{ digit: 1, confidence: 0.45 }]);
    expect(describeUncertainty({ digit: 7, ...v })).toBe('A 7 or a 1?');
    expect(describeUncertainty({ digit: 7, ...judge(sure7, 0.9, thresholds) })).toBe(
      "That doesn't look like a digit.",
    );
    expect(describeUncertainty({ digit: 7, unsure: false, reason: null })).toBeNull();
  });

  it('scores margin and vote split', () => {
    const s = uncertaintyScores(oneOrSeven, 0.2);
    expect(s.notDigit).toBe(0.2);
    expect(s.lowConfidence).toBeCloseTo(0.5);
    expect(s.smallMargin).toBeCloseTo(0.95);
    expect(s.split).toBeCloseTo(0.4);
  });
});

describe('auroc', () => {
  it('is 1 for a perfect separation, 0.5 for none, and counts ties half', () => {
    expect(auroc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(auroc([0.1], [0.9])).toBe(0);
    expect(auroc([0.5, 0.5], [0.5, 0.5])).toBe(0.5);
    expect(auroc([0.9, 0.3], [0.5])).toBe(0.5);
    expect(auroc([], [1])).toBeNull();
  });
});

describe('calibration', () => {
  const sample = (
    kind: JudgedSample['kind'],
    label: number,
    d: Decision,
    notDigit: number,
  ): JudgedSample => ({
    kind,
    label,
    character: kind === 'digit' ? String(label) : 'x',
    writer: 1,
    source: 'unipen',
    brush: 16,
    calibration: true,
    decision: d,
    notDigit,
    scores: uncertaintyScores(d, notDigit),
  });
  // 196 sure, right digits; 3 unsure wrong ones; 1 wrong one the model is sure of; 100 letters.
  const samples: JudgedSample[] = [
    ...Array.from({ length: 196 }, (_, i) => sample('digit', 7, sure7, (i % 10) / 100)),
    ...Array.from({ length: 3 }, () => sample('digit', 1, oneOrSeven, 0.05)),
    sample('digit', 2, sure7, 0.02),
    ...Array.from({ length: 100 }, (_, i) => sample('not_digit', -1, sure7, 0.2 + i / 125)),
  ];

  it('flags the most letters within the digits budget and reaches the accuracy wanted', () => {
    const t = calibrate(samples, {
      maxDigitsFlagged: 0.02,
      notDigitsFlagged: 0.9,
      unflaggedAccuracy: 0.99,
    });
    const r = unsureReport(samples, t);
    expect(r.digits.flagged).toBeLessThanOrEqual(0.02);
    expect(r.digits.flaggedAmbiguous).toBeCloseTo(3 / 200);
    expect(r.digits.unflaggedAccuracy).toBeCloseTo(196 / 197);
    expect(t.notDigit).toBeGreaterThan(0.09);
    expect(r.notDigits.flagged).toBeGreaterThan(0.9);
    expect(r.aurocNotDigit.notDigit).toBeGreaterThan(0.99);
    expect(r.perCharacter.x.count).toBe(100);
  });

  it("reports each source's digits apart", () => {
    const t = { notDigit: 0.5, ambiguous: 0.6 };
    const pen = { ...sample('digit', 2, sure7, 0.02), source: 'pendigits' as const };
    const r = unsureReport([...samples, pen, pen], t);
    expect(r.digitsBySource.unipen).toEqual(unsureReport(samples, t).digits);
    expect(r.digitsBySource.pendigits).toMatchObject({ count: 2, accuracy: 0, flagged: 0 });
    expect(r.digits.count).toBe(202);
  });

  it('keeps the letters target before approaching an accuracy out of reach', () => {
    // Ten wrong, unsure digits: a budget of four flags cannot reach 99.9% on the rest. Three
    // right digits look a little like letters, and flagging 90% of the letters flags them.
    const hard: JudgedSample[] = [
      ...Array.from({ length: 187 }, () => sample('digit', 7, sure7, 0.01)),
      ...Array.from({ length: 3 }, () => sample('digit', 7, sure7, 0.3)),
      ...Array.from({ length: 10 }, (_, i) => {
        const seven = 0.4 + i * 0.05;
        return sample('digit', 1, decision([0, 1 - seven, 0, 0, 0, 0, 0, seven, 0, 0]), 0.05);
      }),
      ...Array.from({ length: 100 }, (_, i) => sample('not_digit', -1, sure7, 0.2 + i / 125)),
    ];
    const targets = { maxDigitsFlagged: 0.02, notDigitsFlagged: 0.9, unflaggedAccuracy: 0.999 };
    const r = unsureReport(hard, calibrate(hard, targets));
    expect(r.notDigits.flagged).toBeGreaterThanOrEqual(0.9);
    expect(r.digits.flaggedNotDigit).toBeCloseTo(3 / 200);
    expect(r.digits.flagged).toBeLessThanOrEqual(0.02);
    // Without a letters target, the budget goes to the wrong digits instead.
    const accurate = unsureReport(hard, calibrate(hard, { ...targets, notDigitsFlagged: 1.01 }));
    expect(accurate.digits.flaggedNotDigit).toBe(0);
    expect(accurate.digits.unflaggedAccuracy).toBeGreaterThan(r.digits.unflaggedAccuracy);
    expect(accurate.notDigits.flagged).toBeLessThan(0.9);
  });

  it('refuses a budget nothing fits', () => {
    const allBad = samples.map((s) => (s.kind === 'digit' ? { ...s, notDigit: 0.99 } : s));
    expect(() =>
      calibrate(allBad, { maxDigitsFlagged: 0, notDigitsFlagged: 0.9, unflaggedAccuracy: 0.99 }),
    ).toThrow(/budget/);
  });
});

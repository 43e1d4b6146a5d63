import { describe, expect, it } from 'vitest';
import { NOT_A_DIGIT } from '../../src/core/classes.ts';
import { Random } from '../../src/core/random.ts';
import { DigitBank, type WrittenDigit } from '../../src/data/compose-numbers.ts';
import type { PenStroke } from '../../src/data/pen-text.ts';
import { candidateLabel, numberPieces } from '../../src/training/number-pieces.ts';

const box = (x: number, width: number, height = 100) => ({ x, y: 0, width, height });

describe('candidate labels from where the true digits are', () => {
  // Three tight digits whose boxes overlap a little, as touching digits' boxes do.
  const digits = [box(0, 60), box(55, 60), box(110, 60)];

  it('a candidate holding one digit alone is that digit, even with its neighbours edges', () => {
    expect(candidateLabel(box(55, 60), digits, '472')).toBe(7);
    expect(candidateLabel(box(0, 62), digits, '472')).toBe(4);
  });

  it('two digits together, or a digit with a chunk of the next, are not a digit', () => {
    expect(candidateLabel(box(0, 115), digits, '472')).toBe(NOT_A_DIGIT);
    expect(candidateLabel(box(0, 85), digits, '472')).toBe(NOT_A_DIGIT);
  });

  it('a wide fragment of a digit is not a digit; a narrow one, or an unclear case, is left out', () => {
    expect(candidateLabel(box(0, 25, 40), digits, '472')).toBe(NOT_A_DIGIT);
    expect(candidateLabel(box(0, 25, 100), digits, '472')).toBeNull();
    // A digit and a quarter of its neighbour: neither one digit alone nor two.
    expect(candidateLabel(box(55, 75), digits, '472')).toBeNull();
  });
});

/** A ring of radius 120 in the 500 box, y up: every "digit" of the test bank. */
function ring(): PenStroke[] {
  return [
    Array.from({ length: 41 }, (_, i) => ({
      x: 250 + 120 * Math.cos((i / 40) * 2 * Math.PI),
      y: 250 + 200 * Math.sin((i / 40) * 2 * Math.PI),
    })),
  ];
}

function ringBank(): DigitBank {
  const digits: WrittenDigit[] = [];
  for (let label = 0; label < 10; label++) digits.push({ label, writer: 1, strokes: ring() });
  return new DigitBank(digits);
}

describe('candidates cut from composed numbers', () => {
  const options = { numbers: 30, maxLength: 4, digitsPerEpoch: 50, notDigitsPerEpoch: 40 };
  /** Pieces of 30 numbers of rings, `tight` of them touching. */
  const pieces = (tight: number) => numberPieces(ringBank(), { ...options, tight }, new Random(3));

  it('spaced numbers give only digits, labelled with the digit each candidate holds', async () => {
    const { digits, notDigits } = await pieces(0);
    expect(notDigits.count).toBe(0);
    // Each ring of each number is one candidate: 2 to 4 per number.
    expect(digits.count).toBeGreaterThanOrEqual(60);
    expect(digits.count).toBeLessThanOrEqual(120);
    expect(Math.max(...digits.labels)).toBeLessThan(10);
    expect(digits.perEpoch).toBe(50);
    for (let i = 0; i < digits.count; i++) {
      const ink = digits.images.subarray(i * 784, (i + 1) * 784).reduce((s, v) => s + v, 0);
      expect(ink).toBeGreaterThan(0);
    }
  });

  it('touching numbers also give pairs and fragments as not a digit', async () => {
    const { digits, notDigits } = await pieces(1);
    expect(digits.count).toBeGreaterThan(0);
    expect(notDigits.count).toBeGreaterThan(10);
    expect(new Set(notDigits.labels)).toEqual(new Set([NOT_A_DIGIT]));
    expect(notDigits.perEpoch).toBe(Math.min(40, notDigits.count));
  });
});

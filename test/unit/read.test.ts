/** Reading numbers in-process with the shipped model: Recognizer.read. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { GrayBitmap } from '../../src/core/preprocess.ts';
import { loadRecognizer } from '../../src/recognizer/node.ts';
import type { Recognizer } from '../../src/recognizer/recognizer.ts';
import { drawDigit, drawNumber, FOUR, grayPixels, SEVEN, type Drawing } from '../api/images.ts';

let recognizer: Recognizer;

beforeAll(async () => {
  recognizer = await loadRecognizer();
});

const bitmap = (d: Drawing): GrayBitmap => ({
  width: d.width,
  height: d.height,
  data: Uint8ClampedArray.from(grayPixels(d)),
});

describe('Recognizer.read', () => {
  it('reads spaced and touching digits, left to right', () => {
    for (const pitch of [160, 55]) {
      const reading = recognizer.read(bitmap(drawNumber([SEVEN, FOUR, SEVEN], { pitch })));
      expect(reading.text, `pitch ${pitch}`).toBe('747');
      const xs = reading.digits.map((d) => d.box.x);
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
    }
  });

  it('reads one digit as recognize() does', () => {
    const b = bitmap(drawDigit(FOUR));
    const reading = recognizer.read(b, { ensemble: 'mean' });
    const single = recognizer.recognize(b, { ensemble: 'mean' });
    expect(reading.text).toBe('4');
    expect(reading.digits[0].probabilities).toEqual(single.probabilities);
    expect(reading.digits[0].input).toEqual(single.input);
  });

  it('refuses a blank page as recognize() does', () => {
    const blank = { width: 50, height: 20, data: new Uint8ClampedArray(1000).fill(255) };
    expect(() => recognizer.read(blank)).toThrow(/no ink/);
  });
});

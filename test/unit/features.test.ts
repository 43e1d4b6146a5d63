/** The network's features (src/recognizer/features.ts) come from the same pass as its answer. */
import { beforeAll, describe, expect, it } from 'vitest';
import { preprocess } from '../../src/core/preprocess.ts';
import { loadRecognizer } from '../../src/recognizer/node.ts';
import type { Recognizer } from '../../src/recognizer/recognizer.ts';

let recognizer: Recognizer;

beforeAll(async () => {
  recognizer = await loadRecognizer(undefined, { warmUp: false });
}, 60_000);

/** A vertical bar, off centre: a "1". */
function bar(x0: number): ReturnType<typeof preprocess> {
  const data = new Float32Array(56 * 56).fill(255);
  for (let y = 8; y < 48; y++) for (let x = x0; x < x0 + 5; x++) data[y * 56 + x] = 0;
  return preprocess({ width: 56, height: 56, data }, 'dark');
}

describe('recognizeWithFeatures', () => {
  it('answers exactly as recognizeInputs, with one penultimate-layer vector per input', () => {
    const inputs = [bar(20), bar(30)].map((input) => {
      if (!input) throw new Error('no ink');
      return input;
    });
    for (const ensemble of ['vote', 'off'] as const) {
      const plain = recognizer.recognizeInputs(inputs, ensemble);
      const withFeatures = recognizer.recognizeWithFeatures(inputs, ensemble);
      withFeatures.forEach(({ recognition, features }, i) => {
        expect(recognition.digit).toBe(plain[i].digit);
        recognition.probabilities.forEach((p, d) =>
          expect(p).toBeCloseTo(plain[i].probabilities[d], 5),
        );
        expect(features).toHaveLength(recognizer.featureSize);
        expect(features.every((v) => v >= 0)).toBe(true); // after ReLU
        expect(features.some((v) => v > 0)).toBe(true);
      });
    }
    // The vector is the plain input's, whatever the ensemble: the same with and without variants.
    const vote = recognizer.recognizeWithFeatures(inputs, 'vote')[1].features;
    const off = recognizer.recognizeWithFeatures(inputs, 'off')[1].features;
    vote.forEach((v, j) => expect(v).toBeCloseTo(off[j], 4));
    expect(recognizer.featureSize).toBeGreaterThan(10);
  });
});

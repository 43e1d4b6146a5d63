/**
 * The shipped model through the whole pipeline on real MNIST test digits, and the
 * evaluation's batched classification against the recognizer itself.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_PIXELS, type GrayImage } from '../../src/core/image.ts';
import { ENSEMBLES } from '../../src/core/vote.ts';
import { loadMnist, type DigitSet } from '../../src/data/mnist.ts';
import { classifyInputs } from '../../src/evaluation/classify.ts';
import { prepareMnist } from '../../src/evaluation/mnist.ts';
import { loadRecognizer } from '../../src/recognizer/node.ts';
import type { Recognizer } from '../../src/recognizer/recognizer.ts';

let recognizer: Recognizer;
let test: DigitSet;

beforeAll(async () => {
  [recognizer, test] = await Promise.all([loadRecognizer(), loadMnist('test')]);
});

describe('the shipped model on MNIST test digits', () => {
  it('recognises at least 18 of the first 20 through the pipeline (ink light)', () => {
    let right = 0;
    for (let i = 0; i < 20; i++) {
      const bitmap = {
        width: 28,
        height: 28,
        data: test.images.subarray(i * MODEL_PIXELS, (i + 1) * MODEL_PIXELS),
      };
      const r = recognizer.recognize(bitmap, { ink: 'light' });
      expect(r.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      if (r.digit === test.labels[i]) right++;
    }
    expect(right).toBeGreaterThanOrEqual(18);
  });

  it('is scored by the evaluation exactly as the recognizer answers, in every mode', () => {
    const prepared = prepareMnist(test, 40);
    const inputs = prepared.inputs.filter((x): x is GrayImage => x !== null);
    expect(inputs).toHaveLength(40);
    const predictions = classifyInputs(recognizer, inputs, { batchSize: 16 });
    for (const mode of ENSEMBLES) {
      const expected = recognizer.recognizeInputs(inputs, mode).map((r) => r.digit);
      expect(Array.from(predictions[mode]), mode).toEqual(expected);
    }
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.ts';
import { buildModel, type ArchitectureConfig } from '../../src/model/architecture.ts';
import { tf, useBackend } from '../../src/model/backend.ts';
import { compileForward } from '../../src/recognizer/forward.ts';
import { Recognizer } from '../../src/recognizer/recognizer.ts';

const base: ArchitectureConfig = {
  name: 'forward-test',
  blocks: [[8], [12, 16]],
  dense: 32,
  batchNorm: false,
  dropout: 0.25,
  padding: 'valid',
};

function randomInputs(count: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: count * 784 }, () => rng.next());
}

describe('compileForward', () => {
  beforeAll(() => useBackend('wasm'));

  for (const padding of ['valid', 'same'] as const) {
    it(`gives the layers model's probabilities, ${padding} padding, dropout left out`, () => {
      const model = buildModel({ ...base, padding }, 5);
      const forward = compileForward(model)!;
      expect(forward).not.toBeNull();
      const before = tf.memory().numTensors;
      for (const count of [1, 10, 37]) {
        const x = tf.tensor4d(randomInputs(count, count), [count, 28, 28, 1]);
        const expected = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
        const actual = tf.tidy(() => forward(x).dataSync());
        x.dispose();
        expect(actual.length).toBe(count * 10);
        actual.forEach((p, i) => expect(p).toBeCloseTo(expected[i], 5));
      }
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }

  it('declines a model with a layer it does not cover; the recognizer then uses predict', () => {
    const model = buildModel({ ...base, batchNorm: true }, 5);
    expect(compileForward(model)).toBeNull();
    const recognizer = new Recognizer(model);
    const pixels = randomInputs(3, 9);
    const expected = tf.tidy(() =>
      (model.predict(tf.tensor4d(pixels, [3, 28, 28, 1])) as tf.Tensor).dataSync(),
    );
    recognizer.probabilities(pixels, 3).forEach((p, i) => expect(p).toBeCloseTo(expected[i], 5));
    model.dispose();
  });

  it('cuts a large batch into passes and keeps every row in place', () => {
    const model = buildModel(base, 7);
    const recognizer = new Recognizer(model);
    const count = 1100; // three passes of at most 512
    const pixels = randomInputs(count, 3);
    const all = recognizer.probabilities(pixels, count);
    for (const i of [0, 511, 512, 1023, 1024, 1099]) {
      const one = recognizer.probabilities(pixels.slice(i * 784, (i + 1) * 784), 1);
      Array.from(one).forEach((p, k) => expect(all[i * 10 + k]).toBeCloseTo(p, 5));
    }
    model.dispose();
  });
});

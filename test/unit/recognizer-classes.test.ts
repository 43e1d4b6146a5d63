import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.ts';
import { DEFAULT_THRESHOLDS } from '../../src/core/unsure.ts';
import { buildModel, type ArchitectureConfig } from '../../src/model/architecture.ts';
import { tf, useBackend } from '../../src/model/backend.ts';
import { loadModel, saveModel, writeModelMetadata } from '../../src/model/model-io.ts';
import { Recognizer } from '../../src/recognizer/recognizer.ts';

const arch: ArchitectureConfig = {
  name: 'eleven',
  blocks: [[4]],
  dense: 8,
  batchNorm: false,
  dropout: 0,
  padding: 'valid',
  classes: 11,
};

const inputs = (count: number) => {
  const rng = new Random(count);
  return Float32Array.from({ length: count * 784 }, () => rng.next());
};

/** Sets the output layer's bias, so that one class wins by as much as wanted. */
function biasOutput(model: tf.LayersModel, bias: number[]): void {
  const out = model.layers[model.layers.length - 1];
  const [kernel] = out.getWeights();
  out.setWeights([tf.zerosLike(kernel), tf.tensor1d(bias)]);
}

describe('a model with a "not a digit" output', () => {
  beforeAll(() => useBackend('wasm'));

  it('answers ten digit probabilities that sum to 1, and the eleventh apart', () => {
    const model = buildModel(arch, 1);
    const recognizer = new Recognizer(model);
    expect(recognizer.classes).toBe(11);
    const { digits, notDigit } = recognizer.scores(inputs(4), 4);
    expect(digits.length).toBe(40);
    for (let i = 0; i < 4; i++) {
      const sum = digits.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 5);
      expect(notDigit[i]).toBeGreaterThan(0);
      expect(notDigit[i]).toBeLessThan(1);
    }
    model.dispose();
  });

  it('flags "not a digit" when that output wins, and is sure of a clear digit', () => {
    const model = buildModel(arch, 2);
    const recognizer = new Recognizer(model);
    const image = { width: 28, height: 28, data: inputs(1) };
    biasOutput(model, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
    const other = new Recognizer(model).recognizeInput(image);
    expect(other).toMatchObject({ unsure: true, reason: 'not_a_digit' });
    expect(other.notDigit).toBeGreaterThan(0.99);
    expect(other.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    biasOutput(model, [0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
    const three = new Recognizer(model).recognizeInput(image);
    expect(three).toMatchObject({ digit: 3, unsure: false, reason: null });
    expect(three.alternatives).toBeUndefined();
    expect(recognizer.thresholds).toEqual(DEFAULT_THRESHOLDS);
    model.dispose();
  });

  it('reads the calibrated thresholds stored in model.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'model-'));
    const model = buildModel(arch, 3);
    await saveModel(model, dir);
    await writeModelMetadata(dir, { unsure: { notDigit: 0.35, ambiguous: 0.7 } });
    const loaded = await loadModel(dir);
    expect(new Recognizer(loaded).thresholds).toEqual({ notDigit: 0.35, ambiguous: 0.7 });
    model.dispose();
    loaded.dispose();
  });
});

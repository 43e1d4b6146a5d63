/** The evaluation's bookkeeping, with a fake model: batching, modes, scores, metrics.json. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL_PIXELS, type GrayImage } from '../../src/core/image.ts';
import {
  classifyInputs,
  classifyPixels,
  type ProbabilitySource,
} from '../../src/evaluation/classify.ts';
import { formatJson } from '../../src/evaluation/json.ts';
import { buildMetrics, mergeMetrics, writeMetrics } from '../../src/evaluation/metrics.ts';
import { evaluateMnist } from '../../src/evaluation/mnist.ts';
import { evaluatePendigits } from '../../src/evaluation/pendigits.ts';
import { formatMnist, formatPendigits } from '../../src/evaluation/report.ts';
import { scorePredictions } from '../../src/evaluation/stats.ts';

/**
 * A fake model: each row's answer is its mean pixel value times 10 (rounded, mod 10), one-hot;
 * it records the batch sizes it was given.
 */
function fakeModel(): ProbabilitySource & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    probabilities(pixels: Float32Array, count: number): Float32Array {
      expect(pixels.length).toBe(count * MODEL_PIXELS);
      calls.push(count);
      const out = new Float32Array(count * 10);
      for (let r = 0; r < count; r++) {
        let sum = 0;
        for (let i = 0; i < MODEL_PIXELS; i++) sum += pixels[r * MODEL_PIXELS + i];
        out[r * 10 + (Math.round((sum / MODEL_PIXELS) * 10) % 10)] = 1;
      }
      return out;
    },
  };
}

const flat = (value: number): GrayImage => ({
  width: 28,
  height: 28,
  data: new Float32Array(MODEL_PIXELS).fill(value),
});

describe('classifyInputs', () => {
  it('scores every mode from one pass per batch, and -1 for inputs without ink', () => {
    const model = fakeModel();
    const inputs = [flat(0.3), null, flat(0.5), flat(0.7), flat(0.1), null, flat(0.2)];
    const p = classifyInputs(model, inputs, { variants: [{}, {}], batchSize: 3 });
    expect(Array.from(p.off)).toEqual([3, -1, 5, 7, 1, -1, 2]);
    expect(Array.from(p.vote)).toEqual([3, -1, 5, 7, 1, -1, 2]);
    expect(Array.from(p.mean)).toEqual([3, -1, 5, 7, 1, -1, 2]);
    // Batches of 3 inputs (nulls skipped), 2 rows each.
    expect(model.calls).toEqual([4, 4, 2]);
  });

  it('uses the given variants, and a row of its own for the plain input when the first is not the identity', () => {
    const model = fakeModel();
    // Scaled down to nothing, every variant sees a blank input (class 0); the plain input is 0.4.
    const p = classifyInputs(model, [flat(0.4)], {
      variants: [{ scale: 0.01 }, { scale: 0.01 }, { scale: 0.01 }],
    });
    expect(model.calls).toEqual([4]);
    expect(p.vote[0]).toBe(0);
    expect(p.mean[0]).toBe(0);
    expect(p.off[0]).toBe(4);
  });

  it('reports progress', () => {
    const seen: number[] = [];
    classifyInputs(fakeModel(), [flat(0.1), flat(0.2), flat(0.3)], {
      batchSize: 2,
      onProgress: (d) => seen.push(d),
    });
    expect(seen).toEqual([2, 3]);
  });
});

describe('classifyPixels', () => {
  it('runs the model alone in batches', () => {
    const model = fakeModel();
    const pixels = new Float32Array(3 * MODEL_PIXELS);
    pixels.fill(0.6, MODEL_PIXELS, 2 * MODEL_PIXELS);
    expect(Array.from(classifyPixels(model, pixels, 3, { batchSize: 1 }))).toEqual([0, 6, 0]);
    expect(model.calls).toEqual([3]);
    expect(() => classifyPixels(model, pixels, 2)).toThrow(RangeError);
  });
});

describe('scorePredictions', () => {
  it('gives accuracy, per-class accuracy and the confusion matrix', () => {
    const s = scorePredictions([1, 1, 2, -1, 0], [1, 2, 2, 2, 0]);
    expect(s.correct).toBe(3);
    expect(s.accuracy).toBeCloseTo(0.6);
    expect(s.empty).toBe(1);
    expect(s.perClass.slice(0, 4)).toEqual([1, 1, 1 / 3, null]);
    expect(s.confusion[2]).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(s.confusion[1][1]).toBe(1);
  });
});

describe('evaluateMnist and evaluatePendigits', () => {
  const set = {
    count: 4,
    labels: Uint8Array.from([1, 2, 3, 4]),
    images: new Uint8Array(4 * MODEL_PIXELS),
  };
  // A square of ink in each digit; the last has none.
  for (let d = 0; d < 3; d++)
    for (let y = 10; y < 18; y++)
      set.images.fill(255, d * MODEL_PIXELS + y * 28 + 10, d * MODEL_PIXELS + y * 28 + 18);

  it('scores the model alone and the pipeline, honouring the limit', async () => {
    const m = await evaluateMnist(fakeModel(), { set, limit: 3, variants: [{}] });
    expect(m.count).toBe(3);
    expect(m.plain?.count).toBe(3);
    expect(m.vote.count).toBe(3);
    expect(m.vote.empty).toBe(0);
    const all = await evaluateMnist(fakeModel(), { set, variants: [{}], plain: false });
    expect(all.plain).toBeNull();
    expect(all.vote.empty).toBe(1);
    expect(formatMnist(all)).toContain('MNIST test set (4 digits');
  });

  it('renders pen digits at the brush given', async () => {
    const digits = [
      {
        label: 1,
        writer: 3,
        sample: 1,
        line: 1,
        strokes: [
          [
            { x: 250, y: 450 },
            { x: 250, y: 50 },
          ],
        ],
      },
      { label: 7, writer: 4, sample: 2, line: 9, strokes: [[{ x: 250, y: 250 }]] },
    ];
    const r = await evaluatePendigits(fakeModel(), digits, { brush: 8, variants: [{}] });
    expect(r.brush).toBe(8);
    expect(r.count).toBe(2);
    expect(r.vote.empty).toBe(0);
    expect([...r.perWriter.keys()].sort()).toEqual([3, 4]);
    expect((await evaluatePendigits(fakeModel(), digits, { limit: 1, variants: [{}] })).count).toBe(
      1,
    );
    expect(formatPendigits([r], 2)).toContain('brush 8 px');
  });
});

describe('metrics.json', () => {
  async function metrics(hash: string, pendigits: boolean) {
    const set = {
      count: 2,
      labels: Uint8Array.from([0, 0]),
      images: new Uint8Array(2 * MODEL_PIXELS).fill(255),
    };
    const model = fakeModel();
    const mnist = await evaluateMnist(model, { set, variants: [{}] });
    const pen = await evaluatePendigits(
      model,
      [{ label: 0, writer: 1, strokes: [[{ x: 1, y: 1 }]] }],
      {
        brush: 16,
        variants: [{}],
      },
    );
    return buildMetrics({
      name: 'test-net',
      params: 1234,
      weightsSha256: hash,
      variants: [{}],
      training: null,
      mnist,
      pendigits: pendigits
        ? {
            validation: { writerIds: [1], results: [pen] },
            all: { writerIds: [1, 2], results: [pen] },
          }
        : null,
      date: new Date('2024-01-02T03:04:05Z'),
      git: { commit: 'abc', dirty: false },
    });
  }

  it('has the documented keys', async () => {
    const m = await metrics('h1', true);
    expect(Object.keys(m).sort()).toEqual(
      [
        'architecture',
        'commit',
        'date',
        'dirty',
        'mnist',
        'name',
        'params',
        'pendigits',
        'pendigitsAllWriters',
        'training',
        'unipen',
        'unsure',
        'variants',
        'weightsSha256',
      ].sort(),
    );
    expect(Object.keys(m.mnist).sort()).toEqual([
      'confusion',
      'count',
      'mean',
      'off',
      'perClass',
      'plain',
      'vote',
    ]);
    expect(m.pendigits?.brush16).toMatchObject({
      vote: expect.any(Number),
      mean: expect.any(Number),
      off: expect.any(Number),
    });
    expect(m.pendigits?.writerIds).toEqual([1]);
    expect(m.pendigitsAllWriters?.writers).toBe(2);
    expect(m.date).toBe('2024-01-02T03:04:05.000Z');
    expect(m.training.history).toBeNull();
    expect(m.training.config.epochs).toBeGreaterThan(0);
  });

  it('merges: keeps others keys, keeps old sections for the same weights only', async () => {
    const old = { name: 'old', notes: 'kept', weightsSha256: 'h1', pendigits: { count: 9 } };
    const same = mergeMetrics(old, await metrics('h1', false));
    expect(same.notes).toBe('kept');
    expect(same.name).toBe('test-net');
    expect(same.pendigits).toEqual({ count: 9 });
    const other = mergeMetrics(old, await metrics('h2', false));
    expect(other.notes).toBe('kept');
    expect(other.pendigits).toBeNull();
  });

  it('writes readable JSON next to the model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metrics-'));
    await writeFile(join(dir, 'metrics.json'), JSON.stringify({ extra: 1 }));
    await writeMetrics(dir, await metrics('h1', true));
    const text = await readFile(join(dir, 'metrics.json'), 'utf8');
    const json = JSON.parse(text) as { extra: number; mnist: { confusion: { vote: number[][] } } };
    expect(json.extra).toBe(1);
    expect(json.mnist.confusion.vote[0].reduce((a, b) => a + b, 0)).toBe(2);
    expect(text).toContain(`[${json.mnist.confusion.vote[0].join(', ')}]`);
  });

  it('formats lists of numbers on one line', () => {
    expect(formatJson({ a: [1, -2.5, null], b: [[1, 2]], c: ['x'] })).toBe(
      '{\n  "a": [1, -2.5, null],\n  "b": [\n    [1, 2]\n  ],\n  "c": [\n    "x"\n  ]\n}\n',
    );
  });
});

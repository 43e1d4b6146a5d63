import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist.ts';
import { makeBatch } from '../../src/training/batches.ts';
import { loadCheckpoint } from '../../src/training/checkpoint.ts';
import {
  learningRateAt,
  STROKE_AUGMENT,
  TRAIN,
  type TrainConfig,
} from '../../src/training/config.ts';
import { renderSet } from '../../src/training/rendered-sets.ts';
import { Replicas } from '../../src/training/replicas.ts';
import { epochOrder, train } from '../../src/training/train.ts';
import { Random } from '../../src/core/random.ts';

const SMOKE: TrainConfig = {
  ...TRAIN,
  epochs: 3,
  limit: 320,
  batchSize: 64,
  warmupEpochs: 0.5,
  workers: 2,
  penDigits: null,
  unipen: null,
};

describe('training', () => {
  it('a smoke run on 320 digits lowers the loss and saves a loadable model', async () => {
    const out = await mkdtemp(join(tmpdir(), 'train-'));
    const epochs: number[] = [];
    const result = await train(
      { config: SMOKE, out, resume: false, testLimit: 200 },
      { onEpoch: (e) => epochs.push(e.loss) },
    );
    expect(result.completed).toBe(true);
    expect(epochs).toHaveLength(3);
    expect(epochs[2]).toBeLessThan(epochs[0]);
    expect(result.history[2].testAccuracy).toBeGreaterThan(0.3);
    const modelJson = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect((await stat(join(out, 'weights.bin'))).size).toBe(result.params * 4);
    // What is shipped is the weights' moving average, and both are evaluated.
    expect(result.history[2].trainedTestAccuracy).toBeGreaterThan(0.3);
    expect(await readFile(join(out, 'weights.bin'))).toEqual(
      await readFile(join(out, 'checkpoint', 'averaged.bin')),
    );
    expect(await readFile(join(out, 'weights.bin'))).not.toEqual(
      await readFile(join(out, 'checkpoint', 'weights.bin')),
    );
  });

  it('keeps the moving average of the weights, with fewer steps averaged at first', async () => {
    const set = await loadMnist('train');
    const batch = makeBatch(
      set,
      Uint32Array.from({ length: 16 }, (_, i) => i),
      new Random(1),
      null,
    );
    const arch = { ...TRAIN.architecture, blocks: [[4]], dense: 8 };
    const replicas = await Replicas.start(1, arch, 1, null, 0.999);
    try {
      const before = new Float32Array((await replicas.state()).weightData);
      await replicas.step(batch, 1e-2, 0);
      const after = await replicas.state();
      const trained = new Float32Array(after.weightData);
      const averaged = new Float32Array(after.averagedWeightData!);
      // Step 0 averages with decay min(0.999, 1/10): 0.1 of the old weights, 0.9 of the new.
      const changed = trained.findIndex((w, i) => Math.abs(w - before[i]) > 1e-4);
      expect(changed).toBeGreaterThanOrEqual(0);
      for (const i of [0, changed, trained.length - 1])
        expect(averaged[i]).toBeCloseTo(0.1 * before[i] + 0.9 * trained[i], 6);
    } finally {
      await replicas.close();
    }
  });

  it('stops with a checkpoint mid-epoch and resumes from it', async () => {
    const out = await mkdtemp(join(tmpdir(), 'resume-'));
    const config = { ...SMOKE, epochs: 2 };
    let batches = 0;
    const first = await train(
      { config, out, resume: false, testLimit: 100 },
      { onBatch: () => batches++, shouldStop: () => batches >= 2 },
    );
    expect(first.completed).toBe(false);
    const saved = await loadCheckpoint(out);
    expect(saved.progress).toMatchObject({ epoch: 0, batch: 2 });
    expect(saved.state.optimizer.length).toBeGreaterThan(0);
    expect(saved.state.averagedWeightData?.byteLength).toBe(saved.state.weightData.byteLength);

    const resumedBatches: [number, number][] = [];
    const second = await train(
      { config, out, resume: true, testLimit: 100 },
      { onBatch: (b) => resumedBatches.push([b.epoch, b.batch]) },
    );
    expect(second.completed).toBe(true);
    expect(resumedBatches[0]).toEqual([0, 3]); // continues where it stopped
    expect(second.history.map((h) => h.epoch)).toEqual([1, 2]);
  });

  it('refuses --resume without a checkpoint and an unwritable output folder', async () => {
    const out = await mkdtemp(join(tmpdir(), 'empty-'));
    await expect(train({ config: SMOKE, out, resume: true })).rejects.toThrow(/no checkpoint/);
    await expect(
      train({ config: SMOKE, out, resume: false, mnistDir: join(out, 'no-mnist') }),
    ).rejects.toThrow(/no-mnist\/train-images-idx3-ubyte: file not found/);
    // A path below a regular file cannot be a folder, even for root.
    const file = join(out, 'a-file');
    await writeFile(file, 'x');
    await expect(train({ config: SMOKE, out: join(file, 'model'), resume: false })).rejects.toThrow(
      /cannot write to the output folder/,
    );
  });
});

describe('rendered sets in training', () => {
  it('each pen digit comes once per epoch, at one of its brushes', () => {
    const order = Array.from(epochOrder(100, 1, 0, [{ items: 5, variants: 2, perEpoch: 5 }]));
    expect(order).toHaveLength(105);
    expect(order.filter((i) => i < 100).sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
    const pen = order.filter((i) => i >= 100).map((i) => (i - 100) % 5);
    expect(pen.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(order.every((i) => i < 110)).toBe(true);
  });

  it('draws a subset of a set each epoch, different from one epoch to the next', () => {
    const sets = [
      { items: 5, variants: 2, perEpoch: 5 },
      { items: 50, variants: 1, perEpoch: 10 },
    ];
    const drawn = (epoch: number) =>
      Array.from(epochOrder(100, 1, epoch, sets))
        .filter((i) => i >= 110)
        .sort((a, b) => a - b);
    const first = drawn(0);
    expect(first).toHaveLength(10);
    expect(new Set(first).size).toBe(10);
    expect(first.every((i) => i < 160)).toBe(true);
    expect(drawn(1)).not.toEqual(first);
  });

  it('draws every item of a set twice and a half when asked for that many', () => {
    const order = Array.from(epochOrder(10, 1, 0, [{ items: 4, variants: 3, perEpoch: 10 }]));
    const items = order.filter((i) => i >= 10).map((i) => (i - 10) % 4);
    expect(items).toHaveLength(10);
    const times = [0, 1, 2, 3].map((item) => items.filter((i) => i === item).length).sort();
    expect(times).toEqual([2, 2, 3, 3]);
    expect(order.every((i) => i < 10 + 12)).toBe(true);
  });

  it('renders every sample at every brush, or once each at a random brush', async () => {
    const stroke = [
      { x: 250, y: 400 },
      { x: 250, y: 100 },
    ];
    const samples = [1, 3].map((label) => ({ label, strokes: [stroke] }));
    const set = await renderSet(samples, [8, 16]);
    expect(set.items).toBe(2);
    expect(set.variants).toBe(2);
    expect(Array.from(set.labels)).toEqual([1, 3, 1, 3]);
    const ink = (i: number) =>
      set.images.subarray(i * 784, (i + 1) * 784).reduce((a, b) => a + b, 0);
    expect(ink(2)).toBeGreaterThan(ink(0)); // the bolder brush leaves more ink
    const once = await renderSet(samples, [8, 16], { oneBrushEach: new Random(1), perEpoch: 1 });
    expect([once.count, once.variants, once.perEpoch]).toEqual([2, 1, 1]);
  });

  it('adds renderings with the strokes augmented, after those as written', async () => {
    const flagged = [
      { x: 200, y: 300 },
      { x: 250, y: 400 },
      { x: 250, y: 100 },
    ];
    const samples = [{ label: 1, strokes: [flagged] }];
    const plain = await renderSet(samples, [8, 16]);
    const config = { ...STROKE_AUGMENT, cornerProbability: 1, cornerScale: [0.5, 0.5] as const };
    const set = await renderSet(samples, [8, 16], {
      strokeVariants: { count: 2, config, rng: new Random(3) },
    });
    expect([set.items, set.variants, set.count]).toEqual([1, 6, 6]);
    expect(Array.from(set.labels)).toEqual([1, 1, 1, 1, 1, 1]);
    const image = (s: typeof set, i: number) =>
      Array.from(s.images.subarray(i * 784, (i + 1) * 784));
    expect(image(set, 0)).toEqual(image(plain, 0));
    expect(image(set, 1)).toEqual(image(plain, 1));
    for (const v of [2, 3, 4, 5]) expect(image(set, v)).not.toEqual(image(plain, v % 2));
  });
});

describe('npm run train (CLI)', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/train.ts', ...args], {
      encoding: 'utf8',
    });

  it('rejects bad flags with a clear message', () => {
    const bad = cli('--epochs', '0');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--epochs must be a positive integer, got "0"');
    expect(cli('--bogus').status).not.toBe(0);
  });

  it('prints its usage', () => {
    const help = cli('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: npm run train -- \[--epochs N\]/);
  });
});

describe('schedule and order', () => {
  it('warms up, peaks, then anneals to the minimum', () => {
    const cfg = { ...TRAIN, epochs: 10, warmupEpochs: 1 };
    expect(learningRateAt(cfg, 0)).toBeCloseTo(cfg.minLearningRate);
    expect(learningRateAt(cfg, 1)).toBeCloseTo(cfg.maxLearningRate);
    expect(learningRateAt(cfg, 5)).toBeLessThan(cfg.maxLearningRate);
    expect(learningRateAt(cfg, 10)).toBeCloseTo(cfg.minLearningRate);
  });

  it('shuffles each epoch differently but reproducibly', () => {
    const a = epochOrder(100, 1, 0);
    expect(epochOrder(100, 1, 0)).toEqual(a);
    expect(epochOrder(100, 1, 1)).not.toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(100).keys()]);
  });
});

/** npm run train:line's loop on tiny data: steps, held-out readings, checkpoints and resume. */
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LINE_TRAIN,
  PAPER_LINE_DATA,
  type LineTrainConfig,
} from '../../src/training/line-config.ts';
import { loadLineSources } from '../../src/training/line-sources.ts';
import { trainLine } from '../../src/training/line-train.ts';
import { lineSample } from '../../src/training/line-samples.ts';
import { LINE_HEIGHT, LINE_STRIDE } from '../../src/core/line-image.ts';
import { DIGIT_CLASS, isDigitToken } from '../../src/core/ctc.ts';
import { Random } from '../../src/core/random.ts';
import { writeTinyPenData } from '../support/pen-data.ts';

const SMOKE: LineTrainConfig = {
  ...LINE_TRAIN,
  batchSize: 16,
  steps: 6,
  warmupSteps: 2,
  checkpointEvery: 3,
  workers: 2,
};

describe('the line model training', () => {
  it('draws strips that read as their tokens say, from the writers of one split only', async () => {
    const dirs = await writeTinyPenData(await mkdtemp(join(tmpdir(), 'pen-')));
    const training = await loadLineSources('training', dirs);
    const validation = await loadLineSources('validation', dirs);
    expect(training.banks.map((b) => b.bank.writers.length)).toEqual([2, 2]);
    expect(validation.banks.map((b) => b.bank.writers.length)).toEqual([1, 1]);
    expect(training.banks[0].bank.writers).not.toContain(validation.banks[0].bank.writers[0]);
    const rng = new Random(1);
    const kinds = new Set<string>();
    for (let i = 0; i < 150; i++) {
      const s = lineSample(training, rng, LINE_TRAIN.data);
      kinds.add(s.kind);
      expect(s.image.height).toBe(LINE_HEIGHT);
      expect(s.image.width % LINE_STRIDE).toBe(0);
      // Every token fits: at least a column each, and a blank between repeats.
      expect(s.image.width / LINE_STRIDE).toBeGreaterThanOrEqual(2 * s.tokens.length);
      expect(s.text).toBe(
        s.tokens
          .filter(isDigitToken)
          .map((t) => t - DIGIT_CLASS)
          .join(''),
      );
    }
    expect(kinds).toEqual(new Set(['number', 'word', 'scribble']));
    // The scanned fields of each split, as strips whose tokens are their digits.
    expect(training.fields.map((f) => f.text).join('')).toMatch(/^1+$/);
    expect(training.fields).toHaveLength(4);
    expect(validation.fields).toHaveLength(2);
    expect(training.fields.map((f) => f.path)).not.toContain(validation.fields[0].path);
    // Numbers of MNIST's scanned digits, as the line model of paper also learns from.
    expect(training.images?.set.count).toBe(60000);
    const scannedOnly = { ...PAPER_LINE_DATA, scanned: 1, fields: 0, words: 0, scribbles: 0 };
    for (let i = 0; i < 10; i++) {
      const s = lineSample(training, rng, scannedOnly);
      expect(s.text).toMatch(/^\d+$/);
      expect(s.image.width / LINE_STRIDE).toBeGreaterThanOrEqual(2 * s.tokens.length);
    }
    const fieldsOnly = { ...LINE_TRAIN.data, fields: 1 };
    for (let i = 0; i < 20; i++) {
      const s = lineSample(training, rng, fieldsOnly);
      expect(training.fields.map((f) => f.text)).toContain(s.text);
      expect(s.image.height).toBe(LINE_HEIGHT);
      expect(s.image.width % LINE_STRIDE).toBe(0);
      expect(s.image.width / LINE_STRIDE).toBeGreaterThanOrEqual(2 * s.tokens.length);
    }
  });

  it('trains, reads held-out writers at each checkpoint, saves the model and resumes', async () => {
    const dirs = await writeTinyPenData(await mkdtemp(join(tmpdir(), 'pen-')));
    const out = await mkdtemp(join(tmpdir(), 'line-'));
    const losses: number[] = [];
    const first = await trainLine(
      { config: SMOKE, out, resume: false, ...dirs, validationSize: 8 },
      { onStep: (r) => losses.push(r.loss) },
    );
    expect(first.completed).toBe(true);
    expect(losses).toHaveLength(6);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(first.progress.history.map((h) => h.step)).toEqual([3, 6]);
    for (const h of first.progress.history) {
      expect(Object.keys(h.exact).sort()).toEqual(['checks', 'spaced', 'tight']);
      expect(h.wordsFlagged).toBeGreaterThanOrEqual(0);
    }
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.params).toBe(first.params);
    expect((await stat(join(out, 'weights.bin'))).size).toBe(first.params * 4);
    // What ships is the weights' moving average.
    expect(await readFile(join(out, 'weights.bin'))).toEqual(
      await readFile(join(out, 'checkpoint', 'averaged.bin')),
    );

    const resumed = await trainLine({
      config: { ...SMOKE, steps: 9 },
      out,
      resume: true,
      ...dirs,
      validationSize: 8,
    });
    expect(resumed.progress.step).toBe(9);
    expect(resumed.progress.history.map((h) => h.step)).toEqual([3, 6, 9]);
  });
});

/** The Kaggle MNIST CSV (src/data/mnist-csv.ts) and training on exported corrections. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadMnistCsv,
  MNIST_CSV_HEADER,
  MnistCsvError,
  mnistCsvRow,
  parseMnistCsv,
} from '../../src/data/mnist-csv.ts';
import { TRAIN, type TrainConfig } from '../../src/training/config.ts';
import { train } from '../../src/training/train.ts';

const pixels = (seed: number) => Array.from({ length: 784 }, (_, i) => (i * seed) % 256);
const csv = (...rows: string[]) => `${MNIST_CSV_HEADER}\n${rows.join('')}`;

describe('MNIST CSV', () => {
  it('reads back what it writes', () => {
    const set = parseMnistCsv(csv(mnistCsvRow(7, pixels(3)), mnistCsvRow(1, pixels(5))));
    expect(set.count).toBe(2);
    expect(Array.from(set.labels)).toEqual([7, 1]);
    expect(Array.from(set.images.subarray(784, 1568))).toEqual(pixels(5));
    expect(parseMnistCsv(`${MNIST_CSV_HEADER}\r\n`).count).toBe(0);
  });

  it('names the line and the field that is wrong', () => {
    const bad = (text: string) => () => parseMnistCsv(text, 'x.csv');
    expect(bad('label,pixel0\n1,2\n')).toThrow(/x.csv: line 1 must be the header/);
    expect(bad(csv(mnistCsvRow(7, pixels(3)), '3,1,2\n'))).toThrow(
      /line 3: 3 fields, expected 785/,
    );
    expect(bad(csv(mnistCsvRow(10, pixels(3))))).toThrow(
      /line 2: the label must be a digit 0-9, not "10"/,
    );
    const over = pixels(3);
    over[5] = 256;
    expect(bad(csv(mnistCsvRow(1, over)))).toThrow(
      /line 2: pixel5 must be a whole number 0-255, not "256"/,
    );
    over[5] = -1;
    expect(bad(csv(mnistCsvRow(1, over)))).toThrow(MnistCsvError);
  });

  it('says which file it cannot read', async () => {
    await expect(loadMnistCsv('/no/such/corrections.csv')).rejects.toThrow(
      /cannot read \/no\/such\/corrections.csv/,
    );
  });
});

describe('training with --corrections', () => {
  it('trains on a tiny corrections CSV', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'train-corrections-'));
    const file = join(dir, 'corrections.csv');
    await writeFile(
      file,
      csv(mnistCsvRow(1, pixels(3)), mnistCsvRow(7, pixels(7)), mnistCsvRow(4, pixels(11))),
    );
    const config: TrainConfig = {
      ...TRAIN,
      epochs: 1,
      limit: 64,
      batchSize: 32,
      workers: 1,
      penDigits: null,
      unipen: null,
    };
    let sources: Record<string, number> = {};
    const result = await train(
      { config, out: join(dir, 'model'), resume: false, testLimit: 50, correctionsFile: file },
      { onStart: (info) => (sources = info.sources) },
    );
    expect(result.completed).toBe(true);
    expect(sources).toEqual({ MNIST: 64, corrections: 3 });
  });

  it('refuses a broken corrections file before training starts', () => {
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/train.ts',
        '--corrections',
        '/no/such.csv',
        '--out',
        join(tmpdir(), 'never'),
      ],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('cannot read /no/such.csv');
  });
});

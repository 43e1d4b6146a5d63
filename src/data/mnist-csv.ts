/**
 * Digits as CSV in the Kaggle MNIST layout: a header `label,pixel0,…,pixel783`, then one row
 * per digit, its label and its 784 pixels 0-255 (ink = 255) row by row. The server exports
 * users' corrections in it (GET /api/corrections/export) and training reads them back
 * (`npm run train -- --corrections FILE.csv`).
 */
import { readFile } from 'node:fs/promises';
import { MODEL_PIXELS } from '../core/image.ts';
import type { DigitSet } from './mnist.ts';

export const MNIST_CSV_HEADER = `label,${Array.from({ length: MODEL_PIXELS }, (_, i) => `pixel${i}`).join(',')}`;

/** One digit as a CSV line (with its newline). */
export function mnistCsvRow(label: number, pixels: ArrayLike<number>): string {
  return `${label},${Array.prototype.join.call(pixels, ',')}\n`;
}

export class MnistCsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MnistCsvError';
  }
}

/** Parses the CSV; throws MnistCsvError naming the line and what is wrong with it. */
export function parseMnistCsv(text: string, source = 'the CSV'): DigitSet {
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines[0]?.trim() !== MNIST_CSV_HEADER) {
    throw new MnistCsvError(
      `${source}: line 1 must be the header label,pixel0,…,pixel783 (the Kaggle MNIST layout, as GET /api/corrections/export writes it)`,
    );
  }
  const count = lines.length - 1;
  const images = new Uint8Array(count * MODEL_PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const where = `${source}, line ${i + 2}`;
    const fields = lines[i + 1].split(',');
    if (fields.length !== MODEL_PIXELS + 1) {
      throw new MnistCsvError(
        `${where}: ${fields.length} fields, expected ${MODEL_PIXELS + 1} (a label and 784 pixels)`,
      );
    }
    const values = fields.map((field) => (/^\s*\d+\s*$/.test(field) ? Number(field) : NaN));
    if (!(values[0] >= 0 && values[0] <= 9)) {
      throw new MnistCsvError(`${where}: the label must be a digit 0-9, not "${fields[0]}"`);
    }
    labels[i] = values[0];
    for (let p = 0; p < MODEL_PIXELS; p++) {
      const v = values[p + 1];
      if (!(v >= 0 && v <= 255)) {
        throw new MnistCsvError(
          `${where}: pixel${p} must be a whole number 0-255, not "${fields[p + 1]}"`,
        );
      }
      images[i * MODEL_PIXELS + p] = v;
    }
  }
  return { images, labels, count };
}

export async function loadMnistCsv(path: string): Promise<DigitSet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MnistCsvError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseMnistCsv(text, path);
}

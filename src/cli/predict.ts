/**
 * The `digits` command's logic (entry point: src/cli/digits.ts, bin/digits.js):
 *
 *   digits predict a.png b.jpg [--json] [--ensemble vote|mean|off] [--model DIR] [--ink dark|light]
 *   digits read a.png b.jpg [same options] [--lines]
 *
 * One line per file (`a.png: 7 (98.1%, votes 10/10)`; for `read`, the number and each
 * digit's confidence: `a.png: 2024 (99.1% 98.0% 99.9% 97.3%)`) or a JSON array with --json.
 * Exit codes: 0 every file recognised; 1 some file missing, unreadable, not an image or
 * without ink (a message for each on stderr; the others are still recognised), or the
 * model could not be loaded; 2 usage errors.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { InputError } from '../core/errors.ts';
import type { GrayBitmap, InkPolarity } from '../core/preprocess.ts';
import { describeUncertainty } from '../core/unsure.ts';
import { ENSEMBLES, type Ensemble } from '../core/vote.ts';
import { formatJson } from '../evaluation/json.ts';
import { decodeImage } from '../node/decode.ts';
import type { Recognizer } from '../recognizer/recognizer.ts';
import type { Reading, Recognition } from '../recognizer/answers.ts';

export const USAGE = `usage: digits predict FILE... [options]
       digits read FILE... [options]

predict recognises the handwritten digit in each PNG or JPEG file (dark ink on a
light background by default) and prints one line per file: "a.png: 7 (98.1%, votes 10/10)".
read reads a whole handwritten number (one or more digits, left to right) in each file:
"a.png: 2024 (99.1% 98.0% 99.9% 97.3%)", each digit's confidence in order. A scan or a
photo of a form or a check is made plain first (its paper, print and ruled lines).

options:
  --json                    print a JSON array, one object per file, in order
  --ensemble vote|mean|off  how the 10 test-time variants are combined (default vote)
  --ink dark|light          dark ink on light paper (default), or light ink on dark
                            (MNIST's own convention)
  --model DIR               the model folder (default: the shipped models/mnist-cnn)
  --lines                   read: the image is a page of numbers, read line by line,
                            top to bottom (one line of output each)
  -h, --help                this text

exit codes: 0 all files recognised, 1 some file could not be read or had no ink
(the others are still recognised), 2 usage error.`;

export class UsageError extends Error {}

export interface PredictArgs {
  readonly files: string[];
  readonly json: boolean;
  readonly ensemble: Ensemble;
  readonly ink: InkPolarity;
  readonly model: string | undefined;
  /** read: the image is a page, read line by line. */
  readonly lines: boolean;
}

export type Operation = 'predict' | 'read';

export type Command =
  { readonly command: 'help' } | ({ readonly command: Operation } & PredictArgs);

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/** Parses the command line (without `node` and the script); throws UsageError. */
export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        ensemble: { type: 'string' },
        ink: { type: 'string' },
        model: { type: 'string' },
        lines: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...files] = positionals;
  if (values.help || command === 'help') return { command: 'help' };
  if (command === undefined) throw new UsageError('no command given');
  if (command !== 'predict' && command !== 'read') {
    throw new UsageError(`unknown command "${command}"`);
  }
  if (files.length === 0) {
    throw new UsageError(`no files given: digits ${command} a.png [b.png ...]`);
  }
  if (values.lines && command !== 'read') throw new UsageError('--lines goes with read');
  return {
    command,
    files,
    json: values.json,
    ensemble: oneOf('ensemble', values.ensemble, ENSEMBLES, 'vote'),
    ink: oneOf('ink', values.ink, ['dark', 'light'] as const, 'dark'),
    model: values.model,
    lines: values.lines,
  };
}

export interface FileError {
  readonly code: string;
  readonly message: string;
}

/** Reads and decodes one file; a FileError says what is wrong with it. */
export async function readBitmap(file: string): Promise<GrayBitmap | FileError> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory, not an image file'
          : code === 'EACCES'
            ? 'permission denied'
            : `cannot read it (${code ?? (err as Error).message})`;
    return { code: code === 'ENOENT' ? 'not_found' : 'unreadable', message };
  }
  if (bytes.length === 0) return { code: 'invalid_image', message: 'the file is empty' };
  try {
    return decodeImage(bytes);
  } catch (err) {
    if (err instanceof InputError) return { code: err.code, message: err.message };
    throw err;
  }
}

const isError = (r: GrayBitmap | FileError): r is FileError => 'code' in r;

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * The one-line answer: `7 (98.1%, votes 10/10)`, or `7 (98.1%)` with ensemble off; an unsure
 * one says so first: `unsure: A 1 or a 7? 1 (52.0%, votes 6/10)`.
 */
export function describeResult(r: Recognition): string {
  const confidence = `${(r.confidence * 100).toFixed(1)}%`;
  const answer =
    r.ensemble === 'off'
      ? `${r.digit} (${confidence})`
      : `${r.digit} (${confidence}, votes ${r.votes[r.digit]}/${r.variants})`;
  const doubt = describeUncertainty(r);
  return doubt ? `unsure: ${doubt} Best guess ${answer}` : answer;
}

/**
 * The one-line answer of `read`: `2024 (99.1% 98.0% 99.9% 97.3%)`; an unsure digit's
 * confidence is marked `?`, and the line says so first: `unsure: 2024 (99.1% 52.0%? …)`; a
 * drawing that is no number says that: `not a number: 14 (…)`, or `not a number` alone.
 */
export function describeReading(r: Reading): string {
  if (r.lines)
    return [
      `${r.lines.length} line${r.lines.length === 1 ? '' : 's'}`,
      ...r.lines.map(
        (line, k) =>
          `  ${k + 1}: ${describeNumber({ ...line, digits: r.digits.slice(line.first, line.first + line.count) })}`,
      ),
    ].join('\n');
  return describeNumber(r);
}

function describeNumber(r: Pick<Reading, 'digits' | 'text' | 'reason' | 'unsure'>): string {
  const each = r.digits.map((d) => `${(d.confidence * 100).toFixed(1)}%${d.unsure ? '?' : ''}`);
  if (r.reason === 'not_a_number')
    return r.digits.length ? `not a number: ${r.text} (${each.join(' ')})` : 'not a number';
  return `${r.unsure ? 'unsure: ' : ''}${r.text} (${each.join(' ')})`;
}

function recognitionJson(r: Recognition) {
  return {
    digit: r.digit,
    confidence: round(r.confidence, 6),
    probabilities: r.probabilities.map((p) => round(p, 6)),
    votes: r.votes,
    variants: r.variants,
    ensemble: r.ensemble,
    unsure: r.unsure,
    reason: r.reason,
    ...(r.alternatives && {
      alternatives: r.alternatives.map((a) => ({ ...a, confidence: round(a.confidence, 6) })),
    }),
  };
}

/** What each operation does with a recognizer and a bitmap, and how it prints the answer. */
const OPERATIONS = {
  predict: {
    run: (recognizer: Recognizer, bitmap: GrayBitmap, args: PredictArgs) =>
      recognizer.recognize(bitmap, { ink: args.ink, ensemble: args.ensemble }),
    line: describeResult,
    json: (r: Recognition) => ({ ...recognitionJson(r), ms: round(r.ms, 2) }),
  },
  read: {
    run: (recognizer: Recognizer, bitmap: GrayBitmap, args: PredictArgs) =>
      recognizer.read(bitmap, {
        ink: args.ink,
        ensemble: args.ensemble,
        layout: args.lines ? 'lines' : 'number',
      }),
    line: describeReading,
    json: (r: Reading) => ({
      text: r.text,
      unsure: r.unsure,
      reason: r.reason,
      digits: r.digits.map((d) => ({ ...recognitionJson(d), box: d.box })),
      marks: r.marks,
      ...(r.lines && { lines: r.lines }),
      ms: round(r.ms, 2),
    }),
  },
} as const;

async function runFiles<T extends Recognition | Reading>(
  args: PredictArgs,
  operation: {
    run: (recognizer: Recognizer, bitmap: GrayBitmap, args: PredictArgs) => T;
    line: (answer: T) => string;
    json: (answer: T) => object;
  },
): Promise<number> {
  const bitmaps = await Promise.all(args.files.map(readBitmap));
  const results: (T | FileError)[] = bitmaps.map((b) => b as FileError);
  if (bitmaps.some((b) => !isError(b))) {
    // Loaded only when there is something to recognise: the wasm start-up is the slow part.
    const { loadRecognizer, DEFAULT_MODEL_DIR } = await import('../recognizer/node.ts');
    const recognizer = await loadRecognizer(args.model ?? DEFAULT_MODEL_DIR);
    bitmaps.forEach((bitmap, i) => {
      if (isError(bitmap)) return;
      try {
        results[i] = operation.run(recognizer, bitmap, args);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        results[i] = {
          code: err.code,
          message: err.code === 'empty_image' ? 'no ink found: the image is blank' : err.message,
        };
      }
    });
  }
  const failed = (r: T | FileError): r is FileError => 'code' in r;
  results.forEach((r, i) => {
    if (failed(r)) console.error(`${args.files[i]}: ${r.message}`);
  });
  if (args.json) {
    const json = results.map((r, i) =>
      failed(r)
        ? { file: args.files[i], error: { code: r.code, message: r.message } }
        : { file: args.files[i], ...operation.json(r) },
    );
    process.stdout.write(formatJson(json));
  } else {
    results.forEach((r, i) => {
      if (!failed(r)) console.log(`${args.files[i]}: ${operation.line(r)}`);
    });
  }
  return results.some(failed) ? 1 : 0;
}

export async function run(argv: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`digits: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.command === 'help') {
    console.log(USAGE);
    return 0;
  }
  return command.command === 'read'
    ? runFiles(command, OPERATIONS.read)
    : runFiles(command, OPERATIONS.predict);
}

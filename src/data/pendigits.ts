/**
 * The pen-digits development data (UCI "Pen-Based Recognition of Handwritten Digits",
 * original trajectories) in its UNIPEN-style text:
 *
 *   .SEGMENT DIGIT    0 ? "8"     a new digit, its label in quotes
 *   .COMMENT 8  6  138            label, writer, sample number
 *   .PEN_DOWN                     a stroke begins
 *    273  323                     one point per line: x y (500x500 box, y pointing UP)
 *   .PEN_UP                       the stroke ends
 *
 * It stays outside the repository (design.md, "Development data"): scripts take
 * `--pendigits <dir>`, defaulting to `../shared/data/pendigits-train` beside the repository.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PenDataError, parsePenText, type PenStroke, type PenTextReader } from './pen-text.ts';

export { PenDataError, type PenPoint, type PenStroke } from './pen-text.ts';

export interface PenDigit {
  readonly label: number;
  /** Writer number from the `.COMMENT` line; null when the segment has none. */
  readonly writer: number | null;
  /** The writer's sample number from the `.COMMENT` line; null when absent. */
  readonly sample: number | null;
  /** Line of the `.SEGMENT` in the file (1-based), to find a digit again. */
  readonly line: number;
  readonly strokes: readonly PenStroke[];
}

/** Side of the writers' box, in tablet units. */
export const PEN_BOX = 500;
export const PENDIGITS_FILE = 'pendigits-orig.tra';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `../shared/data/pendigits-train` beside the repository. */
export function defaultPendigitsDir(): string {
  return resolve(REPO_ROOT, '../shared/data/pendigits-train');
}

const COMMENT_IDS = /^(\d+)\s+(\d+)\s+(\d+)$/;

interface OpenDigit {
  label: number;
  writer: number | null;
  sample: number | null;
}

const DIGIT_TEXT: PenTextReader<OpenDigit> = {
  open(label, line, fail) {
    if (label === undefined || !/^[0-9]$/.test(label)) {
      fail(`expected a digit label in quotes, like .SEGMENT DIGIT 0 ? "8", got "${line}"`);
    }
    return { label: Number(label), writer: null, sample: null };
  },
  comment(digit, comment, fail) {
    const ids = COMMENT_IDS.exec(comment);
    if (!ids) return;
    if (Number(ids[1]) !== digit.label) {
      fail(`the comment gives digit ${ids[1]} but the segment is "${digit.label}"`);
    }
    digit.writer = Number(ids[2]);
    digit.sample = Number(ids[3]);
  },
  describe: (digit) => `digit "${digit.label}"`,
};

/**
 * Parses the pen-digits text. `source` names the text in errors, which give the line:
 * `pendigits-orig.tra:12: ...`.
 */
export function parsePendigits(text: string, source = 'pen-digits text'): PenDigit[] {
  return parsePenText(text, source, DIGIT_TEXT);
}

/**
 * Reads the pen digits from `dir` (the folder holding `pendigits-orig.tra`, or the file
 * itself). A missing file is a PenDataError of kind `missing` that says where the data
 * is expected and how to point the scripts elsewhere.
 */
export async function loadPendigits(dir = defaultPendigitsDir()): Promise<PenDigit[]> {
  let path = join(dir, PENDIGITS_FILE);
  try {
    if ((await stat(dir)).isFile()) path = dir;
  } catch {
    // reported below, with the file's path
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PenDataError(
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `pen-digits data not found: ${path} does not exist. It stays outside the repository; ` +
            `scripts take --pendigits <dir> (the folder with ${PENDIGITS_FILE}), by default ` +
            `../shared/data/pendigits-train beside the repository (${defaultPendigitsDir()}).`
        : `cannot read the pen-digits data ${path}: ${code ?? (err as Error).message}`,
      'missing',
    );
  }
  const digits = parsePendigits(text, path);
  if (digits.length === 0) {
    throw new PenDataError(
      `${path}: no .SEGMENT digits in the file; is this the right file?`,
      'malformed',
    );
  }
  return digits;
}

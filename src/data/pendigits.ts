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

/** A pen position in the writer's box: 0..PEN_BOX, y pointing up (as recorded). */
export interface PenPoint {
  readonly x: number;
  readonly y: number;
}

export type PenStroke = readonly PenPoint[];

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

export class PendigitsError extends Error {
  constructor(
    message: string,
    /** `missing`: the file is not there; `malformed`: it is, but cannot be read as pen digits. */
    readonly kind: 'missing' | 'malformed',
  ) {
    super(message);
    this.name = 'PendigitsError';
  }
}

const SEGMENT = /^\.SEGMENT\b/;
const SEGMENT_LABEL = /"([^"]*)"/;
const COMMENT_IDS = /^\.COMMENT\s+(\d+)\s+(\d+)\s+(\d+)\s*$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

interface OpenDigit {
  label: number;
  writer: number | null;
  sample: number | null;
  line: number;
  strokes: PenPoint[][];
}

/**
 * Parses the UNIPEN-style text. `source` names the text in errors, which give the line:
 * `pendigits-orig.tra:12: ...`. Keywords other than the ones above (`.INCLUDE`, `.LEXICON`,
 * `.DT`, ...) are ignored outside strokes.
 */
export function parsePendigits(text: string, source = 'pen-digits text'): PenDigit[] {
  const digits: PenDigit[] = [];
  let current: OpenDigit | null = null;
  let stroke: PenPoint[] | null = null;
  let strokeLine = 0;
  const fail = (line: number, problem: string): never => {
    throw new PendigitsError(`${source}:${line}: ${problem}`, 'malformed');
  };
  const finishDigit = (line: number) => {
    if (!current) return;
    if (stroke) fail(strokeLine, `.PEN_DOWN is never closed by .PEN_UP (before line ${line})`);
    if (current.strokes.length === 0) fail(current.line, `digit "${current.label}" has no strokes`);
    digits.push({ ...current });
    current = null;
  };

  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i].trim();
    if (line === '') continue;
    if (line.startsWith('.')) {
      const keyword = line.split(/\s+/, 1)[0];
      if (SEGMENT.test(line)) {
        finishDigit(n);
        const label = SEGMENT_LABEL.exec(line)?.[1];
        if (label === undefined || !/^[0-9]$/.test(label)) {
          fail(n, `expected a digit label in quotes, like .SEGMENT DIGIT 0 ? "8", got "${line}"`);
        }
        current = { label: Number(label), writer: null, sample: null, line: n, strokes: [] };
      } else if (keyword === '.PEN_DOWN') {
        if (!current) fail(n, '.PEN_DOWN before any .SEGMENT');
        if (stroke) fail(n, `.PEN_DOWN while the stroke of line ${strokeLine} is still down`);
        stroke = [];
        strokeLine = n;
      } else if (keyword === '.PEN_UP') {
        if (!stroke) fail(n, '.PEN_UP without a .PEN_DOWN');
        if (stroke!.length === 0) fail(n, `the stroke of line ${strokeLine} has no points`);
        current!.strokes.push(stroke!);
        stroke = null;
      } else if (stroke) {
        fail(n, `unexpected ${keyword} inside a stroke (line ${strokeLine} put the pen down)`);
      } else if (keyword === '.COMMENT' && current) {
        const ids = COMMENT_IDS.exec(line);
        if (ids) {
          if (Number(ids[1]) !== current.label) {
            fail(
              n,
              `the comment gives digit ${ids[1]} but the segment of line ${current.line} is "${current.label}"`,
            );
          }
          current.writer = Number(ids[2]);
          current.sample = Number(ids[3]);
        }
      }
      // Any other keyword (.INCLUDE, .LEXICON, .HIERARCHY, .DT, ...) carries nothing we use.
      continue;
    }
    const fields = line.split(/\s+/);
    if (fields.length < 2 || !fields.every((f) => NUMBER.test(f))) {
      fail(n, `cannot read "${line}": expected a point "x y" or a .KEYWORD`);
    }
    if (!stroke) fail(n, `the point "${line}" is outside a .PEN_DOWN ... .PEN_UP stroke`);
    stroke!.push({ x: Number(fields[0]), y: Number(fields[1]) });
  }
  finishDigit(lines.length + 1);
  return digits;
}

/**
 * Reads the pen digits from `dir` (the folder holding `pendigits-orig.tra`, or the file
 * itself). A missing file is a PendigitsError of kind `missing` that says where the data
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
    throw new PendigitsError(
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
    throw new PendigitsError(
      `${path}: no .SEGMENT digits in the file; is this the right file?`,
      'malformed',
    );
  }
  return digits;
}

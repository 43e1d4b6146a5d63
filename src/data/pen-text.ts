/**
 * The UNIPEN-style text that both pen data sets use (the UCI pen digits and the UNIPEN
 * characters):
 *
 *   .SEGMENT DIGIT 0 ? "8"        a new sample, its label in quotes
 *   .COMMENT ...                  what the data set says of it (writer, sample number)
 *   .PEN_DOWN                     a stroke begins
 *    273  323                     one point per line: x y (y pointing UP)
 *   .PEN_UP                       the stroke ends; a sample may have several strokes
 *
 * Each data set reads its own labels and comments through `PenTextReader`; the strokes,
 * and every error about them, are read here once.
 */

import type { Point } from '../core/pen-points.ts';

/** A pen position in the device's own units, y pointing up (as recorded). */
export type PenPoint = Point;

export type PenStroke = readonly PenPoint[];

export class PenDataError extends Error {
  constructor(
    message: string,
    /** `missing`: the file is not there; `malformed`: it is, but cannot be read as pen data. */
    readonly kind: 'missing' | 'malformed',
  ) {
    super(message);
    this.name = 'PenDataError';
  }
}

/** What a data set makes of a segment's label and of the comments that follow it. */
export interface PenTextReader<S> {
  /** The sample opened by a `.SEGMENT` line; `label` is the quoted text, if any. */
  open(label: string | undefined, segmentLine: string, fail: (problem: string) => never): S;
  /** A `.COMMENT` line inside the sample (optional). */
  comment?(sample: S, comment: string, fail: (problem: string) => never): void;
  /** Names the sample in errors, e.g. `digit "7"`. */
  describe(sample: S): string;
}

export type Sampled<S> = S & { readonly line: number; readonly strokes: readonly PenStroke[] };

const SEGMENT = /^\.SEGMENT\b/;
const SEGMENT_LABEL = /"([^"]*)"/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Parses the text; `source` names it in errors, which give the line (`file.tra:12: ...`).
 * Keywords other than the ones above (`.INCLUDE`, `.LEXICON`, `.DT`, ...) carry nothing used
 * here and are skipped outside strokes.
 */
export function parsePenText<S extends object>(
  text: string,
  source: string,
  reader: PenTextReader<S>,
): Sampled<S>[] {
  const samples: Sampled<S>[] = [];
  let current: { sample: S; line: number; strokes: PenPoint[][] } | null = null;
  let stroke: PenPoint[] | null = null;
  let strokeLine = 0;
  const failAt =
    (line: number) =>
    (problem: string): never => {
      throw new PenDataError(`${source}:${line}: ${problem}`, 'malformed');
    };
  const finish = (line: number) => {
    if (!current) return;
    if (stroke) failAt(strokeLine)(`.PEN_DOWN is never closed by .PEN_UP (before line ${line})`);
    if (current.strokes.length === 0)
      failAt(current.line)(`${reader.describe(current.sample)} has no strokes`);
    samples.push({ ...current.sample, line: current.line, strokes: current.strokes });
    current = null;
  };

  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const fail = failAt(n);
    const line = lines[i].trim();
    if (line === '') continue;
    if (line.startsWith('.')) {
      const keyword = line.split(/\s+/, 1)[0];
      if (SEGMENT.test(line)) {
        finish(n);
        const sample = reader.open(SEGMENT_LABEL.exec(line)?.[1], line, fail);
        current = { sample, line: n, strokes: [] };
      } else if (keyword === '.PEN_DOWN') {
        if (!current) fail('.PEN_DOWN before any .SEGMENT');
        if (stroke) fail(`.PEN_DOWN while the stroke of line ${strokeLine} is still down`);
        stroke = [];
        strokeLine = n;
      } else if (keyword === '.PEN_UP') {
        if (!stroke) fail('.PEN_UP without a .PEN_DOWN');
        if (stroke!.length === 0) fail(`the stroke of line ${strokeLine} has no points`);
        current!.strokes.push(stroke!);
        stroke = null;
      } else if (stroke) {
        fail(`unexpected ${keyword} inside a stroke (line ${strokeLine} put the pen down)`);
      } else if (keyword === '.COMMENT' && current) {
        reader.comment?.(current.sample, line.slice(keyword.length).trim(), fail);
      }
      continue;
    }
    const fields = line.split(/\s+/);
    if (fields.length < 2 || !fields.every((f) => NUMBER.test(f))) {
      fail(`cannot read "${line}": expected a point "x y" or a .KEYWORD`);
    }
    if (!stroke) fail(`the point "${line}" is outside a .PEN_DOWN ... .PEN_UP stroke`);
    stroke!.push({ x: Number(fields[0]), y: Number(fields[1]) });
  }
  finish(lines.length + 1);
  return samples;
}

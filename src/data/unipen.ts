/**
 * The UNIPEN isolated characters (train_r01_v07: digits, upper- and lower-case letters,
 * symbols), one gzip-compressed UNIPEN-style text per set (see ../shared/data/unipen/SOURCE.md):
 *
 *   .SEGMENT CHARACTER 0 ? "5"    a new sample, its label (one character) in quotes
 *   .COMMENT writer apb/a00xxx    the writer: contributor/id
 *   .PEN_DOWN ... .PEN_UP         strokes of "x y" points in the device's units, y up
 *
 * Devices differ in resolution, so `toPenBox` maps a sample into the pen digits' 500-unit box
 * at its writer's own scale: a comma stays small beside a letter, as on a real pad.
 * The data stays outside the repository: scripts take `--unipen <dir>`, defaulting to
 * `../shared/data/unipen` beside the repository.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { boundsOf } from '../core/pen-points.ts';
import type { Random } from '../core/random.ts';
import { PEN_BOX } from './pendigits.ts';
import { PenDataError, parsePenText, type PenStroke, type PenTextReader } from './pen-text.ts';

export interface UnipenSample {
  /** The character written: '0'-'9', a letter, or a symbol. */
  readonly label: string;
  /** `contributor/id`, e.g. `apb/a00xxx`; empty when the segment names none. */
  readonly writer: string;
  /** Line of the `.SEGMENT` in the decompressed text (1-based). */
  readonly line: number;
  readonly strokes: readonly PenStroke[];
}

export const UNIPEN_FILES = {
  digits: 'unipen-digits.txt.gz',
  upper: 'unipen-upper.txt.gz',
  lower: 'unipen-lower.txt.gz',
  symbols: 'unipen-symbols.txt.gz',
} as const;

export type UnipenSet = keyof typeof UNIPEN_FILES;

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `../shared/data/unipen` beside the repository. */
export function defaultUnipenDir(): string {
  return resolve(REPO_ROOT, '../shared/data/unipen');
}

const WRITER = /^writer\s+(\S+)$/;

const CHARACTER_TEXT: PenTextReader<{ label: string; writer: string }> = {
  open(label, line, fail) {
    if (label === undefined || [...label].length !== 1) {
      fail(`expected one character in quotes, like .SEGMENT CHARACTER 0 ? "5", got "${line}"`);
    }
    return { label: label!, writer: '' };
  },
  comment(sample, comment) {
    const writer = WRITER.exec(comment);
    if (writer) sample.writer = writer[1];
  },
  describe: (sample) => `character "${sample.label}"`,
};

/** Parses decompressed UNIPEN text; `source` names it in errors (`file:line: ...`). */
export function parseUnipen(text: string, source = 'UNIPEN text'): UnipenSample[] {
  return parsePenText(text, source, CHARACTER_TEXT);
}

/** How far from its chord a stroke may stray, as a share of the chord, and still be straight. */
const STRAIGHT = 0.1;

/**
 * Whether a digit sample lost strokes (SOURCE.md: "a few samples are ... cut"): a digit other
 * than 1 written as one straight stroke or a dot, which no writer makes of a 0 or a 4. 17 of the
 * validation writers' 3,097 digits and 37 of the training writers' 9,085 are (mostly 0s
 * and 4s, most of one contributor); they are left out of training and evaluation, as a straight
 * stroke is a 1 to anyone reading it.
 */
export function isCutDigit(sample: Pick<UnipenSample, 'label' | 'strokes'>): boolean {
  if (!/^[02-9]$/.test(sample.label) || sample.strokes.length !== 1) return false;
  const stroke = sample.strokes[0];
  const [a, b] = [stroke[0], stroke[stroke.length - 1]];
  const chord = Math.hypot(b.x - a.x, b.y - a.y);
  const box = boundsOf([stroke]);
  const extent = Math.max(box.x1 - box.x0, box.y1 - box.y0);
  if (extent === 0) return true; // a dot
  // A stroke that comes back on itself (a 0's loop) has a short chord for its size.
  if (chord < extent / 2) return false;
  const away = (p: { x: number; y: number }) =>
    Math.abs((b.x - a.x) * (a.y - p.y) - (a.x - p.x) * (b.y - a.y)) / chord;
  return stroke.every((p) => away(p) <= STRAIGHT * chord);
}

/** The digit a sample is written as, when it is one and usable (not cut): else null. */
export function usableDigit(sample: Pick<UnipenSample, 'label' | 'strokes'>): number | null {
  return /^[0-9]$/.test(sample.label) && !isCutDigit(sample) ? Number(sample.label) : null;
}

/** Reads one set (gzip-compressed, or plain text) from `dir`. */
export async function loadUnipen(
  set: UnipenSet,
  dir = defaultUnipenDir(),
): Promise<UnipenSample[]> {
  const path = join(dir, UNIPEN_FILES[set]);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PenDataError(
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `UNIPEN data not found: ${path} does not exist. It stays outside the repository; ` +
            `scripts take --unipen <dir> (the folder with ${UNIPEN_FILES[set]}), by default ` +
            `../shared/data/unipen beside the repository (${defaultUnipenDir()}).`
        : `cannot read the UNIPEN data ${path}: ${code ?? (err as Error).message}`,
      'missing',
    );
  }
  let text: string;
  try {
    text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (err) {
    throw new PenDataError(`${path}: not valid gzip data (${(err as Error).message})`, 'malformed');
  }
  const samples = parseUnipen(text, path);
  if (samples.length === 0) {
    throw new PenDataError(`${path}: no .SEGMENT samples; is this the right file?`, 'malformed');
  }
  return samples;
}

/** The size, in pen-box units, a writer's typical character is drawn at (pen digits: ~170). */
export const TYPICAL_SIZE = 200;

/**
 * Device units to pen-box units for each writer: the median of the writer's characters'
 * longer sides becomes TYPICAL_SIZE. Per writer, not per sample, so small marks stay small.
 */
export function writerScales(samples: readonly UnipenSample[]): Map<string, number> {
  const sides = new Map<string, number[]>();
  for (const s of samples) {
    const b = boundsOf(s.strokes);
    const side = Math.max(b.x1 - b.x0, b.y1 - b.y0);
    if (side > 0) (sides.get(s.writer) ?? sides.set(s.writer, []).get(s.writer)!).push(side);
  }
  const scales = new Map<string, number>();
  for (const [writer, list] of sides) {
    list.sort((a, b) => a - b);
    scales.set(writer, TYPICAL_SIZE / list[list.length >> 1]);
  }
  return scales;
}

/**
 * The sample's strokes in the 500-unit pen box (y up, as `renderStrokes` expects): scaled by
 * its writer's scale times a random factor in `jitter`, shrunk if it would not fit, and
 * placed at a random spot, as people draw anywhere on a pad.
 */
export function toPenBox(
  sample: UnipenSample,
  scale: number,
  rng: Random,
  jitter: readonly [number, number] = [0.75, 1.3],
): PenStroke[] {
  const b = boundsOf(sample.strokes);
  const [width, height] = [b.x1 - b.x0, b.y1 - b.y0];
  const margin = PEN_BOX * 0.04;
  const room = PEN_BOX - 2 * margin;
  const side = Math.max(width, height);
  let s = scale * rng.uniform(jitter[0], jitter[1]);
  if (side * s > room) s = room / side;
  const x0 = margin + rng.uniform(0, room - width * s);
  const y0 = margin + rng.uniform(0, room - height * s);
  return sample.strokes.map((stroke) =>
    stroke.map((p) => ({ x: x0 + (p.x - b.x0) * s, y: y0 + (p.y - b.y0) * s })),
  );
}

/** A sample and its strokes placed in the pen box (see `toPenBox`). */
export interface PlacedSample {
  readonly sample: UnipenSample;
  readonly strokes: PenStroke[];
}

/**
 * The samples of `sets` that `keep` accepts, in file order, each placed in the pen box at its
 * writer's scale (`writerScales` over its whole set); `rng` is drawn from for kept samples only.
 */
export async function loadPlaced(
  sets: readonly UnipenSet[],
  dir: string | undefined,
  keep: (sample: UnipenSample) => boolean,
  rng: Random,
): Promise<PlacedSample[]> {
  const out: PlacedSample[] = [];
  for (const set of sets) {
    const samples = await loadUnipen(set, dir);
    const scales = writerScales(samples);
    for (const sample of samples) {
      if (keep(sample))
        out.push({ sample, strokes: toPenBox(sample, scales.get(sample.writer) ?? 1, rng) });
    }
  }
  return out;
}

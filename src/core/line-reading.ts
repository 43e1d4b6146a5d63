/**
 * From the line model's column scores to a number: the tokens it emitted (ctc.ts), where
 * each stands in the drawing, each digit's ink cut out for the digit model, and how the two
 * models' opinions of a digit combine. Pure: the server's workers and the page read alike.
 */
import { heightOf, widthOf, type Box } from './box.ts';
import {
  BLANK,
  DIGIT_CLASS,
  greedyDecode,
  isDigitToken,
  LINE_CLASSES,
  OTHER_MARK,
  SEPARATOR,
  softmaxRows,
  type EmittedToken,
} from './ctc.ts';
import { DIGITS } from './classes.ts';
import type { GrayImage } from './image.ts';
import { flattenPaper } from './paper.ts';
import { InputError } from './errors.ts';
import { MAX_MARKS, type DigitBox } from './segment.ts';
import {
  checkBitmap,
  inkComponents,
  inkExtent,
  inkMap,
  normalizeInk,
  type GrayBitmap,
  type InkPolarity,
} from './preprocess.ts';
import { lineOfInk, LINE_STRIDE, type LineImage } from './line-image.ts';
import { rowsOf, textLines } from './text-lines.ts';

/** A drawing made ready for the line model: its strip, and its ink map to cut digits from. */
export interface PreparedLine {
  readonly strip: LineImage;
  /** Ink (0..1) of the drawing's ink extent; `strip`'s coordinates are this map's. */
  readonly ink: GrayImage;
  /** Where the ink map's (0, 0) lies in the input image. */
  readonly offsetX: number;
  readonly offsetY: number;
  /** Separate marks of the ink, specks left out. */
  readonly marks: number;
  /** Whether it was written on paper that was not plain (a scan, a photo), not on a canvas. */
  readonly onPaper: boolean;
}

/** Marks that weigh less than this share of the heaviest are specks, not marks of the writing. */
const SPECK_SHARE = 0.02;

/**
 * A bitmap made ready for the line model; null when it has no ink. Throws an InputError for a
 * drawing of more separate marks than a number of 20 digits has (a page of dots, of text):
 * counted in one pass over the ink, before anything else is done with it.
 */
export function prepareLine(bitmap: GrayBitmap, ink: InkPolarity = 'dark'): PreparedLine | null {
  const page = plainInk(bitmap, ink);
  return page && lineOfMap(page.map, page.extent.x0, page.extent.y0, page.onPaper);
}

/** The most lines a page is read in (a form, a list of amounts). */
export const MAX_LINES = 40;

/**
 * A page made ready line by line (text-lines.ts), top to bottom; empty when it has no ink.
 * Each line is bounded as a drawing is (MAX_MARKS), and the page by MAX_LINES lines.
 */
export function prepareLines(bitmap: GrayBitmap, ink: InkPolarity = 'dark'): PreparedLine[] {
  const page = plainInk(bitmap, ink);
  if (!page) return [];
  const bands = textLines(page.map);
  if (bands.length > MAX_LINES)
    throw new InputError(
      'invalid_image',
      `the image has ${bands.length} lines of writing: too many to read (up to ${MAX_LINES})`,
    );
  return bands.flatMap((band) => {
    const rows = rowsOf(page.map, band);
    const line = lineOfMap(rows, page.extent.x0, page.extent.y0 + band.from, page.onPaper);
    return line ? [line] : [];
  });
}

/** The ink map of a bitmap's ink extent, its paper made plain; null when it has no ink. */
function plainInk(bitmap: GrayBitmap, ink: InkPolarity) {
  checkBitmap(bitmap);
  const plain = flattenPaper(bitmap, ink);
  const extent = inkExtent(plain, ink);
  // flattenPaper hands back a plain page (a canvas) as it is.
  return extent && { map: inkMap(plain, ink, extent), extent, onPaper: plain !== bitmap };
}

/** An ink map as one line, its (0, 0) at (offsetX, offsetY) of the input; refuses too many marks. */
function lineOfMap(
  map: GrayImage,
  offsetX: number,
  offsetY: number,
  onPaper: boolean,
): PreparedLine | null {
  const components = inkComponents(map);
  // A loop, not a spread: a page of noise has hundreds of thousands of components.
  const heaviest = components.reduce((most, c) => Math.max(most, c.mass), 0);
  const marks = components.filter((c) => c.mass >= SPECK_SHARE * heaviest).length;
  if (marks > MAX_MARKS) {
    throw new InputError(
      'invalid_image',
      `the drawing has ${marks} separate marks: too many to read as a number (write up to 20 digits)`,
    );
  }
  const strip = lineOfInk(map, components);
  return strip && { strip, ink: map, offsetX, offsetY, marks, onPaper };
}

/** What the line model read in one strip. */
export interface LineTokens {
  readonly tokens: EmittedToken[];
  /** steps x LINE_CLASSES probabilities, after the softmax. */
  readonly probabilities: Float32Array;
  readonly steps: number;
}

/** Decodes one strip's logits (steps x LINE_CLASSES). */
export function decodeLine(logits: ArrayLike<number>, steps: number): LineTokens {
  const probabilities = softmaxRows(logits, steps, LINE_CLASSES);
  return { tokens: greedyDecode(probabilities, steps, LINE_CLASSES), probabilities, steps };
}

/** The ten digits' probabilities at the column where `token` peaked, summing to 1. */
export function digitProbabilities(read: LineTokens, token: EmittedToken): number[] {
  const row = token.peak * LINE_CLASSES;
  const p = Array.from({ length: DIGITS }, (_, d) => read.probabilities[row + DIGIT_CLASS + d]);
  const sum = p.reduce((s, v) => s + v, 0);
  return sum > 0 ? p.map((v) => v / sum) : p.map(() => 1 / DIGITS);
}

/**
 * Each token's columns of the strip, [x0, x1) in strip pixels. The model marks a token at a
 * column or two somewhere on it, not at its edges, so each cut between two tokens is made
 * between their marks where the strip has least ink: in the gap between two digits, or
 * across the thinnest ink where they touch (the middle of the emptiest run of columns).
 */
export interface TokenSpan {
  readonly x0: number;
  readonly x1: number;
  /** No ink at either cut: the token's ink stands apart from its neighbours'. */
  readonly apart: boolean;
}

export function tokenSpans(tokens: readonly EmittedToken[], strip: GrayImage): TokenSpan[] {
  const columnInk = new Float32Array(strip.width);
  for (let y = 0; y < strip.height; y++)
    for (let x = 0; x < strip.width; x++) columnInk[x] += strip.data[y * strip.width + x];
  const centre = (t: EmittedToken) => t.peak * LINE_STRIDE + LINE_STRIDE / 2;
  const cuts = tokens.slice(1).map((t, i) => {
    const from = Math.round(centre(tokens[i]));
    const to = Math.round(centre(t));
    let least = Infinity;
    let first = from;
    let last = from;
    for (let x = from; x <= to; x++) {
      if (columnInk[x] < least - 1e-6) {
        least = columnInk[x];
        first = last = x;
      } else if (columnInk[x] <= least + 1e-6 && last === x - 1) last = x;
    }
    return { at: (first + last + 1) / 2, blank: least <= 1e-6 };
  });
  return tokens.map((_, i) => {
    const left = i === 0 ? { at: 0, blank: true } : cuts[i - 1];
    const right = i === tokens.length - 1 ? { at: strip.width, blank: true } : cuts[i];
    return { x0: left.at, x1: right.at, apart: left.blank && right.blank };
  });
}

/**
 * The ink of `map` in columns [x0, x1) alone (an image of those columns), and its box in
 * `map`'s pixels; null when there is none.
 */
export function inkInColumns(
  map: GrayImage,
  x0: number,
  x1: number,
): { image: GrayImage; box: Box } | null {
  // Rounded alike at both ends, so neighbours' columns share no pixel.
  const from = Math.max(0, Math.round(x0));
  const to = Math.min(map.width, Math.round(x1));
  const width = to - from;
  if (width <= 0) return null;
  const data = new Float32Array(width * map.height);
  let box: Box | null = null;
  for (let y = 0; y < map.height; y++) {
    for (let x = from; x < to; x++) {
      const v = map.data[y * map.width + x];
      if (v <= 0) continue;
      data[y * width + x - from] = v;
      if (!box) box = { x0: x, y0: y, x1: x + 1, y1: y + 1 };
      else {
        box.x0 = Math.min(box.x0, x);
        box.x1 = Math.max(box.x1, x + 1);
        box.y1 = y + 1;
      }
    }
  }
  return box && { image: { width, height: map.height, data }, box };
}

/** A digit of the line model's reading, placed in the drawing and cut out for the digit model. */
export interface LineDigit {
  readonly digit: number;
  /** The line model's probabilities of the ten digits where it marked this one. */
  readonly probabilities: number[];
  /** The box of its ink in the input image. */
  readonly box: DigitBox;
  /** Its ink alone, prepared as the digit model expects (28x28); null if it has none. */
  readonly input: GrayImage | null;
  /** Its place among all the tokens read, in reading order. */
  readonly order: number;
  /** Its ink stands apart from its neighbours' (its cut-out is the digit, whole and alone). */
  readonly apart: boolean;
}

/** A separator (`.` `,` `-` `/`) or a mark that is no digit. */
export interface LineMark {
  readonly kind: 'separator' | 'other';
  readonly box: DigitBox;
  /** A mark that is no digit: its ink, prepared as a digit's (a second opinion may read one). */
  readonly input: GrayImage | null;
  readonly order: number;
}

export interface LineReading {
  readonly digits: LineDigit[];
  readonly marks: LineMark[];
  /** A mark that is no digit and no separator was read, or no digit at all. */
  readonly notANumber: boolean;
}

/** A box of the ink map's pixels in the input image's. */
function inInput(line: PreparedLine, b: Box): DigitBox {
  return { x: line.offsetX + b.x0, y: line.offsetY + b.y0, width: widthOf(b), height: heightOf(b) };
}

/**
 * Whether a reading of two tokens, a digit and a digit or a mark that is none, is more likely
 * one digit the line model split: the drawing is one mark, no wider than high (a slanted 8's
 * two loops, a 4's hook). Two digits side by side, touching, are wider than high.
 */
export function oneDigitSplit(
  line: PreparedLine,
  read: Pick<LineReading, 'digits' | 'marks'>,
): boolean {
  const { ink } = line.strip;
  return (
    read.digits.length >= 1 &&
    read.digits.length + read.marks.length === 2 &&
    read.marks.every((m) => m.kind === 'other') &&
    line.marks === 1 &&
    widthOf(ink) <= heightOf(ink)
  );
}

/** The box of the line's ink (specks left out) in the input image. */
export function lineBox(line: PreparedLine): DigitBox {
  return inInput(line, line.strip.ink);
}

/** The whole drawing as one digit: prepared as /api/predict prepares it, and its ink's box. */
export function wholeDrawing(line: PreparedLine): { input: GrayImage | null; box: DigitBox } {
  return { input: normalizeInk(line.ink), box: lineBox(line) };
}

/** Places the tokens of `read` in the drawing and cuts out each digit's ink. */
export function placeTokens(line: PreparedLine, read: LineTokens): LineReading {
  const { strip } = line;
  const tokens = read.tokens.filter((t) => t.token !== BLANK);
  const spans = tokenSpans(tokens, strip.image);
  const digits: LineDigit[] = [];
  const marks: LineReading['marks'] = [];
  const single = tokens.length === 1 && isDigitToken(tokens[0].token);
  tokens.forEach((t, i) => {
    // Strip pixels to the ink map's: the strip's origin and scale.
    const x0 = strip.originX + spans[i].x0 / strip.scale;
    const x1 = strip.originX + spans[i].x1 / strip.scale;
    const cut = inkInColumns(line.ink, x0, x1);
    const fallback: Box = {
      x0: Math.max(0, Math.round(x0)),
      y0: 0,
      x1: Math.min(line.ink.width, Math.max(Math.round(x0) + 1, Math.round(x1))),
      y1: line.ink.height,
    };
    if (!isDigitToken(t.token)) {
      const other = t.token !== SEPARATOR;
      marks.push({
        kind: other ? 'other' : 'separator',
        box: inInput(line, cut?.box ?? fallback),
        input: other && cut ? normalizeInk(cut.image) : null,
        order: i,
      });
      return;
    }
    // A number of one digit is the whole drawing, prepared exactly as /api/predict prepares it.
    const input = single ? wholeDrawing(line).input : cut && normalizeInk(cut.image);
    digits.push({
      digit: t.token - DIGIT_CLASS,
      probabilities: digitProbabilities(read, t),
      box: inInput(line, cut?.box ?? fallback),
      input,
      order: i,
      apart: spans[i].apart,
    });
  });
  const notANumber = digits.length === 0 || tokens.some((t) => t.token === OTHER_MARK);
  return { digits, marks, notANumber };
}

/**
 * How the line model's and the digit model's probabilities of one digit of a number combine:
 * `line` takes the line model's alone, `digit` the digit model's alone (on the digit's cut-out
 * ink); `product` multiplies the two (renormalised), so each model's confidence counts where
 * the other is unsure; `apart` is `digit` for a digit whose ink stands apart from its
 * neighbours' (the digit model then reads it as it reads a single digit) and `product` for
 * one that touches them. Chosen by npm run eval:numbers.
 */
export type DigitCombination = 'line' | 'product' | 'digit' | 'apart';

export function combineDigit(
  line: readonly number[],
  digitModel: readonly number[],
  how: DigitCombination,
  apart = false,
): number[] {
  if (how === 'line') return [...line];
  if (how === 'digit' || (how === 'apart' && apart)) return [...digitModel];
  const p = line.map((v, d) => v * digitModel[d]);
  const sum = p.reduce((s, v) => s + v, 0);
  return sum > 0 ? p.map((v) => v / sum) : [...line];
}

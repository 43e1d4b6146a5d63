/**
 * What the line model learns from, generated without end: numbers written by one writer of
 * the training writers (1-12 digits, gaps from overlapping to wide, sizes, baselines, slants
 * and pens of every width a person uses), now and then with separators (`.` `,` `-` `/`);
 * words and symbols that are not numbers, and scribbles. Each is drawn into an ink map and
 * made into a strip by the same lineOfInk every reader uses, with the tokens it must read.
 */
import { OTHER_MARK, SEPARATOR, digitText, digitToken, type LineToken } from '../core/ctc.ts';
import type { GrayImage } from '../core/image.ts';
import { lineOfInk } from '../core/line-image.ts';
import { boundsOf, type Point } from '../core/pen-points.ts';
import type { Random } from '../core/random.ts';
import { augmentStrokes, type StrokeAugmentConfig } from '../core/stroke-augment.ts';
import type { DigitBank } from '../data/compose-numbers.ts';
import { PEN_BOX } from '../data/pendigits.ts';
import { scribbles } from './scribbles.ts';
import { rasterizeStrokes } from './stroke-raster.ts';
import { varyStrip, type FieldStrip } from './field-strips.ts';
import {
  composeImages,
  pickImage,
  resizeBilinear,
  strokesAsImage,
  type ImageDigits,
  type ImageGlyph,
} from './image-numbers.ts';

/** A drawing that is not a digit (a letter, a symbol), by its writer. */
export interface WrittenMark {
  readonly writer: string;
  readonly strokes: readonly (readonly Point[])[];
}

export interface LineSources {
  /** The training writers' digits, one bank per pen source. */
  readonly digits: readonly DigitBank[];
  /** Letters and symbols that look like no digit, by writer. */
  readonly marks: ReadonlyMap<string, readonly WrittenMark[]>;
  /** Scanned digits (MNIST's training images), when numbers are also made of them. */
  readonly images?: ImageDigits;
  /** Real scanned fields, as strips, when there are some. */
  readonly fields?: readonly FieldStrip[];
}

export type GapRange = readonly [number, number];

export interface LineDataConfig {
  /** Pixels of a digit's height as drawn, before the strip scales it (2x: as a pad is downscaled). */
  readonly renderHeight: number;
  readonly maxDigits: number;
  /** Share of numbers of one digit (a drawing pad's most common answer). */
  readonly singleDigit: number;
  /** Gaps between neighbours' inks, in heights: one range a number, picked by weight. */
  readonly gaps: readonly { readonly range: GapRange; readonly weight: number }[];
  /** The most two neighbours overlap, as a share of the narrower one's width. */
  readonly maxOverlap: number;
  /** Pen width as a share of the digits' height (log-uniform). */
  readonly brush: readonly [number, number];
  /** Degrees: the baseline's slope, and the writing's slant. */
  readonly slope: number;
  readonly slant: number;
  /** Each digit's height varies by this share. */
  readonly sizeJitter: number;
  readonly baselineJitter: number;
  /** Share of numbers with separators in them. */
  readonly separators: number;
  /** Share of drawings that are words of letters (some with digits among them), and scribbles. */
  readonly words: number;
  readonly scribbles: number;
  readonly strokeAugment: StrokeAugmentConfig;
  /** Share of digits whose strokes are varied (stroke-augment.ts). */
  readonly strokeAugmentShare: number;
  /** Share of numbers made of scanned digits, when the sources have them. */
  readonly scanned: number;
  /** Their separators' pen, as a share of the height: a ballpoint's on a 20 px digit. */
  readonly scannedBrush: readonly [number, number];
  /** Share of drawings that are real scanned fields, varied, when the sources have them. */
  readonly fields: number;
  /** Share of numbers written as amounts are on checks: mostly zeros after the first digits. */
  readonly amounts: number;
}

export interface LineSample {
  readonly image: GrayImage;
  readonly tokens: LineToken[];
  /** The digits written, for accuracy (separators and marks left out). */
  readonly text: string;
  readonly kind: 'number' | 'word' | 'scribble';
}

/**
 * A glyph to lay out and its token: strokes in their own box (y up, as pen data records it),
 * or a scanned digit's image.
 */
interface Glyph {
  readonly ink: readonly (readonly Point[])[] | GrayImage;
  readonly token: LineToken;
  /** Height in digit heights, and where its bottom sits above the baseline (in heights). */
  readonly height: number;
  readonly lift: number;
}

const radians = (deg: number) => (deg * Math.PI) / 180;

/** Separators drawn as a pen makes them, in a unit box (y up). */
const SEPARATORS = {
  /** A tap, or a tiny circle. */
  dot(rng: Random): Glyph {
    const s = rng.uniform(0.02, 0.06);
    const pts: Point[] = [];
    for (let i = 0; i <= 6; i++) {
      const a = (i / 6) * 2 * Math.PI;
      pts.push({ x: s * Math.cos(a), y: s * Math.sin(a) });
    }
    return {
      ink: [pts],
      token: SEPARATOR,
      height: rng.uniform(0.03, 0.1),
      lift: rng.uniform(-0.03, 0.05),
    };
  },
  /** A short tail down from the baseline. */
  comma(rng: Random): Glyph {
    const t = rng.uniform(0.15, 0.3);
    const pts = [0, 0.33, 0.66, 1].map((u) => ({ x: -0.3 * t * u * u, y: -t * u }));
    return { ink: [pts], token: SEPARATOR, height: t, lift: -t * 0.7 };
  },
  /** A dash at mid-height. */
  dash(rng: Random): Glyph {
    const len = rng.uniform(0.25, 0.6);
    const tilt = rng.uniform(-0.08, 0.08);
    return {
      ink: [
        [
          { x: 0, y: 0 },
          { x: len, y: tilt * len },
        ],
      ],
      token: SEPARATOR,
      height: 0.02,
      lift: rng.uniform(0.35, 0.6),
    };
  },
  /** A slash, leaning well over: a 1 stands nearly upright. */
  slash(rng: Random): Glyph {
    const h = rng.uniform(0.9, 1.15);
    const lean = Math.tan(radians(rng.uniform(28, 45)));
    return {
      ink: [
        [
          { x: 0, y: 0 },
          { x: h * lean, y: h },
        ],
      ],
      token: SEPARATOR,
      height: h,
      lift: rng.uniform(-0.1, 0.05),
    };
  },
} as const;

type SeparatorKind = keyof typeof SEPARATORS;
const SEPARATOR_KINDS = Object.keys(SEPARATORS) as SeparatorKind[];

/** Any separator, or the one asked. */
function separator(rng: Random, asked?: SeparatorKind | 'equals'): Glyph {
  if (asked === 'equals') return equalsSign(rng);
  return SEPARATORS[asked ?? SEPARATOR_KINDS[rng.int(SEPARATOR_KINDS.length)]](rng);
}

/** Two short dashes, one above the other: how many close an amount on a check ("500="). */
function equalsSign(rng: Random): Glyph {
  const len = rng.uniform(0.2, 0.45);
  const apart = rng.uniform(0.12, 0.25);
  const dash = (y: number): Point[] => [
    { x: 0, y },
    { x: len, y: y + rng.uniform(-0.05, 0.05) },
  ];
  return {
    ink: [dash(0), dash(apart)],
    token: SEPARATOR,
    height: apart,
    lift: rng.uniform(0.1, 0.5),
  };
}

type AmountPart = number | 'dot' | 'end';

/**
 * An amount as people write one on a check or a form: one to three digits, then groups of
 * three that are mostly zeros, thousands marked by a dot or a comma now and then, and a
 * closing mark now and then ("25.000", "1500000=", "4.678.-").
 */
function amountParts(rng: Random): AmountPart[] {
  const parts: AmountPart[] = Array.from({ length: 1 + rng.int(3) }, (_, i) =>
    i === 0 ? 1 + rng.int(9) : rng.int(10),
  );
  const marked = rng.next() < 0.5;
  for (let groups = rng.int(3); groups >= 0; groups--) {
    if (marked) parts.push('dot');
    const zeros = rng.next() < 0.6;
    for (let i = 0; i < 3; i++) parts.push(zeros ? 0 : rng.int(10));
  }
  if (rng.next() < 0.3) parts.push('end');
  return parts;
}

function pick<T>(items: readonly T[], rng: Random): T {
  return items[rng.int(items.length)];
}

/** A digit's size and where it sits on the baseline, jittered. */
function digitPlace(rng: Random, config: LineDataConfig): Pick<Glyph, 'height' | 'lift'> {
  const height = 1 + rng.uniform(-config.sizeJitter, config.sizeJitter);
  return { height, lift: rng.uniform(-config.baselineJitter, config.baselineJitter) };
}

function digitGlyphs(
  bank: DigitBank,
  digits: readonly number[],
  rng: Random,
  config: LineDataConfig,
): Glyph[] {
  const writer = pick(bank.writers, rng);
  return digits.map((d) => {
    let strokes = bank.pick(rng, writer, d).strokes;
    if (rng.next() < config.strokeAugmentShare)
      strokes = augmentStrokes(strokes, config.strokeAugment, PEN_BOX, rng, d);
    return { ink: strokes, token: digitToken(d), ...digitPlace(rng, config) };
  });
}

function scannedGlyphs(
  images: ImageDigits,
  digits: readonly number[],
  rng: Random,
  config: LineDataConfig,
): Glyph[] {
  return digits.map((d) => ({
    ink: pickImage(images, d, rng),
    token: digitToken(d),
    ...digitPlace(rng, config),
  }));
}

function numberGlyphs(sources: LineSources, rng: Random, config: LineDataConfig): Glyph[] {
  if (config.amounts > 0 && rng.next() < config.amounts) return amountGlyphs(sources, rng, config);
  const length = rng.next() < config.singleDigit ? 1 : 2 + rng.int(config.maxDigits - 1);
  const digits = Array.from({ length }, () => rng.int(10));
  const glyphs =
    sources.images && rng.next() < config.scanned
      ? scannedGlyphs(sources.images, digits, rng, config)
      : digitGlyphs(pick(sources.digits, rng), digits, rng, config);
  if (length > 1 && rng.next() < config.separators) {
    for (let n = 1 + rng.int(2); n > 0; n--)
      glyphs.splice(1 + rng.int(length - 1), 0, separator(rng));
  }
  if (rng.next() < config.separators / 4) glyphs.unshift(separator(rng)); // a minus, a dash
  if (rng.next() < config.separators / 4) glyphs.push(separator(rng)); // "10,00." or "25-"
  return glyphs;
}

function amountGlyphs(sources: LineSources, rng: Random, config: LineDataConfig): Glyph[] {
  const parts = amountParts(rng);
  const digits = parts.filter((p): p is number => typeof p === 'number');
  const inked =
    sources.images && rng.next() < config.scanned
      ? scannedGlyphs(sources.images, digits, rng, config)
      : digitGlyphs(pick(sources.digits, rng), digits, rng, config);
  const comma = rng.next() < 0.3;
  let next = 0;
  return parts.map((p) =>
    p === 'dot'
      ? separator(rng, comma ? 'comma' : 'dot')
      : p === 'end'
        ? separator(rng, rng.next() < 0.5 ? 'equals' : 'dash')
        : inked[next++],
  );
}

function wordGlyphs(sources: LineSources, rng: Random, config: LineDataConfig): Glyph[] {
  const writers = [...sources.marks.keys()];
  const marks = sources.marks.get(pick(writers, rng))!;
  const length = 1 + rng.int(8);
  const glyphs: Glyph[] = Array.from({ length }, () => ({
    ink: pick(marks, rng).strokes,
    token: OTHER_MARK,
    height: rng.uniform(0.6, 1.1),
    lift: rng.uniform(-0.05, 0.05),
  }));
  // Codes and amounts with letters in them ("A12", "12kg") are not numbers either.
  if (rng.next() < 0.3) {
    const digits = digitGlyphs(
      pick(sources.digits, rng),
      [rng.int(10), rng.int(10)].slice(0, 1 + rng.int(2)),
      rng,
      config,
    );
    glyphs.splice(rng.int(length + 1), 0, ...digits);
  }
  return glyphs;
}

function scribbleGlyphs(rng: Random): Glyph[] {
  const [s] = scribbles(1, rng);
  return [{ ink: s.strokes, token: OTHER_MARK, height: rng.uniform(0.8, 1.6), lift: 0 }];
}

const isImage = (ink: Glyph['ink']): ink is GrayImage => 'data' in ink;

/**
 * Lays glyphs out left to right and draws them into one ink map: pen strokes with one pen, or,
 * when the number is made of scanned digits, each glyph as an image (its separators drawn
 * with a ballpoint's width).
 */
function layOut(glyphs: readonly Glyph[], rng: Random, config: LineDataConfig): GrayImage {
  const H = config.renderHeight;
  const weights = config.gaps.reduce((s, g) => s + g.weight, 0);
  let r = rng.next() * weights;
  const gapRange = config.gaps.find((g) => (r -= g.weight) < 0)?.range ?? config.gaps[0].range;
  const scanned = glyphs.some((g) => isImage(g.ink));
  const [low, high] = scanned ? config.scannedBrush : config.brush;
  const brush = H * Math.exp(rng.uniform(Math.log(low), Math.log(high)));
  const slope = Math.tan(radians(rng.uniform(-config.slope, config.slope)));
  const slant = Math.tan(radians(rng.uniform(-config.slant, config.slant)));
  const strokes: Point[][] = [];
  const images: ImageGlyph[] = [];
  let cursor = 0;
  let previousWidth = 0;
  for (const [i, g] of glyphs.entries()) {
    const h = H * g.height;
    let image: GrayImage | null = null;
    if (isImage(g.ink)) {
      const w = Math.max(
        1,
        Math.round((g.ink.width * h) / Math.max(g.ink.height, g.ink.width / 4)),
      );
      image = resizeBilinear(g.ink, w, Math.max(1, Math.round((g.ink.height * w) / g.ink.width)));
    } else if (scanned) image = strokesAsImage(g.ink, h, brush);
    const b = image ? null : boundsOf(g.ink as readonly (readonly Point[])[]);
    const scale = b ? h / Math.max(1e-9, b.y1 - b.y0, (b.x1 - b.x0) / 4) : 1;
    const w = image ? image.width : (b!.x1 - b!.x0) * scale;
    let gap = 0;
    if (i > 0) {
      gap = H * rng.uniform(gapRange[0], gapRange[1]) + (scanned ? 0 : brush);
      gap = Math.max(gap, -config.maxOverlap * Math.min(w, previousWidth));
    }
    const left = cursor + gap;
    const bottom = -slope * left - H * g.lift;
    if (image) images.push({ image, left, bottom, slant });
    else
      for (const s of g.ink as readonly (readonly Point[])[])
        strokes.push(
          s.map((p) => {
            const y = bottom - (p.y - b!.y0) * scale;
            // Slant leans the top to the right for a positive angle.
            return { x: left + (p.x - b!.x0) * scale - slant * (y - bottom), y };
          }),
        );
    cursor = Math.max(cursor, left + w);
    previousWidth = w;
  }
  if (scanned) return composeImages(images);
  const box = boundsOf(strokes);
  const margin = Math.ceil(brush) + 2;
  const width = Math.ceil(box.x1 - box.x0) + 2 * margin;
  const height = Math.ceil(box.y1 - box.y0) + 2 * margin;
  const placed = strokes.map((s) =>
    s.map((p) => ({ x: p.x - box.x0 + margin, y: p.y - box.y0 + margin })),
  );
  return rasterizeStrokes(placed, brush, width, height);
}

/** Whether `box` of `img` holds all of its ink. */
function holdsAllInk(
  img: GrayImage,
  box: { x0: number; y0: number; x1: number; y1: number },
): boolean {
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++)
      if (
        img.data[y * img.width + x] > 0 &&
        (x < box.x0 || x >= box.x1 || y < box.y0 || y >= box.y1)
      )
        return false;
  return true;
}

/**
 * One training drawing and what it says. A drawing whose strip leaves out some of its ink (a
 * dot far from the digits, taken for a speck, as every reader takes it) is drawn again, so no
 * token is taught that the strip does not show.
 */
export function lineSample(sources: LineSources, rng: Random, config: LineDataConfig): LineSample {
  for (;;) {
    const sample = drawSample(sources, rng, config);
    if (sample) return sample;
  }
}

function drawSample(sources: LineSources, rng: Random, config: LineDataConfig): LineSample | null {
  if (sources.fields?.length && rng.next() < config.fields) {
    const field = pick(sources.fields, rng);
    return { image: varyStrip(field, rng), tokens: field.tokens, text: field.text, kind: 'number' };
  }
  const u = rng.next();
  const kind: LineSample['kind'] =
    u < config.words && sources.marks.size > 0
      ? 'word'
      : u < config.words + config.scribbles
        ? 'scribble'
        : 'number';
  const glyphs =
    kind === 'word'
      ? wordGlyphs(sources, rng, config)
      : kind === 'scribble'
        ? scribbleGlyphs(rng)
        : numberGlyphs(sources, rng, config);
  const drawn = layOut(glyphs, rng, config);
  const line = lineOfInk(drawn);
  if (!line || !holdsAllInk(drawn, line.ink)) return null;
  const tokens = glyphs.map((g) => g.token);
  return { image: line.image, tokens, text: digitText(tokens), kind };
}

/** The strip the line model reads, and the way from its column scores to a placed number. */
import { describe, expect, it } from 'vitest';
import { BLANK, digitToken, LINE_CLASSES, OTHER_MARK, SEPARATOR } from '../../src/core/ctc.ts';
import { InputError } from '../../src/core/errors.ts';
import type { GrayImage } from '../../src/core/image.ts';
import {
  LINE_HEIGHT,
  LINE_INK_HEIGHT,
  LINE_MARGIN,
  LINE_MAX_WIDTH,
  LINE_STRIDE,
  lineOfInk,
  padStrips,
} from '../../src/core/line-image.ts';
import {
  combineDigit,
  decodeLine,
  oneDigitSplit,
  placeTokens,
  prepareLine,
  prepareLines,
  tokenSpans,
} from '../../src/core/line-reading.ts';
import { preprocess, type GrayBitmap } from '../../src/core/preprocess.ts';
import { Random } from '../../src/core/random.ts';

/** An ink map (ink = 1) with filled rectangles [x, y, width, height]. */
function inkMapOf(width: number, height: number, rects: number[][]): GrayImage {
  const data = new Float32Array(width * height);
  for (const [x0, y0, w, h] of rects)
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * width + x] = 1;
  return { width, height, data };
}

/** The same rectangles as dark ink on a white bitmap. */
function bitmapOf(width: number, height: number, rects: number[][]): GrayBitmap {
  const map = inkMapOf(width, height, rects);
  return { width, height, data: Uint8ClampedArray.from(map.data, (v) => 255 - 255 * v) };
}

/** Rows of the strip holding any ink, and its first and last inked column. */
function inkRows(img: GrayImage) {
  let [top, bottom, left, right] = [Infinity, -1, Infinity, -1];
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++)
      if (img.data[y * img.width + x] > 0) {
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
  return { top, bottom, left, right };
}

/** Column scores that make the model emit `path` (one class a column, nearly sure). */
function logitsOf(path: number[]): Float32Array {
  const out = new Float32Array(path.length * LINE_CLASSES).fill(-8);
  path.forEach((k, t) => (out[t * LINE_CLASSES + k] = 8));
  return out;
}

describe('the line strip', () => {
  it('scales the ink to LINE_INK_HEIGHT rows, whatever its size, with blank margins', () => {
    for (const scale of [1, 3]) {
      const line = lineOfInk(
        inkMapOf(300 * scale, 100 * scale, [[20 * scale, 10 * scale, 200 * scale, 60 * scale]]),
      )!;
      expect(line.image.height).toBe(LINE_HEIGHT);
      expect(line.image.width % LINE_STRIDE).toBe(0);
      const ink = inkRows(line.image);
      expect(ink.bottom - ink.top + 1).toBe(LINE_INK_HEIGHT);
      expect(ink.left).toBeGreaterThanOrEqual(LINE_MARGIN - 1);
      expect(line.image.width - 1 - ink.right).toBeGreaterThanOrEqual(LINE_MARGIN - 1);
      // 200 x 60 at 24 rows: 80 columns of ink.
      expect(ink.right - ink.left + 1).toBe(80);
      // Strip pixels map back onto the ink's box in the map.
      expect(line.originX + ink.left / line.scale).toBeCloseTo(20 * scale, 0);
    }
  });

  it('bounds a very long drawing at LINE_MAX_WIDTH columns', () => {
    const line = lineOfInk(inkMapOf(4000, 40, [[0, 10, 4000, 10]]))!;
    expect(line.image.width).toBeLessThanOrEqual(LINE_MAX_WIDTH + LINE_STRIDE);
  });

  it('pads strips of several widths to the widest with empty columns', () => {
    const a = lineOfInk(inkMapOf(100, 50, [[10, 10, 30, 30]]))!.image;
    const b = lineOfInk(inkMapOf(400, 50, [[10, 10, 300, 30]]))!.image;
    const { images, width } = padStrips([a, b]);
    expect(width).toBe(b.width);
    for (let y = 0; y < LINE_HEIGHT; y++) {
      for (let x = 0; x < width; x++) {
        const expected = x < a.width ? a.data[y * a.width + x] : 0;
        expect(images[y * width + x]).toBe(expected);
      }
    }
  });
});

describe('prepareLine', () => {
  it('refuses a page of more separate marks than a number of 20 digits has', () => {
    const dots = Array.from({ length: 100 }, (_, i) => [
      10 + (i % 20) * 10,
      10 + Math.floor(i / 20) * 10,
      4,
      4,
    ]);
    expect(() => prepareLine(bitmapOf(220, 70, dots))).toThrow(InputError);
    expect(() => prepareLine(bitmapOf(220, 70, dots))).toThrow(/100 separate marks/);
  });

  it('refuses 2048x2048 of salt noise with a clear error, as a page too', () => {
    // 200,000 black dots: some 160,000 marks, each counted once.
    const side = 2048;
    const data = new Uint8ClampedArray(side * side).fill(255);
    const rng = new Random(1);
    for (let i = 0; i < 200_000; i++) data[rng.int(side * side)] = 0;
    const noise = { width: side, height: side, data };
    expect(() => prepareLine(noise)).toThrow(/\d{6} separate marks/);
    expect(() => prepareLines(noise)).toThrow(InputError);
  });

  it('finds nothing on a blank page', () => {
    expect(prepareLine(bitmapOf(50, 20, []))).toBeNull();
  });
});

describe('placing what the line model read', () => {
  // Two bars 40 px apart: the first "1" at x 20-30, the second mark at x 70-80.
  const bitmap = bitmapOf(120, 80, [
    [20, 10, 10, 60],
    [70, 10, 10, 60],
  ]);

  it('cuts between two marks where the strip has least ink', () => {
    const t = (token: number, peak: number) => ({
      token,
      first: peak,
      last: peak,
      peak,
      probability: 1,
    });
    // Ink in strip columns 8-19 and 30-41, nothing between: the cut is in the middle of the gap.
    const strip = inkMapOf(56, LINE_HEIGHT, [
      [8, 4, 12, 24],
      [30, 4, 12, 24],
    ]);
    expect(tokenSpans([t(2, 2), t(5, 9)], strip)).toEqual([
      { x0: 0, x1: 25, apart: true },
      { x0: 25, x1: 56, apart: true },
    ]);
    // Touching: the thinnest column between the marks, wherever it is.
    const touching = inkMapOf(56, LINE_HEIGHT, [[8, 4, 40, 24]]);
    for (let y = 5; y < 28; y++) touching.data[y * 56 + 33] = 0;
    expect(tokenSpans([t(2, 2), t(5, 11)], touching)[0]).toEqual({ x0: 0, x1: 33.5, apart: false });
  });

  it('boxes each digit in the input image and cuts out its ink alone', () => {
    const line = prepareLine(bitmap)!;
    const columns = line.strip.image.width / LINE_STRIDE;
    // Emit a 1 over the first bar's columns and a 7 over the second's.
    // The strip column over input pixel x.
    const x = (px: number) =>
      Math.floor(((px - line.offsetX - line.strip.originX) * line.strip.scale) / LINE_STRIDE);
    const path = Array.from({ length: columns }, (_, c) =>
      c === x(25) ? digitToken(1) : c === x(75) ? digitToken(7) : BLANK,
    );
    const read = decodeLine(logitsOf(path), columns);
    expect(read.tokens.map((t) => t.token)).toEqual([digitToken(1), digitToken(7)]);
    const placed = placeTokens(line, read);
    expect(placed.notANumber).toBe(false);
    expect(placed.digits.map((d) => d.digit)).toEqual([1, 7]);
    expect(placed.digits.map((d) => d.box)).toEqual([
      { x: 20, y: 10, width: 10, height: 60 },
      { x: 70, y: 10, width: 10, height: 60 },
    ]);
    // Each cut holds one bar: prepared, as one bar alone is.
    expect(placed.digits[0].input!.data).toEqual(
      preprocess(bitmapOf(120, 80, [[20, 10, 10, 60]]))!.data,
    );
    expect(placed.digits[0].probabilities[1]).toBeGreaterThan(0.99);
  });

  it('reads a lone digit from the whole drawing, as a single digit is prepared', () => {
    const line = prepareLine(bitmap)!;
    const columns = line.strip.image.width / LINE_STRIDE;
    const path = Array.from({ length: columns }, (_, c) => (c === 3 ? digitToken(4) : BLANK));
    const placed = placeTokens(line, decodeLine(logitsOf(path), columns));
    expect(placed.digits).toHaveLength(1);
    expect(placed.digits[0].input!.data).toEqual(preprocess(bitmap)!.data);
  });

  it('keeps separators out of the digits and calls a drawing with other marks no number', () => {
    const line = prepareLine(bitmap)!;
    const columns = line.strip.image.width / LINE_STRIDE;
    const withSeparator = Array.from({ length: columns }, (_, c) =>
      c === 2 ? digitToken(3) : c === columns - 3 ? SEPARATOR : BLANK,
    );
    const a = placeTokens(line, decodeLine(logitsOf(withSeparator), columns));
    expect(a.digits.map((d) => d.digit)).toEqual([3]);
    expect(a.marks.map((m) => m.kind)).toEqual(['separator']);
    expect(a.notANumber).toBe(false);
    const withLetter = withSeparator.map((k) => (k === SEPARATOR ? OTHER_MARK : k));
    expect(placeTokens(line, decodeLine(logitsOf(withLetter), columns)).notANumber).toBe(true);
    const nothing = new Array<number>(columns).fill(BLANK);
    expect(placeTokens(line, decodeLine(logitsOf(nothing), columns)).notANumber).toBe(true);
  });
});

describe('oneDigitSplit', () => {
  /** Two tokens read over the left and right halves of the drawing. */
  const twoTokens = (bitmap: GrayBitmap, second: number) => {
    const line = prepareLine(bitmap)!;
    const columns = line.strip.image.width / LINE_STRIDE;
    const path = Array.from({ length: columns }, (_, c) =>
      c === Math.floor(columns / 3)
        ? digitToken(8)
        : c === Math.floor((2 * columns) / 3)
          ? second
          : BLANK,
    );
    return { line, read: placeTokens(line, decodeLine(logitsOf(path), columns)) };
  };
  // One mark, taller than wide: a slanted 8's two loops as two overlapping blocks.
  const oneTall = bitmapOf(100, 120, [
    [20, 10, 40, 50],
    [40, 55, 40, 55],
  ]);

  it('suspects one mark no wider than high, read as a digit and a digit or a mark', () => {
    for (const second of [digitToken(3), OTHER_MARK]) {
      const { line, read } = twoTokens(oneTall, second);
      expect(line.marks).toBe(1);
      expect(oneDigitSplit(line, read)).toBe(true);
    }
  });

  it('trusts two digits side by side, two marks, or a separator', () => {
    const wide = twoTokens(bitmapOf(160, 80, [[10, 10, 140, 60]]), digitToken(3));
    expect(oneDigitSplit(wide.line, wide.read)).toBe(false);
    const apart = twoTokens(
      bitmapOf(120, 80, [
        [20, 10, 10, 60],
        [70, 10, 10, 60],
      ]),
      digitToken(3),
    );
    expect(apart.line.marks).toBe(2);
    expect(oneDigitSplit(apart.line, apart.read)).toBe(false);
    const separated = twoTokens(oneTall, SEPARATOR);
    expect(oneDigitSplit(separated.line, separated.read)).toBe(false);
  });
});

describe('combining the two models on a digit', () => {
  const line = [0, 0, 0, 0.55, 0, 0, 0, 0, 0.45, 0];
  const digit = [0, 0, 0, 0.1, 0, 0, 0, 0, 0.9, 0];

  it('takes the line model alone, or the renormalised product', () => {
    expect(combineDigit(line, digit, 'line')).toEqual(line);
    const p = combineDigit(line, digit, 'product');
    expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
    expect(p[8]).toBeCloseTo((0.45 * 0.9) / (0.45 * 0.9 + 0.55 * 0.1), 9);
  });

  it('falls back to the line model when the two share no digit', () => {
    expect(combineDigit(line, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 'product')).toEqual(line);
  });
});

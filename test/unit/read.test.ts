/** Reading numbers in-process with the shipped model: Recognizer.read. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { GrayBitmap } from '../../src/core/preprocess.ts';
import { prepareLine } from '../../src/core/line-reading.ts';
import { DEFAULT_PAPER_LINE_MODEL_DIR, loadRecognizer } from '../../src/recognizer/node.ts';
import type { Recognizer } from '../../src/recognizer/recognizer.ts';
import {
  drawDigit,
  drawNumber,
  FOUR,
  grayPixels,
  LETTER_A,
  SEVEN,
  type Drawing,
  type Stroke,
} from '../api/images.ts';

let recognizer: Recognizer;

beforeAll(async () => {
  recognizer = await loadRecognizer();
});

const bitmap = (d: Drawing): GrayBitmap => ({
  width: d.width,
  height: d.height,
  data: Uint8ClampedArray.from(grayPixels(d)),
});

/** An arc of an ellipse on the 280 pad, from one angle to another (degrees, y down). */
function arc(cx: number, cy: number, rx: number, ry: number, from: number, to: number): Stroke {
  return Array.from({ length: 17 }, (_, i) => {
    const t = ((from + ((to - from) * i) / 16) * Math.PI) / 180;
    return [cx + rx * Math.cos(t), cy + ry * Math.sin(t)] as const;
  });
}

const ZERO_IN_TWO: Stroke[] = [arc(140, 140, 60, 90, 105, 255), arc(140, 140, 60, 90, -75, 75)];
const FIVE_IN_TWO: Stroke[] = [
  [[100, 60], [95, 130], ...arc(140, 175, 55, 55, -140, 150)],
  [
    [125, 55],
    [200, 55],
  ],
];
const LETTER_K: Stroke[] = [
  [
    [80, 40],
    [80, 240],
  ],
  [
    [200, 40],
    [90, 140],
    [210, 240],
  ],
];
const LETTER_E: Stroke[] = [[[90, 170], [200, 170], ...arc(145, 170, 55, 60, 0, -300)]];
const LETTER_Y: Stroke[] = [
  [
    [70, 40],
    [140, 140],
  ],
  [
    [210, 40],
    [100, 250],
  ],
];

/** Whether the drawing's ink is one piece where its digits meet (no blank column between). */
function touches(d: Drawing): boolean {
  const gray = grayPixels(d);
  const inked = Array.from({ length: d.width }, (_, x) =>
    Array.from({ length: d.height }, (_, y) => gray[y * d.width + x] < 128).some(Boolean),
  );
  const first = inked.indexOf(true);
  const last = inked.lastIndexOf(true);
  return inked.slice(first, last + 1).every(Boolean);
}

/** Bitmaps one above the other, `gap` white rows apart, on a white page as wide as the widest. */
function stacked(rows: GrayBitmap[], gap: number): GrayBitmap {
  const width = Math.max(...rows.map((r) => r.width));
  const height = rows.reduce((h, r) => h + r.height, 0) + gap * (rows.length - 1);
  const data = new Uint8ClampedArray(width * height).fill(255);
  let top = 0;
  for (const r of rows) {
    for (let y = 0; y < r.height; y++)
      for (let x = 0; x < r.width; x++) data[(top + y) * width + x] = r.data[y * r.width + x];
    top += r.height + gap;
  }
  return { width, height, data };
}

describe('Recognizer.read', () => {
  it('reads spaced and touching digits, left to right', () => {
    for (const pitch of [160, 55]) {
      const reading = recognizer.read(bitmap(drawNumber([SEVEN, FOUR, SEVEN], { pitch })));
      expect(reading.text, `pitch ${pitch}`).toBe('747');
      const xs = reading.digits.map((d) => d.box.x);
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
    }
  });

  it("spends the digit model's ten variants only on the digits of a number it is unsure of", () => {
    const reading = recognizer.read(bitmap(drawNumber([SEVEN, FOUR, SEVEN], { pitch: 160 })));
    const spared = reading.digits.filter((d) => d.variants === 1);
    expect(spared.length).toBeGreaterThan(0);
    for (const d of reading.digits) {
      expect([1, 10]).toContain(d.variants);
      // The ten variants would have read the same digit.
      const input = { width: 28, height: 28, data: Float32Array.from(d.input) };
      expect(recognizer.recognizeInputs([input], 'vote')[0].digit).toBe(d.digit);
    }
    for (const d of spared) expect(d.confidence).toBeGreaterThan(0.98);
    // One digit alone is read as /api/predict reads it, in all ten.
    expect(recognizer.read(bitmap(drawDigit(FOUR))).digits[0].variants).toBe(10);
  });

  it('reads one digit as recognize() does', () => {
    const b = bitmap(drawDigit(FOUR));
    const reading = recognizer.read(b, { ensemble: 'mean' });
    const single = recognizer.recognize(b, { ensemble: 'mean' });
    expect(reading.text).toBe('4');
    expect(reading.digits[0].probabilities).toEqual(single.probabilities);
    expect(reading.digits[0].input).toEqual(single.input);
  });

  it('reads a pair of digits whose strokes touch, in either order', () => {
    // 55 pad pixels apart at half scale: the 4's bar runs into the 7, the 7's bar into the 4.
    for (const [digits, text] of [
      [[FOUR, SEVEN], '47'],
      [[SEVEN, FOUR], '74'],
    ] as const) {
      const drawing = drawNumber([...digits], { pitch: 55 });
      expect(touches(drawing)).toBe(true);
      const reading = recognizer.read(bitmap(drawing));
      expect(reading.text).toBe(text);
      expect(reading.reason).not.toBe('not_a_number');
    }
  });

  it('reads one digit drawn in two strokes that do not meet as one digit', () => {
    // A 0 as two arcs with gaps at the top and the bottom, a 5 with its flag apart.
    for (const [strokes, digit] of [
      [ZERO_IN_TWO, '0'],
      [FIVE_IN_TWO, '5'],
    ] as const) {
      const reading = recognizer.read(bitmap(drawDigit(strokes)));
      expect(reading.text).toBe(digit);
      expect(reading.digits).toHaveLength(1);
    }
  });

  it('calls a word of letters not a number', () => {
    const reading = recognizer.read(
      bitmap(drawNumber([LETTER_K, LETTER_E, LETTER_Y], { pitch: 150 })),
    );
    expect(reading.unsure).toBe(true);
    expect(reading.reason).toBe('not_a_number');
    const a = recognizer.read(bitmap(drawDigit(LETTER_A)));
    expect(a.reason).toBe('not_a_number');
  });

  it('reads a page line by line, top to bottom, each line with its box', () => {
    const rows = [
      bitmap(drawNumber([SEVEN, FOUR, SEVEN], { pitch: 160 })),
      bitmap(drawNumber([LETTER_K, LETTER_E, LETTER_Y], { pitch: 150 })),
      bitmap(drawNumber([FOUR, SEVEN], { pitch: 160 })),
    ];
    const page = stacked(rows, 30);
    const reading = recognizer.read(page, { layout: 'lines' });
    expect(reading.lines?.map((l) => l.text)).toHaveLength(3);
    expect(reading.lines?.map((l) => l.reason === 'not_a_number')).toEqual([false, true, false]);
    const [first, word, last] = reading.lines!;
    expect([first.text, last.text]).toEqual(['747', '47']);
    expect(reading.text).toBe(`747\n${word.text}\n47`);
    expect(reading.reason).toBe('ambiguous');
    expect(reading.digits.map((d) => d.digit).join('')).toBe(reading.text.replace(/\n/g, ''));
    // Each line's box lies within its own rows of the page, and the digits' boxes within it.
    let top = 0;
    reading.lines!.forEach((line, k) => {
      expect(line.box.y).toBeGreaterThanOrEqual(top);
      expect(line.box.y + line.box.height).toBeLessThanOrEqual(top + rows[k].height);
      expect(line.first).toBe(
        reading.lines![k - 1] ? reading.lines![k - 1].first + reading.lines![k - 1].count : 0,
      );
      for (const d of reading.digits.slice(line.first, line.first + line.count)) {
        expect(d.box.y).toBeGreaterThanOrEqual(line.box.y);
        expect(d.box.y + d.box.height).toBeLessThanOrEqual(line.box.y + line.box.height);
      }
      top += rows[k].height + 30;
    });
    // One line read as a page is the number read alone.
    const alone = recognizer.read(rows[0], { layout: 'lines' });
    expect(alone.text).toBe(recognizer.read(rows[0]).text);
    expect(alone.lines).toHaveLength(1);
  });

  it('reads writing on paper that was not plain with the line model of paper, drawings with their own', async () => {
    const canvas = bitmap(drawNumber([SEVEN, FOUR, SEVEN], { pitch: 160 }));
    // The same number on a check's grey, patterned paper.
    const scan = {
      ...canvas,
      data: Uint8ClampedArray.from(canvas.data, (v, i) => {
        const paper = (i % canvas.width) % 9 < 2 ? 170 : 215;
        return Math.min(paper, 30 + (v / 255) * paper);
      }),
    };
    expect(prepareLine(scan)!.onPaper).toBe(true);
    expect(prepareLine(canvas)!.onPaper).toBe(false);
    const [paperOnly, drawnOnly] = await Promise.all([
      loadRecognizer(undefined, { lineDir: DEFAULT_PAPER_LINE_MODEL_DIR, paperLineDir: null }),
      loadRecognizer(undefined, { paperLineDir: null }),
    ]);
    expect(recognizer.paperLine).not.toBeNull();
    const scores = (r: Recognizer, b: GrayBitmap) => r.read(b).digits.map((d) => d.probabilities);
    expect(scores(recognizer, scan)).toEqual(scores(paperOnly, scan));
    expect(scores(recognizer, scan)).not.toEqual(scores(drawnOnly, scan));
    expect(scores(recognizer, canvas)).toEqual(scores(drawnOnly, canvas));
    expect(recognizer.read(scan).text).toBe('747');
  });

  it('refuses a blank page as recognize() does', () => {
    const blank = { width: 50, height: 20, data: new Uint8ClampedArray(1000).fill(255) };
    expect(() => recognizer.read(blank)).toThrow(/no ink/);
  });
});

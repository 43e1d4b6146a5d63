import { describe, expect, it } from 'vitest';
import type { GrayBitmap } from '../../src/core/preprocess.ts';
import type { PenStroke } from '../../src/data/pendigits.ts';
import { decodeImage } from '../../src/node/decode.ts';
import { Random } from '../../src/core/random.ts';
import { composeNumber, DigitBank } from '../../src/data/compose-numbers.ts';
import {
  numberPad,
  PAD_SIZE,
  renderStrokes,
  renderStrokesPng,
  toPad,
} from '../../src/node/render-strokes.ts';

const at = (b: GrayBitmap, x: number, y: number) => b.data[Math.round(y) * b.width + Math.round(x)];

function ink(b: GrayBitmap): {
  area: number;
  cx: number;
  cy: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
} {
  let area = 0;
  let sx = 0;
  let sy = 0;
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let y = 0; y < b.height; y++)
    for (let x = 0; x < b.width; x++) {
      if (b.data[y * b.width + x] >= 128) continue;
      area++;
      sx += x;
      sy += y;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  return { area, cx: sx / area, cy: sy / area, x0, x1, y0, y1 };
}

/** A horizontal bar across the middle of the writer's box. */
const BAR: PenStroke[] = [
  [
    { x: 100, y: 250 },
    { x: 250, y: 250 },
    { x: 400, y: 250 },
  ],
];

describe('renderStrokes', () => {
  it('maps the 500x500 box onto the whole 280x280 pad with y flipped', async () => {
    expect(toPad({ x: 0, y: 500 })).toEqual({ x: 0, y: 0 });
    expect(toPad({ x: 500, y: 0 })).toEqual({ x: 280, y: 280 });
    expect(toPad({ x: 250, y: 400 })).toEqual({ x: 140, y: 56 });
  });

  it('draws black ink where the strokes are on white paper', async () => {
    const b = await renderStrokes(BAR, { brush: 16 });
    expect(b.width).toBe(PAD_SIZE);
    expect(b.height).toBe(PAD_SIZE);
    expect(at(b, 140, 140)).toBe(0);
    expect(at(b, 60, 140)).toBe(0);
    expect(at(b, 140, 120)).toBe(255);
    expect(at(b, 5, 5)).toBe(255);
    const box = ink(b);
    // 56..224 wide, plus the round caps (8 px); 16 px tall around y = 140.
    expect(box.x0).toBeGreaterThanOrEqual(47);
    expect(box.x1).toBeLessThanOrEqual(232);
    expect(box.y1 - box.y0 + 1).toBeGreaterThanOrEqual(15);
    expect(box.y1 - box.y0 + 1).toBeLessThanOrEqual(17);
  });

  it('puts a stroke written high in the box (y up) at the top of the pad', async () => {
    const high = await renderStrokes([
      [
        { x: 200, y: 450 },
        { x: 300, y: 450 },
      ],
    ]);
    expect(ink(high).cy).toBeCloseTo(27.5, 0); // pixel centres: y = 28 is between rows 27 and 28
    const low = await renderStrokes([
      [
        { x: 200, y: 50 },
        { x: 300, y: 50 },
      ],
    ]);
    expect(ink(low).cy).toBeCloseTo(251.5, 0);
  });

  it('draws a wider line with a wider brush', async () => {
    const thick = ink(await renderStrokes(BAR, { brush: 16 })).area;
    const thin = ink(await renderStrokes(BAR, { brush: 8 })).area;
    expect(thick / thin).toBeGreaterThan(1.8);
    expect(thick / thin).toBeLessThan(2.2);
  });

  it('draws a dot of the brush size for a single-point stroke', async () => {
    const b = await renderStrokes([[{ x: 250, y: 250 }]], { brush: 16 });
    const dot = ink(b);
    expect(dot.area).toBeGreaterThan(Math.PI * 8 * 8 * 0.8);
    expect(dot.area).toBeLessThan(Math.PI * 8 * 8 * 1.2);
    expect(dot.cx).toBeCloseTo(139.5, 0);
    expect(dot.cy).toBeCloseTo(139.5, 0);
    // Repeated identical points are a tap too.
    const tap = ink(
      await renderStrokes([
        [
          { x: 250, y: 250 },
          { x: 250, y: 250 },
        ],
      ]),
    );
    expect(tap.area).toBe(dot.area);
  });

  it('leaves the pad blank without strokes, and draws each digit afresh', async () => {
    await renderStrokes(BAR);
    expect(ink(await renderStrokes([])).area).toBe(0);
  });

  /** Whether the event loop turned while `render` ran. */
  const turnsDuring = async (render: () => Promise<unknown>) => {
    let turned = false;
    setImmediate(() => (turned = true));
    await render();
    return turned;
  };

  it('lets the event loop turn once many renderings are held, so the canvas frees them', async () => {
    // Node runs the canvas's finalizers between turns of the event loop only.
    const many = async () => {
      for (let i = 0; i < 250; i++) await renderStrokes(BAR); // 250 x 280 x 280 x 4 bytes: 78 MB
    };
    expect(await turnsDuring(many)).toBe(true);
    expect(await turnsDuring(() => renderStrokes(BAR))).toBe(false); // one more: no wait
  });

  it('counts the canvases that PNG snapshots draw on towards the release', async () => {
    const many = async () => {
      for (let i = 0; i < 250; i++) await renderStrokesPng(BAR, { size: 280 });
    };
    expect(await turnsDuring(many)).toBe(true);
  });

  it('writes the same picture as a PNG', async () => {
    const png = await renderStrokesPng(BAR, { brush: 8 });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const decoded = decodeImage(png);
    const direct = await renderStrokes(BAR, { brush: 8 });
    expect(decoded.width).toBe(PAD_SIZE);
    let diff = 0;
    for (let i = 0; i < direct.data.length; i++)
      diff = Math.max(diff, Math.abs(decoded.data[i] - direct.data[i]));
    expect(diff).toBeLessThanOrEqual(1);
  });

  it('refuses a brush that draws nothing', async () => {
    await expect(renderStrokes(BAR, { brush: 0 })).rejects.toThrow(RangeError);
  });
});

describe('numberPad', () => {
  it('draws a composed number on a canvas of its size, its ink within its digits boxes', async () => {
    // Every digit an upright bar, taller than wide, written y up as the pen data is.
    const digits = Array.from({ length: 10 }, (_, label) => ({
      label,
      writer: 1,
      strokes: [
        [
          { x: 240, y: 50 },
          { x: 260, y: 450 },
        ],
      ],
    }));
    const n = composeNumber(new DigitBank(digits), new Random(4), { kind: 'spaced', length: 3 });
    const b = await renderStrokes(n.strokes, numberPad(n));
    expect([b.width, b.height]).toEqual([n.width, n.height]);
    const box = ink(b);
    expect(box.x0).toBeGreaterThanOrEqual(n.boxes[0].x - 1);
    expect(box.x1).toBeLessThanOrEqual(n.boxes[2].x + n.boxes[2].width + 1);
    expect(box.y0).toBeGreaterThanOrEqual(Math.min(...n.boxes.map((d) => d.y)) - 1);
    expect(box.y1).toBeLessThanOrEqual(Math.max(...n.boxes.map((d) => d.y + d.height)) + 1);
    // The first bar's ink is at its box's place, not mirrored.
    expect(
      at(b, n.boxes[0].x + n.boxes[0].width / 2, n.boxes[0].y + n.boxes[0].height / 2),
    ).toBeLessThan(128);
  });
});

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.ts';
import { PenDataError } from '../../src/data/pen-text.ts';
import {
  isCutDigit,
  loadUnipen,
  parseUnipen,
  toPenBox,
  TYPICAL_SIZE,
  UNIPEN_FILES,
  usableDigit,
  writerScales,
} from '../../src/data/unipen.ts';
import { PEN_BOX } from '../../src/data/pendigits.ts';

/** A "5" in two strokes and an "A", by two writers of different devices. */
const TEXT = `.SEGMENT CHARACTER 0 ? "5"
.COMMENT writer apb/a001
.PEN_DOWN
300 900
100 900
100 500
300 500
300 100
100 100
.PEN_UP
.PEN_DOWN
100 900
320 900
.PEN_UP
.SEGMENT CHARACTER 1 ? "A"
.COMMENT writer ibm/x7
.PEN_DOWN
0 0
20 40
40 0
.PEN_UP
`;

describe('parseUnipen', () => {
  it('reads labels, writers and strokes as recorded', () => {
    const samples = parseUnipen(TEXT);
    expect(samples).toHaveLength(2);
    expect(samples[0]).toMatchObject({ label: '5', writer: 'apb/a001', line: 1 });
    expect(samples[0].strokes).toHaveLength(2);
    expect(samples[0].strokes[1]).toEqual([
      { x: 100, y: 900 },
      { x: 320, y: 900 },
    ]);
    expect(samples[1]).toMatchObject({ label: 'A', writer: 'ibm/x7', line: 15 });
  });

  it('gives the line of malformed input', () => {
    expect(() => parseUnipen('.SEGMENT CHARACTER 0 ? "ab"\n', 'u.txt')).toThrow(
      /^u\.txt:1: expected one character in quotes/,
    );
    expect(() => parseUnipen('.SEGMENT CHARACTER 0 ? "x"\n.PEN_DOWN\n1 2\n', 'u.txt')).toThrow(
      /^u\.txt:2: \.PEN_DOWN is never closed/,
    );
    expect(() => parseUnipen('.SEGMENT CHARACTER 0 ? "x"\n', 'u.txt')).toThrow(
      /^u\.txt:1: character "x" has no strokes/,
    );
  });
});

describe('loadUnipen', () => {
  it('reads a gzip-compressed set, and says where missing data was expected', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unipen-'));
    await writeFile(join(dir, UNIPEN_FILES.upper), gzipSync(TEXT));
    expect((await loadUnipen('upper', dir)).map((s) => s.label)).toEqual(['5', 'A']);
    const error = await loadUnipen('digits', dir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PenDataError);
    expect((error as PenDataError).kind).toBe('missing');
    expect((error as Error).message).toContain('--unipen <dir>');
    await writeFile(join(dir, UNIPEN_FILES.lower), '.INCLUDE x\n');
    await expect(loadUnipen('lower', dir)).rejects.toThrow(/no \.SEGMENT samples/);
  });
});

describe('placing UNIPEN samples on the pad', () => {
  it('scales each writer so a typical character has the same size in the pen box', () => {
    const samples = parseUnipen(TEXT);
    const scales = writerScales(samples);
    expect(scales.get('apb/a001')).toBeCloseTo(TYPICAL_SIZE / 800);
    expect(scales.get('ibm/x7')).toBeCloseTo(TYPICAL_SIZE / 40);
  });

  it('keeps the shape, inside the box, at a random place', () => {
    const [five] = parseUnipen(TEXT);
    const rng = new Random(3);
    for (let i = 0; i < 20; i++) {
      const strokes = toPenBox(five, 0.25, rng);
      const points = strokes.flat();
      const xs = points.map((p) => p.x);
      const ys = points.map((p) => p.y);
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...ys)).toBeLessThanOrEqual(PEN_BOX);
      const height = Math.max(...ys) - Math.min(...ys);
      const width = Math.max(...xs) - Math.min(...xs);
      expect(width / height).toBeCloseTo(220 / 800);
      expect(height).toBeGreaterThanOrEqual(800 * 0.25 * 0.75 - 1e-9);
      expect(height).toBeLessThanOrEqual(800 * 0.25 * 1.3 + 1e-9);
    }
    // A scale far too large is shrunk to fit.
    const huge = toPenBox(five, 10, rng).flat();
    expect(
      Math.max(...huge.map((p) => p.y)) - Math.min(...huge.map((p) => p.y)),
    ).toBeLessThanOrEqual(PEN_BOX);
  });
});

describe('cut digit samples', () => {
  const line = (n: number, bend = 0) =>
    Array.from({ length: n + 1 }, (_, i) => ({
      x: 100 + i * 10,
      y: 400 - i * 30 + bend * Math.sin((Math.PI * i) / n),
    }));
  const ring = Array.from({ length: 25 }, (_, i) => ({
    x: 250 + 80 * Math.cos((2 * Math.PI * i) / 24),
    y: 250 + 120 * Math.sin((2 * Math.PI * i) / 24),
  }));

  it('a straight stroke labelled other than 1 lost strokes', () => {
    expect(isCutDigit({ label: '4', strokes: [line(10)] })).toBe(true);
    expect(isCutDigit({ label: '0', strokes: [line(10, 20)] })).toBe(true); // a slight wobble
    expect(isCutDigit({ label: '8', strokes: [[{ x: 250, y: 250 }]] })).toBe(true); // a dot
  });

  it('a 1, a bent stroke, a loop or several strokes are whole', () => {
    expect(isCutDigit({ label: '1', strokes: [line(10)] })).toBe(false);
    expect(isCutDigit({ label: '7', strokes: [line(10, 120)] })).toBe(false);
    expect(isCutDigit({ label: '0', strokes: [ring] })).toBe(false);
    expect(isCutDigit({ label: '4', strokes: [line(10), line(3)] })).toBe(false);
    expect(isCutDigit({ label: 'A', strokes: [line(10)] })).toBe(false);
  });

  it('a usable digit is a whole one, read as its number', () => {
    expect(usableDigit({ label: '7', strokes: [line(10, 120)] })).toBe(7);
    expect(usableDigit({ label: '1', strokes: [line(10)] })).toBe(1);
    expect(usableDigit({ label: '4', strokes: [line(10)] })).toBeNull(); // cut
    expect(usableDigit({ label: 'A', strokes: [line(10, 120)] })).toBeNull();
  });
});

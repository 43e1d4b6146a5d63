import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadPendigits,
  parsePendigits,
  PENDIGITS_FILE,
  PenDataError,
} from '../../src/data/pendigits.ts';

/** Two digits in the data's own format, the second written in two strokes. */
const TEXT = `.INCLUDE        dene.doc

.LEXICON "0" "1" "2" "3" "4" "5" "6" "7" "8" "9"
.HIERARCHY      DIGIT

.SEGMENT DIGIT    0 ? "1"
.COMMENT 1 12  224
.PEN_DOWN
 250  450
 250  300
 251   50
.PEN_UP
.DT 100

.SEGMENT DIGIT    1 ? "4"
.COMMENT 4 7   31
.PEN_DOWN
 100  400
  80  200
 300  200
.PEN_UP
.DT 100
.PEN_DOWN
 250  420
 250   20
.PEN_UP
.DT 100
`;

function expectError(text: string, message: RegExp): void {
  let error: unknown;
  try {
    parsePendigits(text, 'test.tra');
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(PenDataError);
  expect((error as PenDataError).kind).toBe('malformed');
  expect((error as Error).message).toMatch(message);
}

describe('parsePendigits', () => {
  it('reads labels, writers and strokes, keeping the recorded coordinates (y up)', () => {
    const digits = parsePendigits(TEXT);
    expect(digits).toHaveLength(2);
    expect(digits[0]).toEqual({
      label: 1,
      writer: 12,
      sample: 224,
      line: 6,
      strokes: [
        [
          { x: 250, y: 450 },
          { x: 250, y: 300 },
          { x: 251, y: 50 },
        ],
      ],
    });
    expect(digits[1].label).toBe(4);
    expect(digits[1].writer).toBe(7);
    expect(digits[1].strokes).toHaveLength(2);
    expect(digits[1].strokes[1]).toEqual([
      { x: 250, y: 420 },
      { x: 250, y: 20 },
    ]);
  });

  it('accepts a digit without a comment and CRLF line ends', () => {
    const digits = parsePendigits('.SEGMENT DIGIT 0 ? "7"\r\n.PEN_DOWN\r\n 1 2\r\n.PEN_UP\r\n');
    expect(digits).toEqual([
      { label: 7, writer: null, sample: null, line: 1, strokes: [[{ x: 1, y: 2 }]] },
    ]);
  });

  it('gives the line of malformed input', () => {
    expectError(
      '.SEGMENT DIGIT 0 ? "7"\n.PEN_DOWN\n 1 2\n 3 abc\n.PEN_UP\n',
      /^test\.tra:4: cannot read "3 abc"/,
    );
    expectError(
      '.SEGMENT DIGIT 0 ? "7"\n 1 2\n',
      /^test\.tra:2: the point "1 2" is outside a \.PEN_DOWN/,
    );
    expectError('.SEGMENT DIGIT 0 ? "7"\n.PEN_UP\n', /^test\.tra:2: \.PEN_UP without a \.PEN_DOWN/);
    expectError('.PEN_DOWN\n', /^test\.tra:1: \.PEN_DOWN before any \.SEGMENT/);
    expectError(
      '.SEGMENT DIGIT 0 ? "7"\n.PEN_DOWN\n 1 2\n',
      /^test\.tra:2: \.PEN_DOWN is never closed/,
    );
    expectError(
      '.SEGMENT DIGIT 0 ? "7"\n.PEN_DOWN\n 1 2\n.SEGMENT DIGIT 1 ? "3"\n',
      /^test\.tra:2: \.PEN_DOWN is never closed by \.PEN_UP \(before line 4\)/,
    );
    expectError('.SEGMENT DIGIT 0 ? "x"\n', /^test\.tra:1: expected a digit label in quotes/);
    expectError(
      '.SEGMENT DIGIT 0 ? "7"\n.SEGMENT DIGIT 1 ? "3"\n',
      /^test\.tra:1: digit "7" has no strokes/,
    );
    expectError(
      '.SEGMENT DIGIT 0 ? "7"\n.PEN_DOWN\n.PEN_UP\n',
      /^test\.tra:3: the stroke of line 2 has no points/,
    );
    expectError(
      '.SEGMENT DIGIT 0 ? "7"\n.COMMENT 3 1 1\n',
      /^test\.tra:2: the comment gives digit 3/,
    );
    expectError(
      '.SEGMENT DIGIT 0 ? "7"\n.PEN_DOWN\n.DT 100\n',
      /^test\.tra:3: unexpected \.DT inside a stroke/,
    );
    expectError('hello\n', /^test\.tra:1: cannot read "hello"/);
  });
});

describe('loadPendigits', () => {
  it('reads the file from a folder or given directly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pendigits-'));
    await writeFile(join(dir, PENDIGITS_FILE), TEXT);
    expect(await loadPendigits(dir)).toHaveLength(2);
    expect(await loadPendigits(join(dir, PENDIGITS_FILE))).toHaveLength(2);
  });

  it('says where the data was expected and how to point elsewhere', async () => {
    const error = await loadPendigits('/nonexistent/pendigits').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PenDataError);
    expect((error as PenDataError).kind).toBe('missing');
    expect((error as Error).message).toContain(join('/nonexistent/pendigits', PENDIGITS_FILE));
    expect((error as Error).message).toContain('--pendigits <dir>');
    expect((error as Error).message).toContain('../shared/data/pendigits-train');
  });

  it('refuses a file without digits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pendigits-'));
    await writeFile(join(dir, PENDIGITS_FILE), '.INCLUDE x\n');
    await expect(loadPendigits(dir)).rejects.toThrow(/no \.SEGMENT digits/);
  });
});

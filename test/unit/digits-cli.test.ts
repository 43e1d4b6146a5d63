/**
 * The `digits` command, run as a user runs it (a child process through tsx), on files the
 * test writes. Uses the shipped model, but asserts no accuracy.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeReading, parseCommand, UsageError } from '../../src/cli/predict.ts';
import { readingOf } from '../../src/recognizer/answers.ts';
import { renderStrokesPng } from '../../src/node/render-strokes.ts';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules/.bin/tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

const digits = (args: string[], cwd: string) =>
  run(TSX, [join(ROOT, 'src/cli/digits.ts'), ...args], cwd);

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'digits-cli-'));
  // A "7" drawn on the pad: a bar and a slanted downstroke.
  const seven = await renderStrokesPng(
    [
      [
        { x: 150, y: 400 },
        { x: 350, y: 400 },
        { x: 230, y: 100 },
      ],
    ],
    { brush: 16 },
  );
  await writeFile(join(dir, 'seven.png'), seven);
  await writeFile(join(dir, 'blank.png'), await renderStrokesPng([]));
  // A "7" and a "1" side by side on a wide pad (pixel coordinates, y down).
  const number = await renderStrokesPng(
    [
      [
        { x: 40, y: 60 },
        { x: 150, y: 60 },
        { x: 80, y: 220 },
      ],
      [
        { x: 230, y: 50 },
        { x: 225, y: 225 },
      ],
    ],
    { brush: 16, size: 320, height: 280, box: 320, yUp: false },
  );
  await writeFile(join(dir, 'number.png'), number);
  await writeFile(join(dir, 'text.png'), 'not a picture');
  // The same number scanned from a check: grey patterned paper, a JPEG; and a page of two.
  const drawn = PNG.sync.read(number);
  const scan = Buffer.alloc(drawn.width * drawn.height * 4);
  for (let i = 0; i < drawn.width * drawn.height; i++) {
    const [x, y] = [i % drawn.width, Math.floor(i / drawn.width)];
    const paper = (x + 2 * y) % 11 < 2 ? 160 : 210;
    const v = Math.min(paper, drawn.data[4 * i] * 0.2 + 30 + (drawn.data[4 * i] / 255) * paper);
    scan.fill(Math.round(Math.min(255, v)), 4 * i, 4 * i + 3);
    scan[4 * i + 3] = 255;
  }
  const jpg = jpeg.encode({ data: scan, width: drawn.width, height: drawn.height }, 75);
  await writeFile(join(dir, 'scan.jpg'), jpg.data);
  const page = new PNG({ width: drawn.width, height: 2 * drawn.height + 40 });
  page.data.fill(255);
  drawn.data.copy(page.data, 0);
  drawn.data.copy(page.data, 4 * drawn.width * (drawn.height + 40));
  await writeFile(join(dir, 'page.png'), PNG.sync.write(page));
});

describe('digits predict', () => {
  it('prints a digit per file and exits 0', async () => {
    const r = await digits(['predict', 'seven.png'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^seven\.png: \d \(\d+\.\d%, votes \d+\/10\)\n$/);
  });

  it('prints JSON with --json and takes --ensemble and --ink', async () => {
    const r = await digits(
      ['predict', '--json', '--ensemble', 'off', '--ink', 'dark', 'seven.png'],
      dir,
    );
    expect(r.code).toBe(0);
    const [answer] = JSON.parse(r.stdout) as {
      file: string;
      digit: number;
      probabilities: number[];
      variants: number;
    }[];
    expect(answer.file).toBe('seven.png');
    expect(answer.digit).toBeGreaterThanOrEqual(0);
    expect(answer.digit).toBeLessThanOrEqual(9);
    expect(answer.probabilities).toHaveLength(10);
    expect(answer.variants).toBe(1);
  });

  it('reports each bad file on stderr, still recognises the others, and exits 1', async () => {
    const r = await digits(['predict', 'missing.png', 'seven.png', 'text.png', 'blank.png'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^seven\.png: \d /);
    expect(r.stderr).toContain('missing.png: file not found');
    expect(r.stderr).toContain('text.png: the image is not a PNG or JPEG');
    expect(r.stderr).toContain('blank.png: no ink found');
  });

  it('exits 1 for a missing file alone, without loading the model', async () => {
    const r = await digits(['predict', '--json', 'missing.png'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing.png: file not found');
    expect(JSON.parse(r.stdout)).toEqual([
      { file: 'missing.png', error: { code: 'not_found', message: 'file not found' } },
    ]);
  });

  it('exits 2 with the usage for usage errors', async () => {
    for (const args of [
      ['predict', '--bogus', 'seven.png'],
      ['predict'],
      ['guess', 'seven.png'],
      [],
    ]) {
      const r = await digits(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('usage: digits predict FILE...');
    }
  });

  it('prints the usage with --help, also through bin/digits.js', async () => {
    const r = await run(process.execPath, [join(ROOT, 'bin/digits.js'), '--help'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: digits predict FILE...');
  });
});

describe('digits read', () => {
  it('reads a number per file, its digits left to right with their boxes', async () => {
    const r = await digits(['read', '--json', 'number.png', 'blank.png'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('blank.png: no ink found');
    const [number, blank] = JSON.parse(r.stdout) as {
      file: string;
      text: string;
      digits: { digit: number; confidence: number; box: { x: number; width: number } }[];
      error?: { code: string };
    }[];
    expect(number.file).toBe('number.png');
    expect(number).toHaveProperty('reason');
    expect(number).toHaveProperty('marks');
    expect(number.digits).toHaveLength(2);
    expect(number.text).toBe(number.digits.map((d) => d.digit).join(''));
    expect(number.digits[0].box.x + number.digits[0].box.width).toBeLessThan(
      number.digits[1].box.x,
    );
    expect(blank.error?.code).toBe('empty_image');
  });
});

describe('digits read, on paper', () => {
  it('reads a scan of a check as it reads the drawing, and a page line by line with --lines', async () => {
    const r = await digits(['read', 'number.png', 'scan.jpg'], dir);
    expect(r.stderr).toBe('');
    const [drawn, scanned] = r.stdout.trim().split('\n');
    const text = drawn.match(/^number\.png: (?:unsure: )?(\d+) /)![1];
    expect(scanned).toMatch(new RegExp(`^scan\\.jpg: (unsure: )?${text} `));
    const page = await digits(['read', '--lines', 'page.png'], dir);
    expect(page.code).toBe(0);
    expect(page.stdout).toMatch(
      new RegExp(`^page\\.png: 2 lines\n  1: (unsure: )?${text} .*\n  2: (unsure: )?${text} `),
    );
  });
});

describe('describeReading', () => {
  it('says when a drawing is no number, with or without digits read in it', () => {
    expect(describeReading(readingOf([], 3))).toBe('not a number');
  });
});

describe('parseCommand', () => {
  it('reads the options with their defaults', () => {
    expect(parseCommand(['predict', 'a.png', 'b.png'])).toEqual({
      command: 'predict',
      files: ['a.png', 'b.png'],
      json: false,
      ensemble: 'vote',
      ink: 'dark',
      model: undefined,
      lines: false,
    });
    expect(
      parseCommand(['predict', 'a.png', '--ensemble', 'mean', '--ink', 'light', '--model', 'm']),
    ).toMatchObject({
      ensemble: 'mean',
      ink: 'light',
      model: 'm',
    });
    expect(parseCommand(['--help'])).toEqual({ command: 'help' });
    expect(parseCommand(['read', 'a.png', '--lines'])).toMatchObject({ lines: true });
    expect(() => parseCommand(['predict', 'a.png', '--lines'])).toThrow(/--lines goes with read/);
    expect(parseCommand(['read', 'a.png', '--json'])).toMatchObject({
      command: 'read',
      files: ['a.png'],
      json: true,
    });
  });

  it('names the wrong value', () => {
    expect(() => parseCommand(['predict', 'a.png', '--ensemble', 'all'])).toThrow(UsageError);
    expect(() => parseCommand(['predict', 'a.png', '--ensemble', 'all'])).toThrow(
      /one of vote, mean, off, got "all"/,
    );
    expect(() => parseCommand(['predict', 'a.png', '--ink', 'blue'])).toThrow(
      /--ink must be one of dark, light/,
    );
  });
});

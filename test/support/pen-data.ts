/**
 * A tiny pen-digits folder and UNIPEN folder in the data sets' own formats, written by the
 * tests: a few writers of each split (training and validation), each writing every digit
 * and a few letters. Tests never read ../shared/data.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PENDIGITS_FILE } from '../../src/data/pendigits.ts';
import { UNIPEN_FILES } from '../../src/data/unipen.ts';
import { PNG } from 'pngjs';
import { isValidationField, PEN_DIGITS, writerHash, UNIPEN } from '../../src/training/config.ts';

type Polyline = [number, number][];

/** Each digit as strokes in a 100-unit box, y up. */
const DIGIT_STROKES: Polyline[][] = [
  [
    [
      [50, 100],
      [15, 70],
      [15, 30],
      [50, 0],
      [85, 30],
      [85, 70],
      [50, 100],
    ],
  ],
  [
    [
      [35, 80],
      [55, 100],
      [55, 0],
    ],
  ],
  [
    [
      [15, 80],
      [50, 100],
      [85, 80],
      [15, 0],
      [85, 0],
    ],
  ],
  [
    [
      [15, 90],
      [80, 90],
      [40, 55],
      [85, 30],
      [50, 0],
      [15, 10],
    ],
  ],
  [
    [
      [60, 100],
      [10, 35],
      [90, 35],
    ],
    [
      [65, 65],
      [65, 0],
    ],
  ],
  [
    [
      [85, 100],
      [20, 100],
      [15, 55],
      [80, 50],
      [80, 10],
      [15, 5],
    ],
  ],
  [
    [
      [75, 100],
      [20, 50],
      [20, 10],
      [60, 0],
      [80, 30],
      [50, 55],
      [20, 35],
    ],
  ],
  [
    [
      [10, 100],
      [90, 100],
      [40, 0],
    ],
  ],
  [
    [
      [50, 50],
      [15, 75],
      [50, 100],
      [85, 75],
      [50, 50],
      [15, 25],
      [50, 0],
      [85, 25],
      [50, 50],
    ],
  ],
  [
    [
      [80, 60],
      [50, 40],
      [15, 65],
      [50, 100],
      [80, 70],
      [75, 0],
    ],
  ],
];

/** Letters that look like no digit (see DIGIT_LIKE). */
const LETTERS: Record<string, Polyline[]> = {
  A: [
    [
      [10, 0],
      [50, 100],
      [90, 0],
    ],
    [
      [30, 45],
      [70, 45],
    ],
  ],
  K: [
    [
      [15, 0],
      [15, 100],
    ],
    [
      [85, 100],
      [15, 45],
      [85, 0],
    ],
  ],
  M: [
    [
      [10, 0],
      [10, 100],
      [50, 40],
      [90, 100],
      [90, 0],
    ],
  ],
  W: [
    [
      [5, 100],
      [25, 0],
      [50, 70],
      [75, 0],
      [95, 100],
    ],
  ],
};

/** Strokes moved and scaled a little, as another hand writes them. */
function written(strokes: Polyline[], writer: number, scale: number, y0: number): Polyline[] {
  const lean = ((writer % 5) - 2) * 0.06;
  return strokes.map((s) =>
    s.map(([x, y]) => [Math.round(100 + (x + lean * y) * scale), Math.round(y0 + y * scale)]),
  );
}

function segment(kind: string, index: number, label: string, comment: string, strokes: Polyline[]) {
  const lines = [`.SEGMENT ${kind} ${index} ? "${label}"`, `.COMMENT ${comment}`];
  for (const s of strokes) lines.push('.PEN_DOWN', ...s.map(([x, y]) => ` ${x} ${y}`), '.PEN_UP');
  return lines.join('\n');
}

/** UNIPEN writer names of the split asked for (the split is a hash of the name). */
function unipenWriters(validation: boolean, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const name = `test/w${i}`;
    if ((writerHash(name) % UNIPEN.validationModulo === 0) === validation) out.push(name);
  }
  return out;
}

/** Writes both folders under `root`; returns their paths. */
export async function writeTinyPenData(
  root: string,
): Promise<{ pendigitsDir: string; unipenDir: string; checksDir: string }> {
  const pendigitsDir = join(root, 'pendigits');
  const unipenDir = join(root, 'unipen');
  const checksDir = await writeTinyChecks(join(root, 'checks'));
  await mkdir(pendigitsDir, { recursive: true });
  await mkdir(unipenDir, { recursive: true });

  // Pen digits: writers 1 and 2 train, the first validation writer is held out.
  const penWriters = [1, 2, PEN_DIGITS.validationWriters[0]];
  const pen: string[] = [
    '.LEXICON "0" "1" "2" "3" "4" "5" "6" "7" "8" "9"',
    '.HIERARCHY DIGIT',
    '',
  ];
  let n = 0;
  for (const w of penWriters)
    for (let copy = 0; copy < 2; copy++)
      DIGIT_STROKES.forEach((strokes, d) => {
        pen.push(
          segment('DIGIT', n++, String(d), `${d} ${w} ${copy}`, written(strokes, w + copy, 3, 50)),
        );
      });
  await writeFile(join(pendigitsDir, PENDIGITS_FILE), pen.join('\n') + '\n');

  const writers = [...unipenWriters(false, 2), ...unipenWriters(true, 1)];
  const digits: string[] = [];
  const upper: string[] = [];
  writers.forEach((w, k) => {
    DIGIT_STROKES.forEach((strokes, d) =>
      digits.push(
        segment('CHARACTER', digits.length, String(d), `writer ${w}`, written(strokes, k, 2, 0)),
      ),
    );
    for (const [letter, strokes] of Object.entries(LETTERS))
      upper.push(
        segment('CHARACTER', upper.length, letter, `writer ${w}`, written(strokes, k, 2, 0)),
      );
  });
  const gz = (parts: string[]) => gzipSync(Buffer.from(parts.join('\n') + '\n'));
  await writeFile(join(unipenDir, UNIPEN_FILES.digits), gz(digits));
  await writeFile(join(unipenDir, UNIPEN_FILES.upper), gz(upper));
  // Lower-case letters and symbols: the same letters, written smaller.
  await writeFile(join(unipenDir, UNIPEN_FILES.lower), gz(upper));
  await writeFile(join(unipenDir, UNIPEN_FILES.symbols), gz(upper.slice(0, 2)));
  return { pendigitsDir, unipenDir, checksDir };
}

/**
 * A tiny folder of scanned fields (data/scanned-fields.ts): grey patterned paper with 1s
 * written on it as dark bars, labelled; fields of both splits (config.ts: isValidationField).
 */
export async function writeTinyChecks(dir: string): Promise<string> {
  await mkdir(join(dir, 'images'), { recursive: true });
  const labels: string[] = [];
  const split = { training: 0, validation: 0 };
  for (let n = 0; split.training < 4 || split.validation < 2; n++) {
    const path = `images/field_${n}.png`;
    const which = isValidationField(path) ? 'validation' : 'training';
    if (split[which] >= (which === 'training' ? 4 : 2)) continue;
    split[which]++;
    const count = 1 + (n % 4);
    const png = new PNG({ width: 40 + 30 * count, height: 50 });
    for (let y = 0; y < png.height; y++)
      for (let x = 0; x < png.width; x++) {
        const bar = x >= 20 && (x - 20) % 30 < 4 && y >= 8 && y < 42 && (x - 20) / 30 < count;
        const level = bar ? 30 : (x + 2 * y) % 9 < 2 ? 165 : 215;
        png.data.set([level, level, level, 255], 4 * (y * png.width + x));
      }
    await writeFile(join(dir, path), PNG.sync.write(png));
    labels.push(`${path}\t${'1'.repeat(count)}`);
  }
  await writeFile(join(dir, 'labels.tsv'), labels.join('\n') + '\n');
  return dir;
}

/**
 * npm run eval:paper -- [--model DIR] [--line-model DIR] [--paper-line-model DIR|none]
 *                       [--checks DIR] [--pendigits DIR] [--drawn N] [--mistakes N]
 *
 * How writing on paper is read:
 * - real scanned check amounts (the development checks, ../shared/data/orand-car-a-dev): each
 *   field read as `POST /api/read` reads an upload, scored as the field's benchmark scores
 *   it (the digit string, exact); the third held out of the line model's training
 *   (config.ts, SCANNED_FIELDS) apart from the two thirds it learned from.
 * - the pen-digit validation writers' digits (never trained on) drawn on white, then as a
 *   scan and as photos of a page in uneven light (src/evaluation/photographed.ts), each read
 *   one digit at a time and as a number. Accuracy (`vote`) and the share flagged unsure.
 */
import { parseArgs } from 'node:util';
import { Random } from '../core/random.ts';
import { photographed, type Paper } from '../evaluation/photographed.ts';
import { renderStrokes } from '../node/render-strokes.ts';
import { DEFAULT_MODEL_DIR, loadRecognizer } from '../recognizer/node.ts';
import { penValidationDigits } from '../evaluation/validation-sets.ts';
import { isValidationField, TRAIN } from '../training/config.ts';
import { defaultChecksDir, loadScannedFields } from '../data/scanned-fields.ts';
import { addTallies, readScannedFields } from '../evaluation/scanned.ts';
import type { Recognizer } from '../recognizer/recognizer.ts';
import { positiveInt } from './args.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: DEFAULT_MODEL_DIR },
    'line-model': { type: 'string' },
    'paper-line-model': { type: 'string' },
    checks: { type: 'string' },
    pendigits: { type: 'string' },
    drawn: { type: 'string' },
    mistakes: { type: 'string' },
  },
});

const PAPERS: { name: string; paper: Paper }[] = [
  { name: 'white (a canvas)', paper: { paper: 255, light: 0, ink: 0, grain: 0 } },
  { name: 'scan: paper 235, ink 40', paper: { paper: 235, light: 0, ink: 40, grain: 4 } },
  {
    name: 'photo: paper 200 ±30, ink 70, grain 8',
    paper: { paper: 200, light: 60, ink: 70, grain: 8 },
  },
  {
    name: 'dim photo: paper 150 ±25, ink 60, grain 10',
    paper: { paper: 150, light: 50, ink: 60, grain: 10 },
  },
];

const percent = (part: number, whole: number) =>
  whole ? `${((100 * part) / whole).toFixed(1)}%` : '-';

async function readChecks(recognizer: Recognizer): Promise<void> {
  const dir = values.checks ?? defaultChecksDir();
  const fields = await loadScannedFields(dir);
  const heldOut = fields.filter((f) => isValidationField(f.path));
  const trained = fields.filter((f) => !isValidationField(f.path));
  console.log(`real scanned check amounts (${dir}), read as POST /api/read reads an upload:`);
  const held = await readScannedFields(recognizer, dir, heldOut);
  const learned = await readScannedFields(recognizer, dir, trained);
  for (const [name, t] of [
    ['held out of training (a third)', held],
    ['the line model trained on them', learned],
    ['all', addTallies(held, learned)],
  ] as const) {
    console.log(
      `  ${name.padEnd(32)} ${String(t.fields).padStart(4)} fields: exact ${percent(t.exact, t.fields)} ` +
        `(${t.exact}), digit count right ${percent(t.countRight, t.fields)}, digits right ` +
        `${percent(t.digitsRight, t.digits)}, flagged ${percent(t.flagged, t.fields)} ` +
        `(of the right ones ${percent(t.rightFlagged, t.exact)}), ` +
        `${(t.milliseconds / t.fields).toFixed(1)} ms a field`,
    );
  }
  const shown = positiveInt('mistakes', values.mistakes, 12);
  for (const m of held.mistakes.slice(0, shown))
    console.log(`    ${m.path}: ${m.digits} -> "${m.read}"`);
}

async function main(): Promise<void> {
  const paperLine = values['paper-line-model'];
  const recognizer = await loadRecognizer(values.model, {
    lineDir: values['line-model'],
    // `none`: paper read by the drawings' line model too.
    paperLineDir: paperLine === 'none' ? null : paperLine,
  });
  await readChecks(recognizer);
  const drawn = positiveInt('drawn', values.drawn, Number.MAX_SAFE_INTEGER);
  const digits = (await penValidationDigits(TRAIN, values.pendigits)).slice(0, drawn);
  const pct = (n: number) => `${((100 * n) / digits.length).toFixed(2)}%`;
  console.log(`${digits.length} pen digits of the validation writers, brush 12 on a 280 px pad`);
  for (const { name, paper } of PAPERS) {
    const rng = new Random(1);
    const tally = { digit: 0, digitFlagged: 0, number: 0, numberFlagged: 0 };
    for (const d of digits) {
      const image = photographed(await renderStrokes(d.strokes, { brush: 12 }), paper, rng);
      const one = recognizer.recognize(image);
      const read = recognizer.read(image);
      if (one.digit === d.label) tally.digit++;
      if (one.unsure) tally.digitFlagged++;
      if (read.text === String(d.label)) tally.number++;
      if (read.unsure) tally.numberFlagged++;
    }
    console.log(
      `${name.padEnd(44)} one digit ${pct(tally.digit)} (flagged ${pct(tally.digitFlagged)}), ` +
        `as a number ${pct(tally.number)} (flagged ${pct(tally.numberFlagged)})`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(`eval:paper: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

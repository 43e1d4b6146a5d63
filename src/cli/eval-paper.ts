/**
 * npm run eval:paper -- [--model DIR] [--pendigits DIR]
 *
 * How digits on paper that is not white are read: the pen-digit validation writers' digits
 * (never trained on) drawn on white, then as a scan and as photos of a page in uneven light
 * (src/evaluation/photographed.ts), each read one digit at a time and as a number. Accuracy
 * (`vote`) and the share flagged unsure.
 */
import { parseArgs } from 'node:util';
import { Random } from '../core/random.ts';
import { photographed, type Paper } from '../evaluation/photographed.ts';
import { renderStrokes } from '../node/render-strokes.ts';
import { DEFAULT_MODEL_DIR, loadRecognizer } from '../recognizer/node.ts';
import { penValidationDigits } from '../evaluation/validation-sets.ts';
import { TRAIN } from '../training/config.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: DEFAULT_MODEL_DIR },
    pendigits: { type: 'string' },
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

async function main(): Promise<void> {
  const recognizer = await loadRecognizer(values.model);
  const digits = await penValidationDigits(TRAIN, values.pendigits);
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

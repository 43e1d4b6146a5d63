/**
 * npm run eval:read-unsure -- [--model DIR] [--pendigits DIR] [--unipen DIR]
 *
 * How honest reading a number is (POST /api/read, what the page does with every drawing)
 * beside reading one digit (POST /api/predict): for the validation writers' letters and
 * symbols (not digit-like), their digits and numbers composed of their digits, the share
 * flagged unsure each way, and how often a drawing is read as several digits. Drawings
 * alternate between brush 16 and 8; a quarter of the digits; 150 numbers of each kind and
 * length 2-4 (seed 21).
 */
import { parseArgs } from 'node:util';
import type { GrayBitmap } from '../core/preprocess.ts';
import { Random } from '../core/random.ts';
import { composeNumber, DigitBank, NUMBER_KINDS } from '../data/compose-numbers.ts';
import { penValidationDigits, validationDrawings } from '../evaluation/validation-sets.ts';
import { numberPad, renderStrokes } from '../node/render-strokes.ts';
import { DEFAULT_MODEL_DIR, loadRecognizer } from '../recognizer/node.ts';
import { TRAIN } from '../training/config.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: DEFAULT_MODEL_DIR },
    pendigits: { type: 'string' },
    unipen: { type: 'string' },
  },
});

interface Tally {
  count: number;
  oneFlagged: number;
  readFlagged: number;
  readSeveral: number;
}

async function main(): Promise<void> {
  const recognizer = await loadRecognizer(values.model);
  const tallies = new Map<string, Tally>();
  const judge = (group: string, bitmap: GrayBitmap) => {
    const t = tallies.get(group) ?? { count: 0, oneFlagged: 0, readFlagged: 0, readSeveral: 0 };
    tallies.set(group, t);
    let one, read;
    try {
      one = recognizer.recognize(bitmap);
      read = recognizer.read(bitmap);
    } catch {
      return; // refused (no ink, or far too many marks): neither answer is given
    }
    t.count++;
    if (one.unsure) t.oneFlagged++;
    if (read.unsure) t.readFlagged++;
    if (read.digits.length > 1) t.readSeveral++;
  };
  const drawings = await validationDrawings(TRAIN, {
    pendigitsDir: values.pendigits,
    unipenDir: values.unipen,
  });
  for (const [i, d] of drawings.entries()) {
    if (d.kind === 'digit_like' || (d.kind === 'digit' && i % 4 !== 0)) continue;
    const group = d.kind === 'digit' ? 'digits' : 'letters and symbols (not digit-like)';
    judge(group, await renderStrokes(d.strokes, { brush: i % 2 ? 8 : 16 }));
  }
  const bank = new DigitBank(await penValidationDigits(TRAIN, values.pendigits));
  const rng = new Random(21);
  for (const kind of NUMBER_KINDS)
    for (const length of [2, 3, 4])
      for (let i = 0; i < 150; i++) {
        const n = composeNumber(bank, rng, { kind, length });
        judge(`numbers of 2-4 digits, ${kind}`, await renderStrokes(n.strokes, numberPad(n)));
      }
  const pct = (n: number, t: Tally) => `${((100 * n) / t.count).toFixed(1)}%`.padStart(7);
  console.log(
    `${'validation drawings'.padEnd(42)} ${'count'.padStart(6)}  flagged as one digit  flagged as a number  read as several`,
  );
  for (const [group, t] of tallies) {
    console.log(
      `${group.padEnd(42)} ${String(t.count).padStart(6)}  ${pct(t.oneFlagged, t).padEnd(20)}  ` +
        `${pct(t.readFlagged, t).padEnd(19)}  ${pct(t.readSeveral, t)}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(`eval:read-unsure: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

/**
 * npm run eval:brush -- [--model DIR] [--pendigits DIR] [--pad PX]
 *
 * How the page's brush (src/core/brush.ts) reads digits written at different sizes: the
 * pen-digit validation writers' digits (never trained on) drawn with their box mapped onto
 * a square of the whole pad's height down to a sixth of it, with the page's brush and with
 * brushes of a fixed fraction of the pad's height. Accuracy (`vote`) and the share flagged
 * unsure, for each.
 */
import { parseArgs } from 'node:util';
import { brushWidth } from '../core/brush.ts';
import { renderStrokes } from '../node/render-strokes.ts';
import { DEFAULT_MODEL_DIR, loadRecognizer } from '../recognizer/node.ts';
import { penValidationDigits } from '../evaluation/validation-sets.ts';
import { TRAIN } from '../training/config.ts';
import { positiveInt } from './args.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: DEFAULT_MODEL_DIR },
    pendigits: { type: 'string' },
    pad: { type: 'string' },
  },
});

/** The writer's box as a share of the pad's height. */
const SIZES = [1, 0.4, 0.25, 0.175];
/** Brushes compared with the page's, as fractions of the pad's height. */
const FRACTIONS = [17.5, 28, 45, 60];

async function main(): Promise<void> {
  const pad = positiveInt('pad', values.pad, 400);
  const recognizer = await loadRecognizer(values.model);
  const digits = await penValidationDigits(TRAIN, values.pendigits);
  const brushes = [
    { name: `page (${brushWidth(pad).toFixed(1)} px)`, px: brushWidth(pad) },
    ...FRACTIONS.map((f) => ({ name: `1/${f} (${(pad / f).toFixed(1)} px)`, px: pad / f })),
  ];
  console.log(
    `${digits.length} pen digits of the validation writers on a pad ${pad} px high; accuracy (flagged unsure)`,
  );
  console.log(['written', ...brushes.map((b) => b.name)].map((c) => c.padEnd(20)).join(''));
  for (const size of SIZES) {
    const cells: string[] = [`${Math.round(size * pad)} px`];
    for (const brush of brushes) {
      let right = 0;
      let flagged = 0;
      for (const d of digits) {
        const bitmap = await renderStrokes(d.strokes, { brush: brush.px, size: size * pad });
        try {
          const r = recognizer.recognize(bitmap);
          if (r.digit === d.label) right++;
          if (r.unsure) flagged++;
        } catch {
          // No ink left at this size: counted wrong.
        }
      }
      const pct = (n: number) => `${((100 * n) / digits.length).toFixed(2)}%`;
      cells.push(`${pct(right)} (${pct(flagged)})`);
    }
    console.log(cells.map((c) => c.padEnd(20)).join(''));
  }
}

main().catch((err: unknown) => {
  console.error(`eval:brush: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

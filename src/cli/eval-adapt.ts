/**
 * npm run eval:adapt -- [--model DIR] [--pendigits DIR] [--brush N]
 *
 * The adaptation protocol (src/evaluation/adaptation.ts) on the pen-digit validation writers
 * (never trained on): accuracy on the later copies with corrections and without, for the
 * shipped settings (src/core/adapt.ts, ADAPTATION) and a grid of others, and the writers
 * adaptation made worse.
 */
import { parseArgs } from 'node:util';
import { ADAPTATION, type AdaptationParams } from '../core/adapt.ts';
import type { GrayImage } from '../core/image.ts';
import { loadPendigits, PenDataError } from '../data/pendigits.ts';
import {
  chooseParams,
  inTurns,
  runProtocol,
  type AnsweredDrawing,
  type ProtocolOutcome,
} from '../evaluation/adaptation.ts';
import { preparePendigits } from '../evaluation/pendigits.ts';
import { BRUSHES } from '../node/render-strokes.ts';
import { DEFAULT_MODEL_DIR, loadRecognizer } from '../recognizer/node.ts';
import { isValidationWriter, PEN_DIGITS } from '../training/config.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: DEFAULT_MODEL_DIR },
    pendigits: { type: 'string' },
    brush: { type: 'string', multiple: true },
  },
});

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const fmt = (p: AdaptationParams) => `k=${p.k} sim>=${p.minSimilarity} strength=${p.strength}`;

function line(o: ProtocolOutcome): string {
  const losers = o.writers.filter((w) => w.correctAdapted < w.correctAlone).length;
  return `${fmt(o.params).padEnd(30)} ${pct(o.accuracyAdapted).padStart(7)} (alone ${pct(o.accuracyAlone)})  corrections ${String(o.corrections).padStart(3)}  writers worse ${losers}, worst -${o.worstLoss}`;
}

async function main(): Promise<void> {
  let digits;
  try {
    digits = await loadPendigits(values.pendigits);
  } catch (err) {
    if (err instanceof PenDataError) {
      console.error(`${err.message}\n(pass --pendigits DIR)`);
      process.exit(2);
    }
    throw err;
  }
  const validation = digits.filter((d) =>
    isValidationWriter(d.writer, PEN_DIGITS.validationWriters),
  );
  const recognizer = await loadRecognizer(values.model);
  const grid: AdaptationParams[] = [];
  for (const k of [1, 3, 5])
    for (const minSimilarity of [0.5, 0.6, 0.7, 0.8, 0.9])
      for (const strength of [3, 4, 5, 6, 7, 8]) grid.push({ k, minSimilarity, strength });

  const brushes = values.brush?.map(Number) ?? [...BRUSHES];
  console.log(
    `adaptation protocol: ${validation.length} pen digits of the ${PEN_DIGITS.validationWriters.length} validation writers, model ${values.model}`,
  );
  for (const brush of brushes) {
    const prepared = preparePendigits(validation, { brush });
    const kept = prepared.inputs.flatMap((input, i) =>
      input ? [{ input, writer: prepared.writers[i] ?? -1, label: prepared.labels[i] }] : [],
    );
    const ordered = inTurns(kept);
    const answered: AnsweredDrawing[] = [];
    for (let i = 0; i < ordered.length; i += 16) {
      const chunk = ordered.slice(i, i + 16);
      const results = recognizer.recognizeWithFeatures(
        chunk.map((d) => d.input as GrayImage),
        'vote',
      );
      chunk.forEach((d, j) => {
        const { recognition, features } = results[j];
        answered.push({
          writer: d.writer,
          label: d.label,
          copy: d.copy,
          digit: recognition.digit,
          probabilities: recognition.probabilities,
          features,
        });
      });
    }
    const shipped = runProtocol(answered, ADAPTATION);
    const outcomes = grid.map((params) => runProtocol(answered, params));
    console.log(`\nbrush ${brush} px: ${answered.length} drawings, ${shipped.count} later copies`);
    console.log(`  shipped   ${line(shipped)}`);
    for (const w of shipped.writers) {
      console.log(
        `    writer ${String(w.writer).padStart(2)}: alone ${w.correctAlone}/${w.count}, with corrections ${w.correctAdapted}/${w.count} (${w.corrections} posted)`,
      );
    }
    const best = chooseParams(outcomes);
    if (best) console.log(`  best      ${line(best)}`);
    console.log('  grid:');
    for (const o of outcomes) console.log(`    ${line(o)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

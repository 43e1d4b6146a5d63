/**
 * npm run eval:adapt -- [--model DIR] [--pendigits DIR] [--brush N] [--unipen]
 *
 * The adaptation protocol (src/evaluation/adaptation.ts) on the pen-digit validation writers
 * (never trained on): accuracy on the later copies with corrections and without, for the
 * shipped settings (src/core/adapt.ts, ADAPTATION) and a grid of others, the writers
 * adaptation made worse, and the drawings still read wrong. With --unipen, the same on the
 * UNIPEN validation writers (105 writers, also never trained on).
 */
import { parseArgs } from 'node:util';
import { ADAPTATION, type AdaptationParams } from '../core/adapt.ts';
import type { GrayImage } from '../core/image.ts';
import { PenDataError } from '../data/pendigits.ts';
import {
  chooseParams,
  inTurns,
  runProtocol,
  type AnsweredDrawing,
  type ProtocolOutcome,
} from '../evaluation/adaptation.ts';
import { preparePendigits, type PenDrawing } from '../evaluation/pendigits.ts';
import { penValidationDigits, unipenValidationDigits } from '../evaluation/validation-sets.ts';
import { BRUSHES } from '../node/render-strokes.ts';
import { DEFAULT_MODEL_DIR, loadRecognizer } from '../recognizer/node.ts';
import type { Recognizer } from '../recognizer/recognizer.ts';
import { PEN_DIGITS, TRAIN } from '../training/config.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: DEFAULT_MODEL_DIR },
    pendigits: { type: 'string' },
    brush: { type: 'string', multiple: true },
    unipen: { type: 'boolean', default: false },
  },
});

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const fmt = (p: AdaptationParams) =>
  `k=${p.k} sim>=${p.minSimilarity} strength=${p.strength} width=${p.width}`;

function line(o: ProtocolOutcome): string {
  const losers = o.writers.filter((w) => w.correctAdapted < w.correctAlone).length;
  return `${fmt(o.params).padEnd(40)} ${pct(o.accuracyAdapted).padStart(7)} (alone ${pct(o.accuracyAlone)})  corrections ${String(o.corrections).padStart(3)}  writers worse ${losers}, worst -${o.worstLoss}`;
}

async function main(): Promise<void> {
  let validation;
  try {
    validation = await penValidationDigits(TRAIN, values.pendigits);
  } catch (err) {
    if (err instanceof PenDataError) {
      console.error(`${err.message}\n(pass --pendigits DIR)`);
      process.exit(2);
    }
    throw err;
  }
  const recognizer = await loadRecognizer(values.model);
  const grid: AdaptationParams[] = [];
  for (const k of [1, 3, 5])
    for (const width of [0.1, 0.15, 0.2, 0.25, 0.3])
      for (const strength of [6, 8, 10, 12, 14, 16])
        grid.push({ k, minSimilarity: ADAPTATION.minSimilarity, strength, width });

  const brushes = values.brush?.map(Number) ?? [...BRUSHES];
  console.log(
    `adaptation protocol: ${validation.length} pen digits of the ${PEN_DIGITS.validationWriters.length} validation writers, model ${values.model}`,
  );
  for (const brush of brushes) {
    const answered = await answer(recognizer, validation, brush);
    const shipped = runProtocol(answered, ADAPTATION);
    console.log(`\nbrush ${brush} px: ${answered.length} drawings, ${shipped.count} later copies`);
    console.log(`  shipped   ${line(shipped)}`);
    for (const w of shipped.writers) {
      console.log(
        `    writer ${String(w.writer).padStart(2)}: alone ${w.correctAlone}/${w.count}, with corrections ${w.correctAdapted}/${w.count} (${w.corrections} posted)`,
      );
    }
    console.log(`  ${stillWrong(shipped)}`);
    console.log(`  ${ceiling(shipped)}`);
    const outcomes = grid.map((params) => runProtocol(answered, params));
    const best = chooseParams(outcomes);
    if (best) console.log(`  best      ${line(best)}`);
    console.log('  grid:');
    for (const o of outcomes) console.log(`    ${line(o)}`);
  }
  if (!values.unipen) return;
  const unipen = await unipenValidationDigits(TRAIN);
  const writers = new Set(unipen.map((d) => d.writer)).size;
  console.log(`\nUNIPEN: ${unipen.length} digits of ${writers} validation writers`);
  for (const brush of brushes) {
    const shipped = runProtocol(await answer(recognizer, unipen, brush), ADAPTATION);
    const worse = shipped.writers.filter((w) => w.correctAdapted < w.correctAlone).length;
    console.log(`  brush ${brush} px, ${shipped.count} later copies: ${line(shipped)}`);
    console.log(`    writers worse ${worse}; ${stillWrong(shipped)}`);
    console.log(`    ${ceiling(shipped)}`);
  }
}

/** The drawings in turn order, as the recognizer answers them (vote), with their features. */
async function answer(
  recognizer: Recognizer,
  drawings: PenDrawing[],
  brush: number,
): Promise<AnsweredDrawing[]> {
  const prepared = await preparePendigits(drawings, { brush });
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
  return answered;
}

/** The later copies still read wrong: how many, which confusions, and how many had no earlier correction of their digit (nothing to learn from yet). */
function stillWrong(o: ProtocolOutcome): string {
  const pairs = new Map<string, number>();
  for (const e of o.errors) {
    const key = `${e.label}->${e.digit}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
  }
  const listed = [...pairs].map(([pair, n]) => (n > 1 ? `${pair} x${n}` : pair)).join(', ');
  const unprepared = o.errors.filter((e) => e.ofLabel === 0).length;
  return `still wrong: ${o.errors.length} (${listed}); ${unprepared} of them with no earlier correction of their digit`;
}

/** How far learning from corrections of the same digit could go with this model. */
function ceiling(o: ProtocolOutcome): string {
  return (
    `ceiling ${pct((o.count - o.firstErrors) / o.count)}: ${o.firstErrors} later copies are ` +
    `their writer's first copy of the digit the model alone reads wrong`
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

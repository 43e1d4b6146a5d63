/**
 * npm run eval:numbers -- [--per N] [--seed N] [--ensemble vote|mean|off] [--source S]
 *                         [--reader line|segmenter|both] [--words N] [--singles N]
 *                         [--model DIR] [--line-model DIR] [--pendigits DIR] [--unipen DIR]
 *
 * Reads numbers composed from the digits of writers training never saw (the pen-digit and
 * UNIPEN validation writers), in-process, with the line model and with the segmenter side by
 * side, and prints for each composition exact-string, digit-count and per-digit accuracy and
 * how often a right number is flagged unsure. The compositions:
 * - `spaced`, `tight`: as the segmenter was tuned on (compose-numbers.ts, pens 5-12% of the
 *   height);
 * - `spaced/tight/overlapping @6, @16`: gaps of 0.1-0.45, -0.1-+0.12 and -0.25--0.1 heights,
 *   written with the page's pen (6 px) and a marker (16 px) on digits 60-160 px high.
 * Then the ceiling of reading digit by digit on the spaced numbers (each digit cut out by its
 * own box, read alone by the digit model), words of letters that look like no digit
 * (flagged: any unsure answer), and single digits through the number reader against the
 * digit model alone (/api/predict's path).
 */
import { parseArgs } from 'node:util';
import { Random } from '../core/random.ts';
import { ENSEMBLES, type Ensemble } from '../core/vote.ts';
import { loadUnipen, usableDigit } from '../data/unipen.ts';
import {
  composeNumber,
  composeWord,
  DigitBank,
  type ComposedNumber,
  type ComposeOptions,
  type WrittenDigit,
} from '../data/compose-numbers.ts';
import { evaluateNumbers, readWithPerfectCuts, type NumberTally } from '../evaluation/numbers.ts';
import { numberPad, renderStrokes } from '../node/render-strokes.ts';
import { loadRecognizer } from '../recognizer/node.ts';
import { DIGIT_COMBINATION, type Recognizer } from '../recognizer/recognizer.ts';
import type { DigitCombination } from '../core/line-reading.ts';
import { penValidationDigits, unipenValidationDigits } from '../evaluation/validation-sets.ts';
import { DIGIT_LIKE, isUnipenValidationWriter, TRAIN } from '../training/config.ts';
import { positiveInt } from './args.ts';

const USAGE = `usage: npm run eval:numbers -- [options]

  --per N           numbers of each composition and length 1-10 (default 20)
  --seed N          the composer's seed (default 1)
  --ensemble MODE   vote (default), mean or off
  --source S        pendigits, unipen or both (default both), each reported apart
  --reader R        line, segmenter or both (default both)
  --combine HOW     how a digit of a number is decided: product, line, digit or apart
  --words N         words of letters to read per pen (default 150)
  --singles N       single digits of each source to read (default 600)
  --model DIR       the digit model folder (default: models/mnist-cnn)
  --line-model DIR  the line model folder (default: models/line-cnn)
  --pendigits DIR   the pen-digits data folder (default ../shared/data/pendigits-train)
  --unipen DIR      the UNIPEN data folder (default ../shared/data/unipen)
  -h, --help        this text`;

const LENGTHS = Array.from({ length: 10 }, (_, i) => i + 1);
const PENS = [6, 16] as const;

/** The compositions, by name. */
const COMPOSITIONS: { name: string; options: Omit<ComposeOptions, 'length'> }[] = [
  { name: 'spaced', options: { kind: 'spaced' } },
  { name: 'tight', options: { kind: 'tight' } },
  ...PENS.flatMap((brush) => [
    {
      name: `spaced @${brush}`,
      options: { kind: 'spaced' as const, gap: [0.1, 0.45] as const, brush },
    },
    {
      name: `tight @${brush}`,
      options: { kind: 'tight' as const, gap: [-0.1, 0.12] as const, brush },
    },
    {
      name: `overlapping @${brush}`,
      options: { kind: 'tight' as const, gap: [-0.25, -0.1] as const, brush },
    },
  ]),
];

const pct = (part: number, whole: number) =>
  whole ? `${((100 * part) / whole).toFixed(1)}%` : '-';

const COLUMNS = ['numbers', 'exact', 'count', 'digits', 'flagged', 'touching'];

function row(label: string, t: NumberTally): string {
  return [
    label.padEnd(24),
    String(t.numbers).padStart(7),
    ...[t.exact, t.countRight].map((x) => pct(x, t.numbers).padStart(7)),
    pct(t.digitsRight, t.digits).padStart(7),
    ...[t.flagged, t.touching].map((x) => pct(x, t.numbers).padStart(8)),
  ].join('  ');
}

const HEADER = ['composition'.padEnd(24), ...COLUMNS.map((c, i) => c.padStart(i < 4 ? 7 : 8))].join(
  '  ',
);

type Reader = 'line' | 'segmenter';

async function readWords(
  recognizer: Recognizer,
  words: readonly ComposedNumber[],
  reader: Reader,
): Promise<{ flagged: number; notANumber: number }> {
  let flagged = 0;
  let notANumber = 0;
  for (const w of words) {
    const reading = recognizer.read(await renderStrokes(w.strokes, numberPad(w)), {
      segment: reader === 'segmenter',
    });
    if (reading.unsure) flagged++;
    if (reading.reason === 'not_a_number') notANumber++;
  }
  return { flagged, notANumber };
}

async function readSingles(
  recognizer: Recognizer,
  digits: readonly WrittenDigit[],
  reader: Reader,
): Promise<{ read: number; predicted: number; count: number }> {
  let read = 0;
  let predicted = 0;
  for (const d of digits) {
    // A single digit as the page shows it: the writer's box over the whole 280 px pad.
    const bitmap = await renderStrokes(d.strokes, { brush: 8 });
    if (recognizer.read(bitmap, { segment: reader === 'segmenter' }).text === String(d.label))
      read++;
    if (recognizer.recognize(bitmap).digit === d.label) predicted++;
  }
  return { read, predicted, count: digits.length };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      per: { type: 'string' },
      seed: { type: 'string' },
      ensemble: { type: 'string' },
      pendigits: { type: 'string' },
      unipen: { type: 'string' },
      model: { type: 'string' },
      'line-model': { type: 'string' },
      source: { type: 'string' },
      reader: { type: 'string' },
      combine: { type: 'string' },
      words: { type: 'string' },
      singles: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const per = positiveInt('per', values.per, 20);
  const seed = positiveInt('seed', values.seed, 1);
  const wordCount = positiveInt('words', values.words, 150);
  const singleCount = positiveInt('singles', values.singles, 600);
  const ensemble = (values.ensemble ?? 'vote') as Ensemble;
  if (!ENSEMBLES.includes(ensemble)) throw new Error(`--ensemble must be one of ${ENSEMBLES}`);
  const source = values.source ?? 'both';
  if (!['pendigits', 'unipen', 'both'].includes(source))
    throw new Error(`--source must be pendigits, unipen or both, got "${source}"`);
  const readerArg = values.reader ?? 'both';
  if (!['line', 'segmenter', 'both'].includes(readerArg))
    throw new Error(`--reader must be line, segmenter or both, got "${readerArg}"`);
  const combination = (values.combine ?? DIGIT_COMBINATION) as DigitCombination;
  if (!['product', 'line', 'digit', 'apart'].includes(combination))
    throw new Error(`--combine must be product, line, digit or apart, got "${combination}"`);
  const recognizer = await loadRecognizer(values.model, {
    lineDir: values['line-model'],
    combination,
  });
  const readers: Reader[] = readerArg === 'both' ? ['line', 'segmenter'] : [readerArg as Reader];
  if (readers.includes('line') && !recognizer.line)
    throw new Error('no line model: train one with npm run train:line, or pass --line-model DIR');

  // `singles` are placed in the pen box as a pad shows a digit; numbers take each digit's own box.
  const sources: { name: string; digits: WrittenDigit[]; singles: WrittenDigit[] }[] = [];
  if (source !== 'unipen') {
    const digits = await penValidationDigits(TRAIN, values.pendigits);
    sources.push({ name: 'pen digits, validation writers', digits, singles: digits });
  }
  if (source !== 'pendigits') {
    const samples = await loadUnipen('digits', values.unipen);
    const digits = samples.flatMap((s) => {
      const label = usableDigit(s);
      return label !== null && isUnipenValidationWriter(s.writer)
        ? [{ label, writer: s.writer, strokes: s.strokes }]
        : [];
    });
    const singles = await unipenValidationDigits(TRAIN, values.unipen);
    sources.push({ name: 'UNIPEN, validation writers', digits, singles });
  }
  const mistakes: string[] = [];
  const tty = process.stderr.isTTY;
  for (const { name, digits, singles: placed } of sources) {
    const bank = new DigitBank(digits);
    const rng = new Random(seed);
    const numbers: ComposedNumber[] = [];
    const names: string[] = [];
    for (const { name: composition, options } of COMPOSITIONS)
      for (const length of LENGTHS)
        for (let i = 0; i < per; i++) {
          numbers.push(composeNumber(bank, rng, { ...options, length }));
          names.push(composition);
        }
    console.log(
      `${name}: numbers by ${bank.writers.length} writers who wrote every digit (${digits.length} digits), ` +
        `${per} per composition and length 1-10, seed ${seed}, ensemble ${ensemble}, ` +
        `a digit of several decided by ${combination}.`,
    );
    for (const reader of readers) {
      const result = await evaluateNumbers(recognizer, numbers, {
        ensemble,
        names,
        segment: reader === 'segmenter',
        onProgress: (done, total) => {
          if (tty && (done % 20 === 0 || done === total))
            process.stderr.write(
              `\r\x1b[K${reader}: ${done}/${total}${done === total ? '\n' : ''}`,
            );
        },
      });
      console.log(`\n${reader} reader (${result.seconds.toFixed(1)} s)\n${HEADER}`);
      for (const { name: composition } of COMPOSITIONS)
        console.log(row(composition, result.byName.get(composition)!));
      for (const m of result.mistakes.slice(0, 8))
        mistakes.push(`${reader.padEnd(9)} ${m.kind.padEnd(6)} ${m.text} -> ${m.read}`);
    }
    // The ceiling of reading digit by digit, on the spaced numbers (one digit a box).
    for (const { name: composition } of COMPOSITIONS.filter((c) => c.options.kind === 'spaced')) {
      const spaced = numbers.filter((_, i) => names[i] === composition);
      const cuts = await readWithPerfectCuts(recognizer, spaced, ensemble);
      console.log(
        `${composition}: each digit cut out by its own box and read alone by the digit model ` +
          `(perfect segmentation): exact ${pct(cuts.exact, cuts.numbers)}, digits ${pct(cuts.digitsRight, cuts.digits)}`,
      );
    }
    const sample = new Random(seed + 1);
    const singles = Array.from(
      { length: Math.min(singleCount, placed.length) },
      () => placed[sample.int(placed.length)],
    );
    for (const reader of readers) {
      const s = await readSingles(recognizer, singles, reader);
      console.log(
        `single digits (${s.count}, brush 8 on the 280 px pad), ${reader} reader: read ${pct(s.read, s.count)}, ` +
          `the digit model alone (/api/predict) ${pct(s.predicted, s.count)}`,
      );
    }
    console.log('');
  }

  // Words of the UNIPEN validation writers' letters that look like no digit.
  const letters = (
    await Promise.all([loadUnipen('upper', values.unipen), loadUnipen('lower', values.unipen)])
  )
    .flat()
    .filter(
      (s) =>
        isUnipenValidationWriter(s.writer) && !DIGIT_LIKE.includes(s.label) && s.strokes.length > 0,
    );
  const byWriter = new Map<string, WrittenDigit[]>();
  for (const s of letters)
    (byWriter.get(s.writer) ?? byWriter.set(s.writer, []).get(s.writer)!).push({
      label: -1,
      writer: s.writer,
      strokes: s.strokes,
    });
  const writers = [...byWriter.values()].filter((w) => w.length >= 4);
  const rng = new Random(seed + 2);
  for (const brush of PENS) {
    const words = Array.from({ length: wordCount }, () =>
      composeWord(writers[rng.int(writers.length)], rng, { length: 2 + rng.int(5), brush }),
    );
    for (const reader of readers) {
      const w = await readWords(recognizer, words, reader);
      console.log(
        `words of 2-6 letters that look like no digit, pen ${brush} px (${words.length} by ${writers.length} UNIPEN validation writers), ` +
          `${reader} reader: flagged ${pct(w.flagged, words.length)}, not a number ${pct(w.notANumber, words.length)}`,
      );
    }
  }
  console.log(
    '\nexact: the whole string right; count: as many digits as written; digits: digits right ' +
      '(length less the edits from the reading to the truth); flagged: answered unsure; ' +
      "touching: numbers where some neighbours' ink touches.",
  );
  console.log('Some wrong readings (written -> read):');
  for (const m of mistakes) console.log(`  ${m}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`eval:numbers: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);

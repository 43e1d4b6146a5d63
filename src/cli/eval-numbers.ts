/**
 * npm run eval:numbers -- [--per N] [--seed N] [--ensemble vote|mean|off] [--source S]
 *                         [--model DIR] [--pendigits DIR] [--unipen DIR]
 *
 * Reads numbers composed from real writers' digits (src/data/compose-numbers.ts) with
 * the shipped model, in-process, and prints exact-string accuracy, digit-count accuracy and
 * per-digit accuracy by kind (spaced, tight) and by length (1-10), for each source of
 * writers. Only writers training never saw write the numbers: the pen-digit validation
 * writers (PEN_DIGITS.validationWriters) and the UNIPEN validation writers
 * (isUnipenValidationWriter) who wrote every digit 0-9.
 */
import { parseArgs } from 'node:util';
import { Random } from '../core/random.ts';
import { ENSEMBLES, type Ensemble } from '../core/vote.ts';
import { loadUnipen, usableDigit } from '../data/unipen.ts';
import {
  composeNumber,
  DigitBank,
  NUMBER_KINDS,
  type ComposedNumber,
  type WrittenDigit,
} from '../data/compose-numbers.ts';
import { evaluateNumbers, type NumberTally } from '../evaluation/numbers.ts';
import { loadRecognizer } from '../recognizer/node.ts';
import { penValidationDigits } from '../evaluation/validation-sets.ts';
import { isUnipenValidationWriter, TRAIN } from '../training/config.ts';
import { positiveInt } from './args.ts';

const USAGE = `usage: npm run eval:numbers -- [options]

  --per N           numbers of each kind and length (default 60: 1,200 numbers)
  --seed N          the composer's seed (default 1)
  --ensemble MODE   vote (default), mean or off
  --source S        pendigits, unipen or both (default both), each reported apart
  --model DIR       the model folder (default: models/mnist-cnn)
  --pendigits DIR   the pen-digits data folder (default ../shared/data/pendigits-train)
  --unipen DIR      the UNIPEN data folder (default ../shared/data/unipen)
  -h, --help        this text`;

const LENGTHS = Array.from({ length: 10 }, (_, i) => i + 1);

const pct = (part: number, whole: number) =>
  whole ? `${((100 * part) / whole).toFixed(1)}%` : '-';

function row(label: string, t: NumberTally): string {
  return [
    label.padEnd(8),
    String(t.numbers).padStart(7),
    pct(t.exact, t.numbers).padStart(7),
    pct(t.countRight, t.numbers).padStart(7),
    pct(t.digitsRight, t.digits).padStart(7),
    pct(t.touching, t.numbers).padStart(9),
  ].join('  ');
}

const HEADER = ['', 'numbers', 'exact', 'count', 'digits', 'touching']
  .map((h, i) => (i === 0 ? h.padEnd(8) : h.padStart(i === 5 ? 9 : 7)))
  .join('  ');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      per: { type: 'string' },
      seed: { type: 'string' },
      ensemble: { type: 'string' },
      pendigits: { type: 'string' },
      unipen: { type: 'string' },
      model: { type: 'string' },
      source: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const per = positiveInt('per', values.per, 60);
  const seed = positiveInt('seed', values.seed, 1);
  const ensemble = (values.ensemble ?? 'vote') as Ensemble;
  if (!ENSEMBLES.includes(ensemble)) throw new Error(`--ensemble must be one of ${ENSEMBLES}`);

  const source = values.source ?? 'both';
  if (!['pendigits', 'unipen', 'both'].includes(source))
    throw new Error(`--source must be pendigits, unipen or both, got "${source}"`);
  const recognizer = await loadRecognizer(values.model);
  const sources: { name: string; digits: WrittenDigit[] }[] = [];
  if (source !== 'unipen') {
    const digits = await penValidationDigits(TRAIN, values.pendigits);
    sources.push({ name: 'pen digits, validation writers', digits });
  }
  if (source !== 'pendigits') {
    const samples = await loadUnipen('digits', values.unipen);
    const digits = samples.flatMap((s) => {
      const label = usableDigit(s);
      return label !== null && isUnipenValidationWriter(s.writer)
        ? [{ label, writer: s.writer, strokes: s.strokes }]
        : [];
    });
    sources.push({ name: 'UNIPEN, validation writers', digits });
  }
  const mistakes: string[] = [];
  for (const { name, digits } of sources) {
    const bank = new DigitBank(digits);
    const rng = new Random(seed);
    const numbers: ComposedNumber[] = [];
    for (const kind of NUMBER_KINDS)
      for (const length of LENGTHS)
        for (let i = 0; i < per; i++) numbers.push(composeNumber(bank, rng, { kind, length }));
    const tty = process.stderr.isTTY;
    const result = await evaluateNumbers(recognizer, numbers, {
      ensemble,
      onProgress: (done, total) => {
        if (tty && (done % 20 === 0 || done === total))
          process.stderr.write(`\r\x1b[Kreading: ${done}/${total}${done === total ? '\n' : ''}`);
      },
    });
    console.log(
      `${name}: numbers by ${bank.writers.length} writers who wrote every digit (${digits.length} digits), ` +
        `${per} per kind and length, seed ${seed}, ensemble ${ensemble}; ` +
        `${numbers.length} numbers in ${result.seconds.toFixed(1)} s.`,
    );
    for (const kind of NUMBER_KINDS) {
      console.log(`${kind}\n${HEADER}`);
      for (const length of LENGTHS) {
        const tally = result.byKindAndLength.get(`${kind} ${length}`);
        if (tally) console.log(row(`length ${length}`.padEnd(9), tally));
      }
      console.log(`${row('all', result.byKind.get(kind)!)}\n`);
    }
    for (const m of result.mistakes) mistakes.push(`${m.kind.padEnd(6)} ${m.text} -> ${m.read}`);
  }
  console.log(
    'exact: the whole string right; count: as many digits as written; digits: digits right ' +
      '(length less the edits from the reading to the truth); touching: numbers where some ' +
      "neighbours' ink touches.",
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

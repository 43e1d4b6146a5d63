/**
 * npm run train:line -- [--paper] [--steps N] [--seed N] [--out DIR] [--workers N] [--resume]
 *                       [--pendigits DIR] [--unipen DIR] [--validation N] [--every N]
 *
 * Trains the line model of src/training/line-config.ts with CTC on numbers, words and marks
 * drawn from the training writers, reading held-out writers' numbers and saving a checkpoint
 * in <out>/checkpoint every --every steps. Ctrl-C stops after a checkpoint; --resume continues.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { describeLine } from '../model/line-architecture.ts';
import { LINE_TRAIN, PAPER_LINE_TRAIN, type LineTrainConfig } from '../training/line-config.ts';
import { trainLine, type LineValidation } from '../training/line-train.ts';
import { formatSeconds, positiveInt } from './args.ts';

const USAGE = `usage: npm run train:line -- [options]

  --paper          train the line model of paper (models/line-paper: scanned digits and
                   real checks too) instead of the drawings' (models/line-cnn)
  --steps N        optimisation steps (default ${LINE_TRAIN.steps}; ${PAPER_LINE_TRAIN.steps} with --paper)
  --seed N         seed of the weights and the drawn data (default ${LINE_TRAIN.seed})
  --out DIR        where the model and its checkpoint go (default runs/line-cnn, or
                   runs/line-paper with --paper)
  --workers N      training threads (default ${LINE_TRAIN.workers}, at most the cores)
  --every N        steps between checkpoints and held-out readings (default ${LINE_TRAIN.checkpointEvery})
  --validation N   held-out strips of each kind read at a checkpoint (default 300)
  --resume         continue from <out>/checkpoint
  --pendigits DIR  the pen-digits data folder (default ../shared/data/pendigits-train)
  --unipen DIR     the UNIPEN data folder (default ../shared/data/unipen)
  --checks DIR     real scanned fields with labels.tsv, two thirds trained on, a third held
                   out (default ../shared/data/orand-car-a-dev, when it is there)
  -h, --help       this text`;

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

function describeValidation(v: LineValidation): string {
  const exact = Object.entries(v.exact)
    .map(([name, x]) => `${name} ${percent(x)}`)
    .join(', ');
  return `step ${v.step}: loss ${v.loss.toFixed(4)}; held-out writers exact: ${exact}; words flagged ${percent(v.wordsFlagged)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      paper: { type: 'boolean', default: false },
      workers: { type: 'string' },
      every: { type: 'string' },
      validation: { type: 'string' },
      resume: { type: 'boolean', default: false },
      pendigits: { type: 'string' },
      unipen: { type: 'string' },
      checks: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const base = values.paper ? PAPER_LINE_TRAIN : LINE_TRAIN;
  const config: LineTrainConfig = {
    ...base,
    steps: positiveInt('steps', values.steps, base.steps),
    seed: positiveInt('seed', values.seed, base.seed),
    workers: positiveInt('workers', values.workers, Math.min(base.workers, availableParallelism())),
    checkpointEvery: positiveInt('every', values.every, base.checkpointEvery),
  };
  const out = values.out ?? (values.paper ? 'runs/line-paper' : 'runs/line-cnn');
  let stopRequested = false;
  process.on('SIGINT', () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    console.error('\nstopping after the current step; saving a checkpoint (Ctrl-C again to abort)');
  });
  const bar = new cliProgress.SingleBar(
    {
      format:
        'step [{bar}] {value}/{total} | loss {loss} | {speed} strips/s | lr {lr} | left {left}',
      noTTYOutput: true,
      notTTYSchedule: 30_000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const result = await trainLine(
    {
      config,
      out,
      resume: values.resume,
      pendigitsDir: values.pendigits,
      unipenDir: values.unipen,
      checksDir: values.checks,
      validationSize: positiveInt('validation', values.validation, 300),
    },
    {
      onStart: ({ params, from }) => {
        console.log(
          `${describeLine(config.architecture)}: ${params.toLocaleString('en-US')} parameters, ` +
            `${config.workers} replica(s), batch ${config.batchSize}, ${config.steps} steps` +
            (from ? `, resuming at step ${from + 1}` : ''),
        );
        bar.start(config.steps, from, { loss: '-', speed: '-', lr: '-', left: '?' });
      },
      onStep: (r) =>
        bar.update(r.step, {
          loss: r.loss.toFixed(3),
          speed: r.samplesPerSecond.toFixed(0),
          lr: r.learningRate.toExponential(2),
          left: formatSeconds(r.secondsLeft),
        }),
      onValidation: (v) => {
        bar.stop();
        console.log(describeValidation(v));
        if (v.step < config.steps)
          bar.start(config.steps, v.step, { loss: '-', speed: '-', lr: '-', left: '?' });
      },
      shouldStop: () => stopRequested,
    },
  );
  bar.stop();
  console.log(
    result.completed
      ? `line model saved to ${out} (${formatSeconds(result.progress.seconds)} of training)`
      : `stopped; checkpoint saved in ${out}/checkpoint. Continue with: npm run train:line -- --resume --out ${out}`,
  );
}

main().catch((err: unknown) => {
  console.error(`train:line: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

/**
 * npm run train -- [--epochs N] [--limit N] [--seed N] [--out DIR] [--workers N] [--resume]
 *                   [--pendigits DIR | --no-pendigits] [--unipen DIR | --no-unipen]
 *                   [--corrections FILE.csv]
 *
 * Trains the CNN of src/training/config.ts on MNIST with augmentation, checkpointing every
 * epoch into <out>/checkpoint. Ctrl-C stops after saving a checkpoint; --resume continues.
 */
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import cliProgress from 'cli-progress';
import { describe } from '../model/architecture.ts';
import { TRAIN, type TrainConfig } from '../training/config.ts';
import { train } from '../training/train.ts';
import { formatSeconds, positiveInt } from './args.ts';

const USAGE = `usage: npm run train -- [--epochs N] [--limit N] [--seed N] [--out DIR] [--workers N] [--resume]
       [--pendigits DIR | --no-pendigits] [--unipen DIR | --no-unipen] [--mnist-dir DIR]
       [--corrections FILE.csv]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string' },
      limit: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string', default: 'runs/mnist-cnn' },
      workers: { type: 'string' },
      resume: { type: 'boolean', default: false },
      'mnist-dir': { type: 'string' },
      pendigits: { type: 'string' },
      'no-pendigits': { type: 'boolean', default: false },
      unipen: { type: 'string' },
      'no-unipen': { type: 'boolean', default: false },
      corrections: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const config: TrainConfig = {
    ...TRAIN,
    epochs: positiveInt('epochs', values.epochs, TRAIN.epochs),
    seed: positiveInt('seed', values.seed, TRAIN.seed),
    workers: positiveInt(
      'workers',
      values.workers,
      Math.min(TRAIN.workers, availableParallelism()),
    ),
    limit: values.limit === undefined ? null : positiveInt('limit', values.limit, 0),
    penDigits: values['no-pendigits'] ? null : TRAIN.penDigits,
    unipen: values['no-unipen'] ? null : TRAIN.unipen,
  };
  const out = values.out!;

  let stopRequested = false;
  process.on('SIGINT', () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    console.error(
      '\nstopping after the current batch; saving a checkpoint (Ctrl-C again to abort)',
    );
  });

  const percent = (x: number) => `${(x * 100).toFixed(2)}%`;
  const bar = new cliProgress.SingleBar(
    {
      format:
        'epoch {epoch}/{epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {speed} samples/s | lr {lr} | left {left}',
      noTTYOutput: true,
      notTTYSchedule: 10_000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let epochs = config.epochs;
  /** The bar's fields before an epoch's first batch reports. */
  const waiting = (epoch: number) => ({
    epoch,
    epochs,
    loss: '-',
    acc: '-',
    speed: '-',
    lr: '-',
    left: '?',
  });
  const result = await train(
    {
      config,
      out,
      resume: values.resume,
      mnistDir: values['mnist-dir'],
      pendigitsDir: values.pendigits,
      unipenDir: values.unipen,
      correctionsFile: values.corrections,
    },
    {
      onStart: ({ params, batches, from, epochs: total, sources }) => {
        epochs = total;
        console.log(
          `${describe(config.architecture)}: ${params.toLocaleString('en-US')} parameters, ` +
            `${config.workers} replica(s), batch ${config.batchSize}, ${total} epochs, ` +
            'an epoch: ' +
            Object.entries(sources)
              .map(([name, n]) => `${n.toLocaleString('en-US')} ${name}`)
              .join(' + ') +
            (from.epoch || from.batch
              ? `, resuming at epoch ${from.epoch + 1} batch ${from.batch + 1}`
              : ''),
        );
        bar.start(batches, from.batch, waiting(from.epoch + 1));
      },
      onBatch: (r) => {
        if (r.batch === 1) bar.setTotal(r.batches);
        bar.update(r.batch, {
          epoch: r.epoch + 1,
          epochs,
          loss: r.loss.toFixed(4),
          acc: (r.accuracy * 100).toFixed(2) + '%',
          speed: r.samplesPerSecond.toFixed(0),
          lr: r.learningRate.toExponential(2),
          left: formatSeconds(r.secondsLeft),
        });
      },
      onEpoch: (e) => {
        bar.stop();
        console.log(
          `epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, train ${percent(e.trainAccuracy)}, ` +
            `test ${percent(e.testAccuracy)}` +
            (e.trainedTestAccuracy === undefined
              ? ''
              : ` (averaged weights; trained weights ${percent(e.trainedTestAccuracy)})`) +
            `, ${formatSeconds(e.seconds)}`,
        );
        if (e.epoch < epochs) bar.start(1, 0, waiting(e.epoch + 1));
      },
      shouldStop: () => stopRequested,
    },
  );
  bar.stop();
  if (result.completed) {
    console.log(
      `model saved to ${out} (${formatSeconds(result.trainSeconds)} of training); run \`npm run eval -- --model ${out}\``,
    );
  } else {
    console.log(
      `stopped; checkpoint saved in ${out}/checkpoint. Continue with: npm run train -- --resume --out ${out}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(`train: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

/**
 * The training loop: seeded shuffles and augmentation, data-parallel steps, an evaluation on
 * the MNIST test set and a checkpoint after every epoch, and the final model in `out`.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { MODEL_PIXELS, unitOfByte } from '../core/image.ts';
import { Random } from '../core/random.ts';
import { loadMnist, type DigitSet } from '../data/mnist.ts';
import { saveArtifacts } from '../model/model-io.ts';
import { makeBatch, type Batch } from './batches.ts';
import { learningRateAt, type TrainConfig } from './config.ts';
import { loadCheckpoint, saveCheckpoint, type EpochRecord, type Progress } from './checkpoint.ts';
import { drawEpoch, type SetSampling } from './rendered-sets.ts';
import { trainingData, type DataDirs } from './training-data.ts';
import { Replicas } from './replicas.ts';

export interface TrainOptions extends DataDirs {
  readonly config: TrainConfig;
  readonly out: string;
  readonly resume: boolean;
  readonly mnistDir?: string;
  /** Evaluate on at most this many test digits after each epoch (default: all 10,000). */
  readonly testLimit?: number;
}

export interface BatchReport {
  readonly epoch: number;
  readonly batch: number;
  readonly batches: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly samplesPerSecond: number;
  readonly secondsLeft: number;
  readonly learningRate: number;
}

export interface TrainHooks {
  onStart?(info: {
    params: number;
    epochs: number;
    batches: number;
    from: Progress;
    /** Examples an epoch draws from each source. */
    sources: Record<string, number>;
  }): void;
  onBatch?(report: BatchReport): void;
  onEpoch?(record: EpochRecord): void;
  /** Polled after every batch; true stops training after a checkpoint. */
  shouldStop?(): boolean;
}

export interface TrainResult {
  readonly completed: boolean;
  readonly history: EpochRecord[];
  readonly params: number;
  readonly trainSeconds: number;
}

/** Per-batch seed: the same batch gets the same augmentation after a resume. */
function batchSeed(seed: number, epoch: number, batch: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 31 + epoch) + Math.imul(batch + 1, 0x85ebca6b)) >>> 0;
}

/**
 * The epoch's training examples in shuffled order: MNIST digits 0..mnistCount-1, then each
 * rendered set's draw for the epoch (see SetSampling), the sets one after the other.
 */
export function epochOrder(
  mnistCount: number,
  seed: number,
  epoch: number,
  sets: readonly SetSampling[] = [],
): Uint32Array {
  const rng = new Random(batchSeed(seed, epoch, -1));
  const order = Array.from({ length: mnistCount }, (_, i) => i);
  let offset = mnistCount;
  for (const set of sets) {
    order.push(...drawEpoch(set, offset, rng));
    offset += set.items * set.variants;
  }
  return Uint32Array.from(rng.shuffle(order));
}

async function assertWritable(out: string): Promise<void> {
  try {
    await mkdir(out, { recursive: true });
    await access(out, constants.W_OK);
  } catch (err) {
    throw new Error(`cannot write to the output folder ${out}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export async function evaluate(
  replicas: Replicas,
  set: DigitSet,
  limit = set.count,
  averaged = false,
): Promise<number> {
  const count = Math.min(limit, set.count);
  const images = new Float32Array(count * MODEL_PIXELS);
  for (let i = 0; i < images.length; i++) images[i] = unitOfByte(set.images[i]);
  const probs = await replicas.predict(images, count, averaged);
  const classes = probs.length / count;
  let correct = 0;
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++)
      if (probs[i * classes + k] > probs[i * classes + best]) best = k;
    if (best === set.labels[i]) correct++;
  }
  return correct / count;
}

export async function train(options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  await assertWritable(options.out);
  const resumed = options.resume ? await loadCheckpoint(options.out) : null;
  // A resumed run keeps the settings it started with, except a longer --epochs.
  const config: TrainConfig = resumed
    ? { ...resumed.config, epochs: options.config.epochs }
    : options.config;
  // One after the other, so a missing or broken data set always names the same file first.
  const trainSet = await loadMnist('train', options.mnistDir);
  const testSet = await loadMnist('test', options.mnistDir);
  const data = await trainingData(config, trainSet, options);
  const { examples, mnistCount } = data;
  const count = data.perEpoch;
  const batches = Math.ceil(count / config.batchSize);
  const replicas = await Replicas.start(
    config.workers,
    config.architecture,
    config.seed,
    resumed?.state ?? null,
    config.averageDecay,
  );
  let progress: Progress = resumed?.progress ?? {
    epoch: 0,
    batch: 0,
    history: [],
    trainSeconds: 0,
  };
  hooks.onStart?.({
    params: replicas.params,
    epochs: config.epochs,
    batches,
    from: progress,
    sources: data.sources,
  });

  const batchAt = (epoch: number, order: Uint32Array, b: number): Batch =>
    makeBatch(
      examples,
      order.subarray(b * config.batchSize, Math.min((b + 1) * config.batchSize, count)),
      new Random(batchSeed(config.seed, epoch, b)),
      config.augment,
    );

  try {
    const totalBatches = config.epochs * batches;
    let stopped = false;
    let samplesDone = 0;
    let secondsDone = 0;
    while (progress.epoch < config.epochs && !stopped) {
      const epoch = progress.epoch;
      const order = epochOrder(mnistCount, config.seed, epoch, data.sets);
      const epochStart = performance.now();
      let loss = 0;
      let correct = 0;
      let seen = 0;
      let next = batchAt(epoch, order, progress.batch);
      for (let b = progress.batch; b < batches; b++) {
        const t0 = performance.now();
        const learningRate = learningRateAt(config, epoch + b / batches);
        const pending = replicas.step(next, learningRate, epoch * batches + b);
        // Augment the next batch on this thread while the replicas compute.
        if (b + 1 < batches) next = batchAt(epoch, order, b + 1);
        const result = await pending;
        const seconds = (performance.now() - t0) / 1000;
        loss += result.loss * result.count;
        correct += result.correct;
        seen += result.count;
        samplesDone += result.count;
        secondsDone += seconds;
        const speed = samplesDone / secondsDone;
        const batchesLeft = totalBatches - (epoch * batches + b + 1);
        hooks.onBatch?.({
          epoch,
          batch: b + 1,
          batches,
          loss: loss / seen,
          accuracy: correct / seen,
          samplesPerSecond: speed,
          secondsLeft: (batchesLeft * config.batchSize) / speed,
          learningRate,
        });
        if (b + 1 < batches && hooks.shouldStop?.()) {
          const trainSeconds = progress.trainSeconds + (performance.now() - epochStart) / 1000;
          progress = { ...progress, batch: b + 1, trainSeconds };
          await saveCheckpoint(options.out, config, progress, await replicas.state());
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      const seconds = (performance.now() - epochStart) / 1000;
      const averaging = config.averageDecay !== null;
      const testAccuracy = await evaluate(replicas, testSet, options.testLimit, averaging);
      const record: EpochRecord = {
        epoch: epoch + 1,
        loss: seen ? loss / seen : NaN,
        trainAccuracy: seen ? correct / seen : NaN,
        testAccuracy,
        ...(averaging && {
          trainedTestAccuracy: await evaluate(replicas, testSet, options.testLimit),
        }),
        seconds,
      };
      progress = {
        epoch: epoch + 1,
        batch: 0,
        history: [...progress.history, record],
        trainSeconds: progress.trainSeconds + seconds,
      };
      await saveCheckpoint(options.out, config, progress, await replicas.state());
      hooks.onEpoch?.(record);
      if (hooks.shouldStop?.()) stopped = true;
    }
    const completed = progress.epoch >= config.epochs;
    if (completed) {
      const state = await replicas.state();
      await saveArtifacts(options.out, {
        modelTopology: state.modelTopology,
        weightSpecs: state.weightSpecs as never,
        weightData: state.averagedWeightData ?? state.weightData,
      });
    }
    return {
      completed,
      history: progress.history,
      params: replicas.params,
      trainSeconds: progress.trainSeconds,
    };
  } finally {
    await replicas.close();
  }
}

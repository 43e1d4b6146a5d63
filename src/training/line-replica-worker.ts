/**
 * One data-parallel replica of the line model. It draws its own share of each batch (the
 * drawing costs a tenth of the step, and so runs on both cores too), computes the CTC
 * gradient, and applies the averaged gradients it is sent (replica-weights.ts).
 */
import { parentPort } from 'node:worker_threads';
import { LINE_HEIGHT, LINE_STRIDE, padStrips } from '../core/line-image.ts';
import { Random } from '../core/random.ts';
import { tf, useBackend } from '../model/backend.ts';
import { ctcLossOp } from '../model/ctc-loss.ts';
import { buildLineModel } from '../model/line-architecture.ts';
import type { FromLineReplica, ToLineReplica } from './protocol.ts';
import { answerInOrder, ReplicaWeights } from './replica-weights.ts';
import {
  lineSample,
  type LineDataConfig,
  type LineSample,
  type LineSources,
} from './line-samples.ts';
import { loadLineSources } from './line-sources.ts';

if (!parentPort) throw new Error('line-replica-worker must run in a worker thread');
const port = parentPort;

let weights: ReplicaWeights;
let sources: LineSources;
let data: LineDataConfig;

function send(message: FromLineReplica, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function init(msg: Extract<ToLineReplica, { type: 'init' }>): Promise<void> {
  await useBackend('wasm');
  sources = await loadLineSources('training', msg.dirs);
  data = msg.data;
  weights = await ReplicaWeights.start(
    () => buildLineModel(msg.architecture, msg.seed),
    msg.state,
    msg.averageDecay,
  );
  send({ type: 'ready', params: weights.model.countParams() });
}

/**
 * Strips drawn ahead: each batch takes strips of like widths from them, so little of a batch
 * is padding (numbers of 1 and 12 digits in one batch would be mostly padding).
 */
const pool: LineSample[] = [];
const POOL_BATCHES = 8;

function drawBatch(count: number, rng: Random): LineSample[] {
  while (pool.length < POOL_BATCHES * count) pool.push(lineSample(sources, rng, data));
  pool.sort((a, b) => a.image.width - b.image.width);
  const start = rng.int(pool.length - count + 1);
  return pool.splice(start, count);
}

function gradients(msg: Extract<ToLineReplica, { type: 'gradients' }>): void {
  const samples = drawBatch(msg.count, new Random(msg.seed));
  const { images, width } = padStrips(samples.map((s) => s.image));
  const steps = samples.map((s) => s.image.width / LINE_STRIDE);
  const labels = samples.map((s) => s.tokens);
  const { gradients, loss } = weights.gradients(() => {
    const x = tf.tensor4d(images, [samples.length, LINE_HEIGHT, width, 1]);
    return ctcLossOp(weights.model.apply(x, { training: true }) as tf.Tensor4D, labels, steps);
  });
  send(
    {
      type: 'gradients',
      gradients,
      loss,
      count: msg.count,
      columns: samples.length * width,
    },
    [gradients.buffer as ArrayBuffer],
  );
}

async function logits(msg: Extract<ToLineReplica, { type: 'logits' }>): Promise<void> {
  const run = () => {
    const out = tf.tidy(
      () =>
        weights.model.predict(
          tf.tensor4d(msg.images, [msg.count, LINE_HEIGHT, msg.width, 1]),
        ) as tf.Tensor,
    );
    const values = (out.dataSync() as Float32Array).slice();
    out.dispose();
    return values;
  };
  const values = msg.averaged ? await weights.withAverages(run) : run();
  send({ type: 'logits', logits: values }, [values.buffer]);
}

answerInOrder<ToLineReplica>(
  port,
  () => weights,
  async (msg) => {
    if (msg.type === 'init') await init(msg);
    else if (msg.type === 'gradients') gradients(msg);
    else if (msg.type === 'logits') await logits(msg);
  },
);

/**
 * One data-parallel replica of the digit model: its own wasm backend and copy of the model.
 * It computes gradients on its share of each batch and applies the averaged gradients it is
 * sent (replica-weights.ts), so all replicas keep identical weights.
 */
import { parentPort } from 'node:worker_threads';
import { MODEL_SIZE } from '../core/image.ts';
import { tf, useBackend } from '../model/backend.ts';
import { buildModel } from '../model/architecture.ts';
import type { FromReplica, ToReplica } from './protocol.ts';
import { answerInOrder, ReplicaWeights } from './replica-weights.ts';

if (!parentPort) throw new Error('replica-worker must run in a worker thread');
const port = parentPort;

let weights: ReplicaWeights;

function send(message: FromReplica, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function init(msg: Extract<ToReplica, { type: 'init' }>): Promise<void> {
  await useBackend('wasm');
  weights = await ReplicaWeights.start(
    () => buildModel(msg.architecture, msg.seed),
    msg.state,
    msg.averageDecay,
  );
  send({ type: 'ready', params: weights.model.countParams() });
}

function inputs(images: Float32Array, count: number): tf.Tensor4D {
  return tf.tensor4d(images, [count, MODEL_SIZE, MODEL_SIZE, 1]);
}

function gradients(msg: Extract<ToReplica, { type: 'gradients' }>): void {
  const { model } = weights;
  let correct = 0;
  const { gradients, loss } = weights.gradients(() => {
    const x = inputs(msg.images, msg.count);
    const y = tf.oneHot(tf.tensor1d(msg.labels, 'int32'), model.outputs[0].shape[1] as number);
    const p = model.apply(x, { training: true }) as tf.Tensor2D;
    correct = tf.equal(p.argMax(1), y.argMax(1)).sum().dataSync()[0];
    return tf.metrics.categoricalCrossentropy(y, p).mean() as tf.Scalar;
  });
  send({ type: 'gradients', gradients, loss, correct, count: msg.count }, [
    gradients.buffer as ArrayBuffer,
  ]);
}

async function predict(msg: Extract<ToReplica, { type: 'predict' }>): Promise<void> {
  const run = () => {
    const probs = tf.tidy(() => weights.model.predict(inputs(msg.images, msg.count)) as tf.Tensor);
    const probabilities = (probs.dataSync() as Float32Array).slice();
    probs.dispose();
    return probabilities;
  };
  const probabilities = msg.averaged ? await weights.withAverages(run) : run();
  send({ type: 'predict', probabilities }, [probabilities.buffer]);
}

answerInOrder<ToReplica>(
  port,
  () => weights,
  async (msg) => {
    if (msg.type === 'init') await init(msg);
    else if (msg.type === 'gradients') gradients(msg);
    else if (msg.type === 'predict') await predict(msg);
  },
);

/**
 * One data-parallel replica: its own wasm backend and copy of the model. It computes
 * gradients on its share of each batch and applies the averaged gradients it is sent, so
 * all replicas keep identical weights.
 */
import { parentPort } from 'node:worker_threads';
import { MODEL_SIZE } from '../core/image.ts';
import { tf, useBackend } from '../model/backend.ts';
import { buildModel } from '../model/architecture.ts';
import { modelArtifacts } from '../model/model-io.ts';
import type { FromReplica, ReplicaState, SerializedTensor, ToReplica } from './protocol.ts';

if (!parentPort) throw new Error('replica-worker must run in a worker thread');
const port = parentPort;

let model: tf.LayersModel;
let optimizer: tf.AdamOptimizer;
let variables: tf.Variable[];
/** Exponential moving average of `variables` (Polyak averaging), when the config asks for it. */
let averages: tf.Variable[] | null = null;
let averageDecay = 0;

function send(message: FromReplica, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function setLearningRate(opt: tf.AdamOptimizer, lr: number): void {
  // tfjs reads the field on every step but declares it protected.
  (opt as unknown as { learningRate: number }).learningRate = lr;
}

function loadModel(state: ReplicaState, weightData: ArrayBuffer): Promise<tf.LayersModel> {
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: state.modelTopology,
      weightSpecs: state.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData,
    }),
  );
}

const trainableVariables = (m: tf.LayersModel): tf.Variable[] =>
  m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);

async function init(msg: Extract<ToReplica, { type: 'init' }>): Promise<void> {
  await useBackend('wasm');
  model = msg.state
    ? await loadModel(msg.state, msg.state.weightData)
    : buildModel(msg.architecture, msg.seed);
  optimizer = tf.train.adam(1e-3);
  variables = trainableVariables(model);
  if (msg.averageDecay !== null) {
    averageDecay = msg.averageDecay;
    const saved = msg.state?.averagedWeightData;
    // A variable made from another shares its data until either is assigned.
    if (msg.state && saved) {
      const averagedModel = await loadModel(msg.state, saved);
      averages = trainableVariables(averagedModel).map((v) => tf.variable(v, false));
      averagedModel.dispose();
    } else {
      averages = variables.map((v) => tf.variable(v, false));
    }
  }
  if (msg.state && msg.state.optimizer.length > 0) {
    await optimizer.setWeights(
      msg.state.optimizer.map((t) => ({ name: t.name, tensor: tf.tensor(t.data, t.shape) })),
    );
  }
  send({ type: 'ready', params: model.countParams() });
}

function inputs(images: Float32Array, count: number): tf.Tensor4D {
  return tf.tensor4d(images, [count, MODEL_SIZE, MODEL_SIZE, 1]);
}

function gradients(msg: Extract<ToReplica, { type: 'gradients' }>): void {
  const result = tf.tidy(() => {
    const x = inputs(msg.images, msg.count);
    const y = tf.oneHot(tf.tensor1d(msg.labels, 'int32'), model.outputs[0].shape[1] as number);
    let correct: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor2D;
      correct = tf.keep(tf.equal(p.argMax(1), y.argMax(1)).sum());
      return tf.metrics.categoricalCrossentropy(y, p).mean() as tf.Scalar;
    }, variables);
    const flat = tf.concat(variables.map((v) => grads[v.name].reshape([-1])));
    return { flat, value, correct: correct! };
  });
  const flat = result.flat.dataSync() as Float32Array;
  const loss = result.value.dataSync()[0];
  const correct = result.correct.dataSync()[0];
  tf.dispose([result.flat, result.value, result.correct]);
  const gradientsCopy = flat.slice();
  send({ type: 'gradients', gradients: gradientsCopy, loss, correct, count: msg.count }, [
    gradientsCopy.buffer,
  ]);
}

function apply(msg: Extract<ToReplica, { type: 'apply' }>): void {
  setLearningRate(optimizer, msg.learningRate);
  tf.tidy(() => {
    let offset = 0;
    const named = variables.map((v) => {
      const tensor = tf.tensor(msg.gradients.subarray(offset, offset + v.size), v.shape);
      offset += v.size;
      return { name: v.name, tensor };
    });
    optimizer.applyGradients(named);
    // As TensorFlow's ExponentialMovingAverage with num_updates: early steps, when the
    // weights move fastest, are averaged over fewer steps.
    const decay = Math.min(averageDecay, (1 + msg.step) / (10 + msg.step));
    averages?.forEach((a, i) => a.assign(a.mul(decay).add(variables[i].mul(1 - decay))));
  });
}

/** Runs `fn` with the averaged weights in the model, then puts the trained ones back. */
async function withAverages<T>(fn: () => T | Promise<T>): Promise<T> {
  if (!averages) throw new Error('this replica keeps no weight averages');
  const trained = variables.map((v) => v.clone());
  variables.forEach((v, i) => v.assign(averages![i]));
  try {
    return await fn();
  } finally {
    variables.forEach((v, i) => v.assign(trained[i]));
    tf.dispose(trained);
  }
}

async function predict(msg: Extract<ToReplica, { type: 'predict' }>): Promise<void> {
  const run = () => {
    const probs = tf.tidy(() => model.predict(inputs(msg.images, msg.count)) as tf.Tensor);
    const probabilities = (probs.dataSync() as Float32Array).slice();
    probs.dispose();
    return probabilities;
  };
  const probabilities = msg.averaged ? await withAverages(run) : run();
  send({ type: 'predict', probabilities }, [probabilities.buffer]);
}

async function state(): Promise<void> {
  const artifacts = await modelArtifacts(model);
  const averaged = averages ? await withAverages(() => modelArtifacts(model)) : null;
  const named = await optimizer.getWeights();
  const serialized: SerializedTensor[] = named.map(({ name, tensor }) => ({
    name,
    shape: tensor.shape,
    data: Float32Array.from(tensor.dataSync() as Float32Array),
  }));
  send({
    type: 'state',
    state: {
      modelTopology: artifacts.modelTopology as object,
      weightSpecs: artifacts.weightSpecs ?? [],
      weightData: artifacts.weightData as ArrayBuffer,
      optimizer: serialized,
      averagedWeightData: averaged ? (averaged.weightData as ArrayBuffer) : null,
    } satisfies ReplicaState,
  });
}

// Messages are handled strictly in order: an `apply` always lands before the next batch.
let queue = Promise.resolve();
port.on('message', (msg: ToReplica) => {
  queue = queue.then(async () => {
    try {
      if (msg.type === 'init') await init(msg);
      else if (msg.type === 'gradients') gradients(msg);
      else if (msg.type === 'apply') apply(msg);
      else if (msg.type === 'predict') await predict(msg);
      else await state();
    } catch (err) {
      send({
        type: 'error',
        message: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
  });
});

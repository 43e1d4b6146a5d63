/**
 * What a training replica keeps of its model, whichever model it trains: the weights, Adam's
 * state, and the weights' moving average; the averaged gradients it is sent are applied here,
 * so every replica keeps identical weights. Used by the digit model's and the line model's
 * replica threads.
 */
import { tf } from '../model/backend.ts';
import { modelArtifacts } from '../model/model-io.ts';
import type { MessagePort } from 'node:worker_threads';
import type { ApplyRequest, ReplicaState, SerializedTensor } from './protocol.ts';

const isApply = (msg: { type: string }): msg is ApplyRequest => msg.type === 'apply';

function setLearningRate(opt: tf.AdamOptimizer, lr: number): void {
  // tfjs reads the field on every step but declares it protected.
  (opt as unknown as { learningRate: number }).learningRate = lr;
}

function loadFromState(state: ReplicaState, weightData: ArrayBuffer): Promise<tf.LayersModel> {
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

export class ReplicaWeights {
  readonly variables: tf.Variable[];

  private constructor(
    readonly model: tf.LayersModel,
    private readonly optimizer: tf.AdamOptimizer,
    /** Exponential moving average of `variables` (Polyak averaging), when asked for. */
    private readonly averages: tf.Variable[] | null,
    private readonly averageDecay: number,
  ) {
    this.variables = trainableVariables(model);
  }

  /** A fresh model from `build`, or the one in `state`, with its optimizer and averages. */
  static async start(
    build: () => tf.LayersModel,
    state: ReplicaState | null,
    averageDecay: number | null,
  ): Promise<ReplicaWeights> {
    const model = state ? await loadFromState(state, state.weightData) : build();
    const optimizer = tf.train.adam(1e-3);
    let averages: tf.Variable[] | null = null;
    if (averageDecay !== null) {
      const saved = state?.averagedWeightData;
      // A variable made from another shares its data until either is assigned.
      if (state && saved) {
        const averagedModel = await loadFromState(state, saved);
        averages = trainableVariables(averagedModel).map((v) => tf.variable(v, false));
        averagedModel.dispose();
      } else {
        averages = trainableVariables(model).map((v) => tf.variable(v, false));
      }
    }
    if (state && state.optimizer.length > 0) {
      await optimizer.setWeights(
        state.optimizer.map((t) => ({ name: t.name, tensor: tf.tensor(t.data, t.shape) })),
      );
    }
    return new ReplicaWeights(model, optimizer, averages, averageDecay ?? 0);
  }

  /** The gradients of `loss` with respect to every trainable weight, flattened into one array. */
  gradients(loss: () => tf.Scalar): { gradients: Float32Array; loss: number } {
    const result = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, this.variables);
      return { value, flat: tf.concat(this.variables.map((v) => grads[v.name].reshape([-1]))) };
    });
    const gradients = (result.flat.dataSync() as Float32Array).slice();
    const value = result.value.dataSync()[0];
    tf.dispose([result.flat, result.value]);
    return { gradients, loss: value };
  }

  /** One Adam step with the (averaged) flat gradients, then the moving average. */
  apply(gradients: Float32Array, learningRate: number, step: number): void {
    setLearningRate(this.optimizer, learningRate);
    tf.tidy(() => {
      let offset = 0;
      const named = this.variables.map((v) => {
        const tensor = tf.tensor(gradients.subarray(offset, offset + v.size), v.shape);
        offset += v.size;
        return { name: v.name, tensor };
      });
      this.optimizer.applyGradients(named);
      // As TensorFlow's ExponentialMovingAverage with num_updates: early steps, when the
      // weights move fastest, are averaged over fewer steps.
      const decay = Math.min(this.averageDecay, (1 + step) / (10 + step));
      this.averages?.forEach((a, i) =>
        a.assign(a.mul(decay).add(this.variables[i].mul(1 - decay))),
      );
    });
  }

  /** Runs `fn` with the averaged weights in the model, then puts the trained ones back. */
  async withAverages<T>(fn: () => T | Promise<T>): Promise<T> {
    const averages = this.averages;
    if (!averages) throw new Error('this replica keeps no weight averages');
    const trained = this.variables.map((v) => v.clone());
    this.variables.forEach((v, i) => v.assign(averages[i]));
    try {
      return await fn();
    } finally {
      this.variables.forEach((v, i) => v.assign(trained[i]));
      tf.dispose(trained);
    }
  }

  /** Weights, averaged weights and optimizer state: everything to continue exactly. */
  async state(): Promise<ReplicaState> {
    const artifacts = await modelArtifacts(this.model);
    const averaged = this.averages
      ? await this.withAverages(() => modelArtifacts(this.model))
      : null;
    const named = await this.optimizer.getWeights();
    const serialized: SerializedTensor[] = named.map(({ name, tensor }) => ({
      name,
      shape: tensor.shape,
      data: Float32Array.from(tensor.dataSync() as Float32Array),
    }));
    return {
      modelTopology: artifacts.modelTopology as object,
      weightSpecs: artifacts.weightSpecs ?? [],
      weightData: artifacts.weightData as ArrayBuffer,
      optimizer: serialized,
      averagedWeightData: averaged ? (averaged.weightData as ArrayBuffer) : null,
    };
  }
}

/**
 * A replica thread's message loop: each message handled strictly in order (an `apply` always
 * lands before the next batch), `apply` and `state` answered from `weights()`, a failure
 * answered as an error message. `handle` does the replica's own work.
 */
export function answerInOrder<M extends { type: string }>(
  port: Pick<MessagePort, 'on' | 'postMessage'>,
  weights: () => ReplicaWeights,
  handle: (msg: M) => void | Promise<void>,
): void {
  let queue = Promise.resolve();
  port.on('message', (msg: M) => {
    queue = queue.then(async () => {
      try {
        if (isApply(msg)) {
          weights().apply(msg.gradients, msg.learningRate, msg.step);
        } else if (msg.type === 'state') {
          port.postMessage({ type: 'state', state: await weights().state() });
        } else {
          await handle(msg);
        }
      } catch (err) {
        port.postMessage({
          type: 'error',
          message: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
      }
    });
  });
}

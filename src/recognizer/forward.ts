/**
 * The network's inference as a chain of fused tfjs ops, read from the layers model. At the
 * server's batch sizes (10-40 images), LayersModel.predict's bookkeeping (scopes and tensor
 * tracking for every layer) cost up to 1.7 ms a pass (docs/benchmarks.md); the ops and the
 * weights are the same, so the probabilities are too (to float rounding).
 */
import * as tf from '@tensorflow/tfjs';

/** The network's output for a batch of inputs (the digit model: n x 28 x 28 x 1 to n x classes). */
export type Forward = (x: tf.Tensor4D) => tf.Tensor;

type Step = (x: tf.Tensor) => tf.Tensor;
type Activation = 'relu' | 'linear';

const pair = (v: unknown): [number, number] =>
  Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v), Number(v)];

function activationOf(name: unknown): Activation | 'softmax' | null {
  return name === 'relu' || name === 'linear' || name === 'softmax' ? name : null;
}

/** One layer as a step; null for a layer or setting this reading does not cover. */
function stepOf(layer: tf.layers.Layer): Step | null | 'skip' {
  const config = layer.getConfig();
  const [kernel, bias] = layer.getWeights();
  const activation = activationOf(config.activation);
  switch (layer.getClassName()) {
    case 'Dropout':
      return 'skip';
    case 'Flatten':
      return (x) => tf.reshape(x, [x.shape[0], -1]);
    case 'ZeroPadding2D': {
      // The line model pads columns before its head (src/model/line-architecture.ts).
      if (config.dataFormat !== 'channelsLast') return null;
      const [rows, columns] = config.padding as [[number, number], [number, number]];
      return (x) => tf.pad(x as tf.Tensor4D, [[0, 0], rows, columns, [0, 0]]);
    }
    case 'MaxPooling2D': {
      if (config.dataFormat !== 'channelsLast') return null;
      const size = pair(config.poolSize);
      const strides = pair(config.strides ?? config.poolSize);
      const padding = config.padding as 'valid' | 'same';
      return (x) => tf.maxPool(x as tf.Tensor4D, size, strides, padding);
    }
    case 'Conv2D': {
      const dilation = pair(config.dilationRate ?? 1);
      if (config.dataFormat !== 'channelsLast' || dilation[0] !== 1 || dilation[1] !== 1)
        return null;
      if (activation !== 'relu' && activation !== 'linear') return null;
      const strides = pair(config.strides);
      const pad = config.padding as 'valid' | 'same';
      const filter = kernel as tf.Tensor4D;
      return (x) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter, strides, pad, bias, activation });
    }
    case 'Dense': {
      if (!activation) return null;
      const b = kernel as tf.Tensor2D;
      const fused = activation === 'softmax' ? 'linear' : activation;
      return (x) => {
        const y = tf.fused.matMul({ a: x as tf.Tensor2D, b, bias, activation: fused });
        return activation === 'softmax' ? tf.softmax(y) : y;
      };
    }
    default:
      return null;
  }
}

/** The model as one function of fused ops, or null if it has a layer not covered here. */
export function compileForward(model: tf.LayersModel): Forward | null {
  const steps: Step[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const step = stepOf(layer);
    if (step === null) return null;
    if (step !== 'skip') steps.push(step);
  }
  return (x) => steps.reduce<tf.Tensor>((h, step) => step(h), x);
}

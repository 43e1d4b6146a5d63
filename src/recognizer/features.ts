/**
 * The network's own feature space: the activations of its penultimate layer (the input of
 * the last, classifying layer). Drawings the network sees as alike are close there, which
 * is what adapting to a user's corrections needs (src/core/adapt.ts).
 *
 * The network is split in two, the trunk (every layer but the last) and the head (the last),
 * so that one pass yields both the features and the probabilities: a separate pass for the
 * features alone cost about 1.2 ms an image here, more than adaptation's whole budget.
 */
import * as tf from '@tensorflow/tfjs';
import { compileForward, type Forward } from './forward.ts';

export interface SplitForward {
  /** n x 28 x 28 x 1 inputs -> n x `size` features. */
  readonly trunk: Forward;
  /** n x `size` features -> n x classes probabilities. */
  readonly head: (features: tf.Tensor) => tf.Tensor;
  readonly size: number;
}

const orPredict =
  (model: tf.LayersModel) =>
  (x: tf.Tensor): tf.Tensor =>
    model.predict(x, { batchSize: x.shape[0] }) as tf.Tensor;

/**
 * The model cut before its last layer, each half as the same fused ops as the full forward
 * pass (the weights are shared, not copied); null for a model with fewer than two layers.
 */
export function splitForward(model: tf.LayersModel): SplitForward | null {
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
  if (layers.length < 2) return null;
  const last = layers[layers.length - 1];
  const penultimate = layers[layers.length - 2];
  const shape = penultimate.outputShape as number[];
  const size = shape[shape.length - 1];
  const trunk = tf.model({
    inputs: model.inputs,
    outputs: penultimate.output as tf.SymbolicTensor,
  });
  const features = tf.input({ shape: [size] });
  const head = tf.model({
    inputs: features,
    outputs: last.apply(features) as tf.SymbolicTensor,
  });
  return {
    trunk: compileForward(trunk) ?? orPredict(trunk),
    // compileForward types its input as images, but its steps take any rank (here n x size).
    head: (compileForward(head) as ((x: tf.Tensor) => tf.Tensor) | null) ?? orPredict(head),
    size,
  };
}

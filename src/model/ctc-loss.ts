/**
 * The CTC loss as a tfjs op with its gradient. TensorFlow.js has no CTC loss, and a graph of
 * tfjs ops for the forward-backward recursions would need gradients the wasm backend lacks
 * (UnsortedSegmentSum for gather); so the loss and its gradient are computed together in
 * TypeScript (src/core/ctc.ts) from the logits' values, and the gradient is handed back to
 * tfjs through customGrad.
 */
import * as tf from '@tensorflow/tfjs';
import { ctcLoss, type LineToken } from '../core/ctc.ts';

/**
 * Mean CTC loss over the batch of `logits` [batch, 1, steps, classes], each row's labels in
 * `labels`; rows whose labels cannot fit in their steps add nothing. `steps[i]` is how many
 * columns of row i are its own (the rest is padding of a wider neighbour).
 */
export function ctcLossOp(
  logits: tf.Tensor4D,
  labels: readonly (readonly LineToken[])[],
  steps: readonly number[],
): tf.Scalar {
  const [batch, , width, classes] = logits.shape;
  // customGrad hands the forward its inputs, then a function that keeps tensors for the backward.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const values = x.dataSync();
    const gradient = new Float32Array(values.length);
    let total = 0;
    for (let i = 0; i < batch; i++) {
      const row = values.subarray(i * width * classes, i * width * classes + steps[i] * classes);
      const r = ctcLoss(row, steps[i], classes, labels[i]);
      total += r.loss;
      for (let j = 0; j < r.gradient.length; j++)
        gradient[i * width * classes + j] = r.gradient[j] / batch;
    }
    save([tf.tensor(gradient, x.shape)]);
    return {
      value: tf.scalar(total / batch),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => saved[0].mul(dy),
    };
  });
  return op(logits) as tf.Scalar;
}

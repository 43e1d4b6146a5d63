/**
 * The line model: a fully convolutional network over a number's strip (src/core/line-image.ts),
 * LINE_HEIGHT rows and any width, that scores every fourth column over the line classes
 * (src/core/ctc.ts). No recurrent layer: the convolutions' field of view, about two digits
 * wide, is the context each column decides in (a DenseNet with CTC and no RNN read ORAND-CAR-A
 * better than a ResNet with one).
 */
import * as tf from '@tensorflow/tfjs';
import { LINE_CLASSES } from '../core/ctc.ts';
import { LINE_HEIGHT, LINE_STRIDE } from '../core/line-image.ts';

export interface LineBlock {
  /** 3x3 convolutions (same padding, ReLU), in order. */
  readonly convolutions: readonly number[];
  /** Max-pooling [rows, columns] after them; none when absent. */
  readonly pool?: readonly [number, number];
}

export interface LineArchitecture {
  readonly name: string;
  /**
   * Filters of a first 3x3 convolution with stride 2: it halves rows and columns at a quarter
   * of a full-size convolution's cost and needs no input gradient, where a convolution and a
   * pooling at full size took a fifth of a training step.
   */
  readonly stem: number;
  readonly blocks: readonly LineBlock[];
  /** Width of the column features: a convolution over the remaining rows and 3 columns. */
  readonly head: number;
  readonly dropout: number;
}

export function describeLine(arch: LineArchitecture): string {
  const blocks = arch.blocks
    .map(
      (b) =>
        b.convolutions.map((f) => `conv${f}`).join('-') +
        (b.pool ? `-pool${b.pool.join('x')}` : ''),
    )
    .join('-');
  return `stem${arch.stem}/2-${blocks}-head${arch.head}${arch.dropout ? ` dropout${arch.dropout}` : ''}`;
}

/** Rows left after the blocks' pooling, which the head convolves over at once. */
function rowsLeft(arch: LineArchitecture): number {
  return arch.blocks.reduce((rows, b) => rows / (b.pool?.[0] ?? 1), LINE_HEIGHT / 2);
}

/**
 * Builds the network: input [batch, LINE_HEIGHT, width, 1] (width a multiple of LINE_STRIDE),
 * output logits [batch, 1, width / LINE_STRIDE, LINE_CLASSES] (before the softmax).
 */
export function buildLineModel(arch: LineArchitecture, seed?: number): tf.Sequential {
  const stride = arch.blocks.reduce((s, b) => s * (b.pool?.[1] ?? 1), 2);
  if (stride !== LINE_STRIDE)
    throw new Error(`the blocks pool columns by ${stride}, not ${LINE_STRIDE}`);
  const rows = rowsLeft(arch);
  if (!Number.isInteger(rows) || rows < 1)
    throw new Error(`the blocks pool ${LINE_HEIGHT} rows to ${rows}`);
  let s = seed;
  const init = () => tf.initializers.heNormal({ seed: s === undefined ? undefined : s++ });
  const model = tf.sequential({ name: arch.name.replace(/[^A-Za-z0-9_-]/g, '_') });
  model.add(
    tf.layers.conv2d({
      inputShape: [LINE_HEIGHT, null, 1],
      filters: arch.stem,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(),
    }),
  );
  for (const block of arch.blocks) {
    for (const filters of block.convolutions) {
      model.add(
        tf.layers.conv2d({
          filters,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: init(),
        }),
      );
    }
    if (block.pool)
      model.add(tf.layers.maxPooling2d({ poolSize: [...block.pool], strides: [...block.pool] }));
  }
  // The remaining rows and three columns at once: each column's features see the whole height.
  model.add(
    tf.layers.zeroPadding2d({
      padding: [
        [0, 0],
        [1, 1],
      ],
    }),
  );
  model.add(
    tf.layers.conv2d({
      filters: arch.head,
      kernelSize: [rows, 3],
      padding: 'valid',
      activation: 'relu',
      kernelInitializer: init(),
    }),
  );
  if (arch.dropout > 0) model.add(tf.layers.dropout({ rate: arch.dropout }));
  model.add(
    tf.layers.conv2d({
      filters: LINE_CLASSES,
      kernelSize: 1,
      padding: 'valid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: s }),
    }),
  );
  return model;
}

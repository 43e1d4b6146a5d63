/**
 * The networks, defined in one place. The shipped net and the reference net of the
 * benchmarks are both described by an ArchitectureConfig.
 */
import * as tf from '@tensorflow/tfjs';
import { DIGITS } from '../core/classes.ts';
import { MODEL_SIZE } from '../core/image.ts';

export interface ArchitectureConfig {
  readonly name: string;
  /** Convolution blocks: each is a list of 3x3 conv widths followed by a 2x2 max-pool. */
  readonly blocks: readonly (readonly number[])[];
  readonly dense: number;
  readonly batchNorm: boolean;
  /** Dropout after each pooled block and before the output layer (0 = none). */
  readonly dropout: number;
  readonly padding: 'same' | 'valid';
  /** Outputs: 10 digits, or 11 with "not a digit" (src/core/classes.ts). Default 10. */
  readonly classes?: number;
}

/** conv32-pool-conv64-pool-dense128: the benchmarks' yardstick. */
export const REFERENCE_NET: ArchitectureConfig = {
  name: 'reference conv32-pool-conv64-pool-dense128',
  blocks: [[32], [64]],
  dense: 128,
  batchNorm: false,
  dropout: 0,
  padding: 'same',
};

export function describe(arch: ArchitectureConfig): string {
  const blocks = arch.blocks.map((b) => b.map((f) => `conv${f}`).join('-') + '-pool').join('-');
  const padding = arch.padding === 'valid' ? ' valid' : '';
  const bn = arch.batchNorm ? ' bn' : '';
  const classes = (arch.classes ?? DIGITS) === DIGITS ? '' : ` ${arch.classes} classes`;
  return `${blocks}-dense${arch.dense}${padding}${bn}${arch.dropout ? ` dropout${arch.dropout}` : ''}${classes}`;
}

export function buildModel(arch: ArchitectureConfig, seed?: number): tf.Sequential {
  const model = tf.sequential({ name: arch.name.replace(/[^A-Za-z0-9_-]/g, '_') });
  let s = seed;
  const init = () => tf.initializers.heNormal({ seed: s === undefined ? undefined : s++ });
  let first = true;
  for (const block of arch.blocks) {
    for (const filters of block) {
      model.add(
        tf.layers.conv2d({
          ...(first ? { inputShape: [MODEL_SIZE, MODEL_SIZE, 1] } : {}),
          filters,
          kernelSize: 3,
          padding: arch.padding,
          useBias: !arch.batchNorm,
          kernelInitializer: init(),
          activation: arch.batchNorm ? 'linear' : 'relu',
        }),
      );
      first = false;
      if (arch.batchNorm) {
        model.add(tf.layers.batchNormalization());
        model.add(tf.layers.activation({ activation: 'relu' }));
      }
    }
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    if (arch.dropout > 0) model.add(tf.layers.dropout({ rate: arch.dropout / 2 }));
  }
  model.add(tf.layers.flatten());
  model.add(
    tf.layers.dense({
      units: arch.dense,
      useBias: !arch.batchNorm,
      kernelInitializer: init(),
      activation: arch.batchNorm ? 'linear' : 'relu',
    }),
  );
  if (arch.batchNorm) {
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.activation({ activation: 'relu' }));
  }
  if (arch.dropout > 0) model.add(tf.layers.dropout({ rate: arch.dropout }));
  model.add(
    tf.layers.dense({
      units: arch.classes ?? DIGITS,
      activation: 'softmax',
      kernelInitializer: init(),
    }),
  );
  return model;
}

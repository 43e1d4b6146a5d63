/**
 * The line model at inference: strips in forward passes, one for each width among them, and
 * each strip's column scores back. Strips are never padded to a wider neighbour's width: past a
 * strip's end the first convolution's bias makes features that the next ones see, so a reading
 * would depend on what else shared its pass (another user's drawing, on the server).
 */
import * as tf from '@tensorflow/tfjs';
import { LINE_CLASSES } from '../core/ctc.ts';
import type { GrayImage } from '../core/image.ts';
import { LINE_HEIGHT, LINE_STRIDE, padStrips } from '../core/line-image.ts';
import { compileForward, type Forward } from './forward.ts';

/** Strips a pass: the wasm heap grows with the largest pass and never shrinks. */
const MAX_PASS_STRIPS = 32;

export class LineModel {
  readonly params: number;
  private readonly forward: Forward;

  constructor(model: tf.LayersModel) {
    this.params = model.countParams();
    this.forward = compileForward(model) ?? ((x) => model.predict(x) as tf.Tensor);
  }

  /** Each strip's logits: (width / LINE_STRIDE) x LINE_CLASSES values, row-major. */
  logits(strips: readonly GrayImage[]): Float32Array[] {
    const out: Float32Array[] = [];
    const byWidth = new Map<number, number[]>();
    strips.forEach((s, i) => byWidth.set(s.width, [...(byWidth.get(s.width) ?? []), i]));
    const passes = [...byWidth.values()].flatMap((same) =>
      Array.from({ length: Math.ceil(same.length / MAX_PASS_STRIPS) }, (_, k) =>
        same.slice(k * MAX_PASS_STRIPS, (k + 1) * MAX_PASS_STRIPS),
      ),
    );
    for (const part of passes) {
      const { images, width } = padStrips(part.map((i) => strips[i]));
      const values = tf.tidy(() =>
        this.forward(tf.tensor4d(images, [part.length, LINE_HEIGHT, width, 1])).dataSync(),
      );
      const columns = width / LINE_STRIDE;
      part.forEach((i, k) => {
        const steps = strips[i].width / LINE_STRIDE;
        out[i] = values.slice(
          k * columns * LINE_CLASSES,
          (k * columns + steps) * LINE_CLASSES,
        ) as Float32Array;
      });
    }
    return out;
  }

  /** Runs a pass, so the first real reading is not slower. */
  warmUp(): void {
    this.logits([{ width: 64, height: LINE_HEIGHT, data: new Float32Array(64 * LINE_HEIGHT) }]);
  }
}

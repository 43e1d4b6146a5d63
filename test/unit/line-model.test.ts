/** The line network, its CTC loss as a tfjs op, and its inference over strips of any width. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ctcLoss,
  digitToken,
  greedyDecode,
  LINE_CLASSES,
  softmaxRows,
} from '../../src/core/ctc.ts';
import type { GrayImage } from '../../src/core/image.ts';
import { LINE_HEIGHT, LINE_STRIDE } from '../../src/core/line-image.ts';
import { Random } from '../../src/core/random.ts';
import { tf, useBackend } from '../../src/model/backend.ts';
import { ctcLossOp } from '../../src/model/ctc-loss.ts';
import { buildLineModel } from '../../src/model/line-architecture.ts';
import { LineModel } from '../../src/recognizer/line-model.ts';
import { LINE_ARCHITECTURE } from '../../src/training/line-config.ts';

beforeAll(async () => {
  await useBackend('wasm');
});

function randomStrip(rng: Random, width: number): GrayImage {
  return {
    width,
    height: LINE_HEIGHT,
    data: Float32Array.from({ length: width * LINE_HEIGHT }, () => (rng.next() < 0.2 ? 1 : 0)),
  };
}

describe('the line network', () => {
  it('scores every LINE_STRIDE-th column over the line classes, at any width', () => {
    const model = buildLineModel(LINE_ARCHITECTURE, 1);
    for (const width of [32, 64, 200]) {
      const out = tf.tidy(() => model.predict(tf.zeros([2, LINE_HEIGHT, width, 1])) as tf.Tensor);
      expect(out.shape).toEqual([2, 1, width / LINE_STRIDE, LINE_CLASSES]);
      out.dispose();
    }
    model.dispose();
  });

  it('reads strips of several widths together as it reads each alone', () => {
    const model = buildLineModel(LINE_ARCHITECTURE, 2);
    const line = new LineModel(model);
    const rng = new Random(3);
    const strips = [40, 120, 64, 120].map((w) => randomStrip(rng, w));
    const together = line.logits(strips);
    strips.forEach((strip, i) => {
      expect(together[i].length).toBe((strip.width / LINE_STRIDE) * LINE_CLASSES);
      // The layers model's own predict on the strip alone, unpadded.
      const alone = tf.tidy(() =>
        (
          model.predict(tf.tensor4d(strip.data, [1, LINE_HEIGHT, strip.width, 1])) as tf.Tensor
        ).dataSync(),
      );
      for (let j = 0; j < alone.length; j++) expect(together[i][j]).toBeCloseTo(alone[j], 4);
    });
    model.dispose();
  });
});

describe('the CTC loss op', () => {
  it('gives the core loss, and its gradient to the logits, averaged over the batch', () => {
    const rng = new Random(4);
    const [batch, steps] = [2, 7];
    const values = Float32Array.from({ length: batch * steps * LINE_CLASSES }, () => rng.normal());
    const labels = [[digitToken(1), digitToken(1)], [digitToken(4)]];
    // The second row owns 5 of the 7 columns; the rest is padding and gets no gradient.
    const own = [7, 5];
    const logits = tf.variable(
      tf.tensor4d(values, [batch, 1, steps, LINE_CLASSES]),
      true,
      'logits',
    );
    const { value, grads } = tf.variableGrads(
      () => ctcLossOp(logits as tf.Tensor4D, labels, own),
      [logits],
    );
    const expected = labels.map((l, i) =>
      ctcLoss(
        values.subarray(i * steps * LINE_CLASSES, (i * steps + own[i]) * LINE_CLASSES),
        own[i],
        LINE_CLASSES,
        l,
      ),
    );
    expect(value.dataSync()[0]).toBeCloseTo((expected[0].loss + expected[1].loss) / 2, 4);
    const g = grads.logits.dataSync();
    for (let j = 0; j < expected[1].gradient.length; j++)
      expect(g[steps * LINE_CLASSES + j]).toBeCloseTo(expected[1].gradient[j] / 2, 5);
    for (let j = own[1] * LINE_CLASSES; j < steps * LINE_CLASSES; j++)
      expect(g[steps * LINE_CLASSES + j]).toBe(0);
  });

  it('teaches the network to read a few fixed strips', () => {
    const model = buildLineModel({ ...LINE_ARCHITECTURE, dropout: 0 }, 5);
    const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const optimizer = tf.train.adam(3e-3);
    // Two strips: bars at different places stand for "1 7" and "4".
    const strips = [
      { width: 64, bars: [12, 40], labels: [digitToken(1), digitToken(7)] },
      { width: 64, bars: [28], labels: [digitToken(4)] },
    ];
    const images = new Float32Array(strips.length * LINE_HEIGHT * 64);
    strips.forEach((s, i) => {
      for (const bar of s.bars)
        for (let y = 4; y < 28; y++)
          for (let x = bar; x < bar + 6 + 4 * s.labels.length; x++)
            images[(i * LINE_HEIGHT + y) * 64 + x] = 1;
    });
    const x = tf.tensor4d(images, [strips.length, LINE_HEIGHT, 64, 1]);
    const step = () => {
      const { value, grads } = tf.variableGrads(
        () =>
          ctcLossOp(
            model.apply(x) as tf.Tensor4D,
            strips.map((s) => s.labels),
            [16, 16],
          ),
        variables,
      );
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      const loss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    };
    const first = step();
    let last = first;
    for (let i = 0; i < 60; i++) last = step();
    expect(last).toBeLessThan(first / 4);
    const logits = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    strips.forEach((s, i) => {
      const rows = logits.subarray(i * 16 * LINE_CLASSES, (i + 1) * 16 * LINE_CLASSES);
      const tokens = greedyDecode(softmaxRows(rows, 16, LINE_CLASSES), 16, LINE_CLASSES).map(
        (t) => t.token,
      );
      expect(tokens).toEqual(s.labels);
    });
    model.dispose();
  });
});

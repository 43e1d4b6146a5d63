/**
 * Every kernel registered for training on wasm, checked against tfjs's reference `cpu`
 * backend on small tensors, for each padding, stride and shape the nets use (and the
 * strided fallback). Tolerance: max |wasm - cpu| <= 1e-4 x max |cpu|.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, useBackend, type BackendName } from '../../src/model/backend.ts';
import { Random } from '../../src/core/random.ts';

const TOLERANCE = 1e-4;

function values(shape: number[], seed: number, integers = false): number[] {
  const rng = new Random(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => (integers ? rng.int(5) : rng.uniform(-1, 1)));
}

/** Runs `f` on both backends and returns the relative max difference of each output. */
async function compare(f: () => tf.Tensor[]): Promise<number[]> {
  const run = async (backend: BackendName) => {
    await useBackend(backend);
    const outs = f();
    const data = await Promise.all(outs.map((t) => t.data()));
    tf.dispose(outs);
    return data;
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  return wasm.map((w, i) => {
    let diff = 0;
    let scale = 1e-12;
    for (let k = 0; k < w.length; k++) {
      diff = Math.max(diff, Math.abs(w[k] - cpu[i][k]));
      scale = Math.max(scale, Math.abs(cpu[i][k]));
    }
    return diff / scale;
  });
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('conv2d gradients on wasm match cpu', () => {
  const cases: [string, number[], number[], 'same' | 'valid', number][] = [
    ['first layer 28x28x1 -> 32, same', [2, 28, 28, 1], [3, 3, 1, 32], 'same', 1],
    ['second layer 14x14x32 -> 64, same', [2, 14, 14, 32], [3, 3, 32, 64], 'same', 1],
    ['valid padding, 5x5 kernel', [2, 12, 12, 4], [5, 5, 4, 6], 'valid', 1],
    ['stride 2, same, odd width (fallback input gradient)', [2, 11, 9, 3], [3, 3, 3, 5], 'same', 2],
    ['stride 2, valid', [2, 13, 13, 3], [3, 3, 3, 5], 'valid', 2],
  ];
  it.each(cases)('%s', async (_name, xShape, wShape, pad, stride) => {
    const xs = values(xShape, 1);
    const ws = values(wShape, 2);
    const diffs = await compare(() => {
      const x = tf.tensor4d(xs, xShape as [number, number, number, number]);
      const w = tf.tensor4d(ws, wShape as [number, number, number, number]);
      const loss = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, stride, pad).square().sum();
      const [dx, dw] = tf.grads(loss as (...args: tf.Tensor[]) => tf.Tensor)([x, w]);
      return [dx, dw];
    });
    expect(diffs[0]).toBeLessThan(TOLERANCE);
    expect(diffs[1]).toBeLessThan(TOLERANCE);
  });
});

describe('other training kernels on wasm match cpu', () => {
  it.each([
    [false, true],
    [true, false],
    [true, true],
    [false, false],
  ])('matMul transposeA=%s transposeB=%s', async (ta, tb) => {
    const a = values([6, 5], 3);
    const b = values([5, 6], 4);
    const [d] = await compare(() => [
      tf.matMul(tf.tensor2d(a, ta ? [5, 6] : [6, 5]), tf.tensor2d(b, tb ? [6, 5] : [5, 6]), ta, tb),
    ]);
    expect(d).toBeLessThan(TOLERANCE);
  });

  it.each([
    ['2x2 stride 2 valid (fast path)', [2, 8, 6, 3], 2, 2, 'valid'],
    ['2x2 stride 2 valid, odd height', [2, 7, 6, 3], 2, 2, 'valid'],
    ['3x3 stride 2 same', [2, 7, 7, 3], 3, 2, 'same'],
    ['2x2 stride 1 same', [1, 5, 5, 2], 2, 1, 'same'],
  ] as const)('maxPool gradient, %s, with ties', async (_name, shape, size, stride, pad) => {
    // Small integers make ties common: the gradient must go to the first maximum, as on cpu.
    const xs = values([...shape], 5, true);
    const [d] = await compare(() => {
      const x = tf.tensor4d(xs, shape as unknown as [number, number, number, number]);
      const f = (z: tf.Tensor) => {
        const y = tf.maxPool(z as tf.Tensor4D, size, stride, pad);
        return y.mul(tf.range(1, y.size + 1).reshape(y.shape)).sum();
      };
      return [tf.grad(f)(x)];
    });
    expect(d).toBe(0);
  });

  it.each([
    [[0, 1, 2], false],
    [[0], true],
    [[1, 2], false],
    [[0, 1, 2, 3], false],
  ])('sum over axes %j keepDims=%s', async (axes, keepDims) => {
    const xs = values([3, 4, 5, 6], 6);
    const [d] = await compare(() => [tf.tensor4d(xs, [3, 4, 5, 6]).sum(axes, keepDims)]);
    expect(d).toBeLessThan(TOLERANCE);
  });
});

describe('kernels do not leak', () => {
  it('a training step leaves no tensor behind', async () => {
    await useBackend('wasm');
    const x = tf.tensor4d(values([4, 14, 14, 8], 7), [4, 14, 14, 8]);
    const w = tf.variable(tf.tensor4d(values([3, 3, 8, 16], 8), [3, 3, 8, 16]));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(
        () => tf.maxPool(tf.conv2d(x, w, 1, 'same'), 2, 2, 'valid').sum(),
        [w],
      );
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

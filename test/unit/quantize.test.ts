import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.ts';
import { buildModel } from '../../src/model/architecture.ts';
import { tf, useBackend } from '../../src/model/backend.ts';
import {
  loadModel,
  modelArtifacts,
  readArtifacts,
  saveArtifacts,
  WEIGHTS_BIN,
} from '../../src/model/model-io.ts';
import { quantizeFloat16, toFloat16 } from '../../src/model/quantize.ts';

describe('toFloat16', () => {
  it('gives the IEEE half-precision bits, rounding to the nearest even', () => {
    expect(toFloat16(0)).toBe(0);
    expect(toFloat16(-0)).toBe(0x8000);
    expect(toFloat16(1)).toBe(0x3c00);
    expect(toFloat16(-2)).toBe(0xc000);
    expect(toFloat16(0.1)).toBe(0x2e66);
    expect(toFloat16(65504)).toBe(0x7bff); // the largest half
    expect(toFloat16(1e6)).toBe(0x7c00); // beyond it: infinity
    expect(toFloat16(2 ** -24)).toBe(0x0001); // the smallest subnormal
    expect(toFloat16(2 ** -26)).toBe(0); // under half of it: zero
    expect(toFloat16(1 + 2 ** -11)).toBe(0x3c00); // a tie, to even
    expect(toFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02); // a tie, to even (up)
    expect(toFloat16(Number.NaN) & 0x7c00).toBe(0x7c00);
  });
});

describe('quantizeFloat16', () => {
  let dir: string;
  beforeAll(async () => {
    await useBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'quantize-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('halves weights.bin, loads as before, and predicts within float16 rounding', async () => {
    const model = buildModel(
      { name: 'q', blocks: [[4], [8]], dense: 16, batchNorm: false, dropout: 0, padding: 'valid' },
      3,
    );
    const original = await modelArtifacts(model);
    const { artifacts, report } = quantizeFloat16(original);
    expect(report.bytesAfter * 2).toBe(report.bytesBefore);
    expect(artifacts.weightSpecs?.every((s) => s.quantization?.dtype === 'float16')).toBe(true);

    await saveArtifacts(dir, artifacts);
    expect((await stat(join(dir, WEIGHTS_BIN))).size).toBe(report.bytesAfter);
    // Quantising again changes nothing.
    const again = quantizeFloat16(await readArtifacts(dir));
    expect(again.report.converted).toBe(0);
    expect(new Uint8Array(again.artifacts.weightData as ArrayBuffer)).toEqual(
      new Uint8Array(artifacts.weightData as ArrayBuffer),
    );

    // Every weight decoded by tf.io is within half a float16 step of the original.
    const loaded = await loadModel(dir);
    const before = model.getWeights().map((w) => w.dataSync());
    const after = loaded.getWeights().map((w) => w.dataSync());
    for (let i = 0; i < before.length; i++) {
      for (let j = 0; j < before[i].length; j++) {
        const x = before[i][j];
        expect(Math.abs(after[i][j] - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 2 ** -25);
      }
    }
    const rng = new Random(9);
    const x = tf.tensor4d(
      Float32Array.from({ length: 4 * 784 }, () => rng.next()),
      [4, 28, 28, 1],
    );
    const p = (model.predict(x) as tf.Tensor).dataSync();
    const q = (loaded.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < p.length; i++) expect(Math.abs(p[i] - q[i])).toBeLessThan(2e-3);
    tf.dispose([x]);
  });
});

/**
 * Weights stored as float16 (half the bytes of float32) in the TensorFlow.js format itself:
 * each weight's spec says `quantization: { dtype: 'float16' }`, and tf.io decodes it back to
 * float32 when a model is loaded, in Node and in the browser alike. So a quantised model is
 * still a model folder (model.json + weights.bin) that every loader reads unchanged.
 */
import type * as tf from '@tensorflow/tfjs';

const f32 = new Float32Array(1);
const bits = new Uint32Array(f32.buffer);

/** The float16 bits nearest to `value` (ties to even); beyond float16's range, infinity. */
export function toFloat16(value: number): number {
  f32[0] = value;
  const x = bits[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // inf, NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: infinity
  if (e <= 0) {
    // Subnormal in float16 (or zero): the implicit 1 made explicit, shifted into place.
    if (e < -10) return sign;
    const m = mantissa | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa rightly steps the exponent up (to infinity at the top).
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** What quantising did: the weights' bytes before and after. */
export interface QuantizeReport {
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Weights converted now; those already float16 (or not float32) are kept as they are. */
  readonly converted: number;
}

/**
 * The same model with every float32 weight stored as float16. Weights that are already
 * quantised, or not float32, are copied as they are, so quantising twice changes nothing.
 */
export function quantizeFloat16(artifacts: tf.io.ModelArtifacts): {
  artifacts: tf.io.ModelArtifacts;
  report: QuantizeReport;
} {
  const specs = artifacts.weightSpecs ?? [];
  const data = artifacts.weightData;
  if (!(data instanceof ArrayBuffer)) {
    throw new Error(
      'quantizeFloat16: the weights must be one ArrayBuffer (as model-io reads them)',
    );
  }
  const pieces: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  let converted = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = count * bytesPerValue(spec);
    const chunk = new Uint8Array(data, offset, bytes);
    offset += bytes;
    if (spec.dtype !== 'float32' || spec.quantization) {
      pieces.push(chunk.slice());
      outSpecs.push(spec);
      continue;
    }
    // Copied out first: a weight's offset in the file need not be 4-byte aligned.
    const values = new Float32Array(chunk.slice().buffer);
    const halves = new Uint16Array(count);
    for (let i = 0; i < count; i++) halves[i] = toFloat16(values[i]);
    pieces.push(new Uint8Array(halves.buffer));
    outSpecs.push({ ...spec, quantization: { dtype: 'float16' } });
    converted++;
  }
  if (offset !== data.byteLength) {
    throw new Error(
      `quantizeFloat16: the weight specs describe ${offset} bytes, the weights hold ${data.byteLength}`,
    );
  }
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return {
    artifacts: { ...artifacts, weightSpecs: outSpecs, weightData: out.buffer },
    report: { bytesBefore: data.byteLength, bytesAfter: total, converted },
  };
}

/** Bytes a value of this weight takes in the file. */
function bytesPerValue(spec: tf.io.WeightsManifestEntry): number {
  const stored = spec.quantization?.dtype ?? spec.dtype;
  switch (stored) {
    case 'float32':
    case 'int32':
      return 4;
    case 'uint16':
    case 'float16':
      return 2;
    case 'uint8':
    case 'bool':
      return 1;
    default:
      throw new Error(`quantizeFloat16: weight ${spec.name} has dtype ${stored}, not handled`);
  }
}

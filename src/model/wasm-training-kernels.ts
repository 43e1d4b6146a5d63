/**
 * Training kernels for the tfjs wasm backend.
 *
 * As shipped, the wasm backend has no Conv2DBackpropFilter and only a naive-loop
 * Conv2DBackpropInput, so convolutional nets cannot train on it at a useful speed. Both
 * gradients are ordinary forward convolutions over transposed or flipped tensors, and the
 * wasm Conv2D kernel runs on XNNPACK, so we express them that way.
 *
 * Profiling a training step (`tf.profile`) showed three more kernels that dominate once the
 * convolutions are fast: BatchMatMul with a transposed operand (14x slower than without, and
 * the dense layer's backward pass needs both), MaxPoolGrad (a slow generic loop) and Sum over
 * the leading axes (bias gradients). Each gets a faster formulation here.
 */
import {
  backend_util,
  BatchMatMul,
  MaxPoolGrad,
  Sum,
  util,
  type BatchMatMulAttrs,
  type MaxPoolGradAttrs,
  type SumAttrs,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  getKernel,
  registerKernel,
  unregisterKernel,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs';

const BACKEND = 'wasm';

/** The slice of BackendWasm these kernels rely on (its class is not exported as a type). */
interface WasmBackendLike {
  disposeData(dataId: object): boolean;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

function wasmOf(backend: KernelArgs['backend']): WasmBackendLike {
  return backend as unknown as WasmBackendLike;
}

type KernelArgs = Parameters<KernelFunc>[0];
/** A kernel's named inputs, all present (tfjs types them as optional). */
type Inputs<K extends string> = Record<K, TensorInfo>;

function runKernel(
  name: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap,
  backend: KernelArgs['backend'],
): TensorInfo {
  const kernel = getKernel(name, BACKEND);
  if (!kernel) throw new Error(`wasm backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs, attrs, backend }) as TensorInfo;
}

function dispose(backend: KernelArgs['backend'], ...infos: TensorInfo[]): void {
  for (const info of infos) wasmOf(backend).disposeData(info.dataId);
}

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

function explicitPad(top: number, bottom: number, left: number, right: number): ExplicitPad {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

function isChannelsLast(dataFormat: string | undefined): boolean {
  return dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast';
}

/**
 * dW[kh,kw,ci,co] = sum over n,oh,ow of x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co].
 * That is a convolution of x with ci as the batch and n as the channels, by dy used as the
 * filter (n in, co out) dilated by the forward stride.
 */
function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { x, dy } = args.inputs as unknown as Inputs<'x' | 'dy'>;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  if (!isChannelsLast(attrs.dataFormat)) {
    throw new Error('Conv2DBackpropFilter on wasm supports channelsLast (NHWC) only');
  }
  const [kh, kw, ci, co] = attrs.filterShape;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { top, left } = info.padInfo;
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  if (ci === 1) return singleChannelFilterGradient(x, dy, info, backend);
  // Pad the far side so the output is exactly kh x kw; a negative value would crop.
  const bottom = kh + (info.outHeight - 1) * sh - info.inHeight - top;
  const right = kw + (info.outWidth - 1) * sw - info.inWidth - left;

  const xT = runKernel('Transpose', { x }, { perm: [3, 1, 2, 0] }, backend);
  const dyT = runKernel('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, backend);
  let xIn = xT;
  if (bottom < 0 || right < 0) {
    const size = [ci, info.inHeight + Math.min(bottom, 0), info.inWidth + Math.min(right, 0), -1];
    xIn = runKernel('Slice', { x: xT }, { begin: [0, 0, 0, 0], size }, backend);
  }
  const grad = runKernel(
    'Conv2D',
    { x: xIn, filter: dyT },
    {
      strides: [1, 1],
      pad: explicitPad(top, Math.max(bottom, 0), left, Math.max(right, 0)),
      dilations: [sh, sw],
      dataFormat: 'NHWC',
    },
    backend,
  );
  const out = runKernel('Transpose', { x: grad }, { perm: [1, 2, 0, 3] }, backend);
  dispose(backend, xT, dyT, grad);
  if (xIn !== xT) dispose(backend, xIn);
  if (out.shape.join() !== [kh, kw, ci, co].join()) {
    throw new Error(`Conv2DBackpropFilter produced ${out.shape}, expected ${attrs.filterShape}`);
  }
  return out;
}

/**
 * With one input channel (the first layer) the convolution above degenerates into a
 * 9-pixel output with a huge reduction, which XNNPACK tiles poorly. There, an explicit
 * patch matrix P [N*oh*ow, kh*kw] (built straight on the heap) and one matmul dy^T P are
 * faster: 20 ms instead of 28 ms for batch 128, 28x28x1 -> 32 (docs/benchmarks.md).
 */
function singleChannelFilterGradient(
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  backend: KernelArgs['backend'],
): TensorInfo {
  const { batchSize, inHeight, inWidth, outHeight, outWidth, outChannels } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const rows = batchSize * outHeight * outWidth;
  const k = kh * kw;
  const wasm = wasmOf(backend);
  const patches = wasm.makeOutput([1, rows, k], 'float32');
  const p = wasm.typedArrayFromHeap(patches);
  const xs = wasm.typedArrayFromHeap(x);
  let at = 0;
  for (let n = 0; n < batchSize; n++) {
    const image = n * inHeight * inWidth;
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        for (let i = 0; i < kh; i++) {
          const y = oh * sh + i - top;
          for (let j = 0; j < kw; j++, at++) {
            const xx = ow * sw + j - left;
            p[at] =
              y >= 0 && y < inHeight && xx >= 0 && xx < inWidth ? xs[image + y * inWidth + xx] : 0;
          }
        }
      }
    }
  }
  const dy3 = runKernel('Reshape', { x: dy }, { shape: [1, rows, outChannels] }, backend);
  const product = runKernel(
    'BatchMatMul',
    { a: dy3, b: patches },
    { transposeA: true, transposeB: false },
    backend,
  );
  const perFilter = runKernel('Transpose', { x: product }, { perm: [0, 2, 1] }, backend);
  const out = runKernel('Reshape', { x: perFilter }, { shape: [kh, kw, 1, outChannels] }, backend);
  dispose(backend, patches, dy3, product, perFilter);
  return out;
}

/**
 * For stride 1, dx is the "full" convolution of dy with the filter flipped in space and
 * with its in/out channels swapped. Strided convolutions (not used by our nets) keep the
 * backend's original kernel.
 */
function makeConv2DBackpropInput(fallback: KernelFunc): KernelFunc {
  return (args: KernelArgs) => {
    const { backend } = args;
    const { dy, filter } = args.inputs as unknown as Inputs<'dy' | 'filter'>;
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const info = backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    if (info.strideHeight !== 1 || info.strideWidth !== 1 || !isChannelsLast(attrs.dataFormat)) {
      return fallback(args) as TensorInfo;
    }
    const { filterHeight: kh, filterWidth: kw } = info;
    const { top, bottom, left, right } = info.padInfo;
    const flipped = runKernel('Reverse', { x: filter }, { dims: [0, 1] }, backend);
    const swapped = runKernel('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }, backend);
    const dx = runKernel(
      'Conv2D',
      { x: dy, filter: swapped },
      {
        strides: [1, 1],
        pad: explicitPad(kh - 1 - top, kh - 1 - bottom, kw - 1 - left, kw - 1 - right),
        dilations: [1, 1],
        dataFormat: 'NHWC',
      },
      backend,
    );
    dispose(backend, flipped, swapped);
    return dx;
  };
}

/** Transposing an operand explicitly is cheap; the wasm matmul on a transposed one is not. */
function makeBatchMatMul(original: KernelFunc): KernelFunc {
  return (args: KernelArgs) => {
    const { backend } = args;
    const { a, b } = args.inputs as unknown as Inputs<'a' | 'b'>;
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    if (!transposeA && !transposeB) return original(args) as TensorInfo;
    const lastTwo = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];
    const aT = transposeA
      ? runKernel('Transpose', { x: a }, { perm: lastTwo(a.shape.length) }, backend)
      : a;
    const bT = transposeB
      ? runKernel('Transpose', { x: b }, { perm: lastTwo(b.shape.length) }, backend)
      : b;
    const out = original({
      inputs: { a: aT, b: bT },
      attrs: { ...args.attrs, transposeA: false, transposeB: false },
      backend,
    }) as TensorInfo;
    if (aT !== a) dispose(backend, aT);
    if (bT !== b) dispose(backend, bT);
    return out;
  };
}

/**
 * Max-pool gradient as one pass over the windows, straight on the wasm heap. Like the cpu
 * backend, the gradient goes to the first maximum of each window.
 */
function maxPoolGrad(args: KernelArgs): TensorInfo {
  const { backend } = args;
  const { dy, input } = args.inputs as unknown as Inputs<'dy' | 'input'>;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const wasm = wasmOf(backend);
  const out = wasm.makeOutput(input.shape, 'float32');
  const dx = wasm.typedArrayFromHeap(out);
  dx.fill(0);
  const x = wasm.typedArrayFromHeap(input);
  const g = wasm.typedArrayFromHeap(dy);
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  if (
    fh === 2 &&
    fw === 2 &&
    sh === 2 &&
    sw === 2 &&
    top === 0 &&
    left === 0 &&
    inHeight % 2 === 0
  ) {
    maxPoolGrad2x2(x, g, dx, batchSize * outHeight, outWidth, inWidth, C);
    return out;
  }
  if (fh === 2 && fw === 1 && sh === 2 && sw === 1 && top === 0 && inHeight % 2 === 0) {
    maxPoolGrad2x1(x, g, dx, batchSize * outHeight, inWidth * C);
    return out;
  }
  let gi = 0;
  for (let b = 0; b < batchSize; b++) {
    const base = b * inHeight * inWidth * C;
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = oh * sh - top;
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = ow * sw - left;
        for (let c = 0; c < C; c++, gi++) {
          let best = -Infinity;
          let at = -1;
          for (let h = Math.max(h0, 0); h < Math.min(h0 + fh, inHeight); h++) {
            for (let w = Math.max(w0, 0); w < Math.min(w0 + fw, inWidth); w++) {
              const i = base + (h * inWidth + w) * C + c;
              if (x[i] > best) {
                best = x[i];
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] += g[gi];
        }
      }
    }
  }
  return out;
}

/**
 * The common 2x2, stride 2 pool over an even height, unrolled. With an even height the
 * window rows of consecutive images follow each other, so the batch is one run of rows.
 */
function maxPoolGrad2x2(
  x: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  outRows: number,
  outWidth: number,
  inWidth: number,
  C: number,
): void {
  const rowStride = inWidth * C;
  let gi = 0;
  for (let r = 0; r < outRows; r++) {
    const rowStart = 2 * r * rowStride;
    for (let ow = 0; ow < outWidth; ow++) {
      const topLeft = rowStart + ow * 2 * C;
      for (let c = 0; c < C; c++, gi++) {
        const a = topLeft + c;
        const b = a + C;
        const d = a + rowStride;
        const e = d + C;
        let at = a;
        if (x[b] > x[at]) at = b;
        if (x[d] > x[at]) at = d;
        if (x[e] > x[at]) at = e;
        dx[at] += g[gi];
      }
    }
  }
}

/**
 * The line model's 2x1 pool (rows halved, columns kept), unrolled as the 2x2 one: each
 * window is a pixel and the one below it.
 */
function maxPoolGrad2x1(
  x: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  outRows: number,
  rowStride: number,
): void {
  let gi = 0;
  for (let r = 0; r < outRows; r++) {
    const rowStart = 2 * r * rowStride;
    for (let i = 0; i < rowStride; i++, gi++) {
      const a = rowStart + i;
      const b = a + rowStride;
      dx[x[b] > x[a] ? b : a] += g[gi];
    }
  }
}

/**
 * Summing over the leading axes (a bias gradient over batch and space) as one pass over the
 * heap: the generic wasm reduction transposes first, and a matmul with ones would repack the
 * big operand on every call.
 */
function makeSum(original: KernelFunc): KernelFunc {
  return (args: KernelArgs) => {
    const { backend } = args;
    const { x } = args.inputs as unknown as Inputs<'x'>;
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const axes = util.parseAxisParam(axis, x.shape);
    const leading =
      axes.length > 0 && axes.every((a, i) => a === i) && axes.length < x.shape.length;
    if (!leading || x.dtype !== 'float32') return original(args) as TensorInfo;
    const rest = x.shape.slice(axes.length);
    const cols = rest.reduce((p, d) => p * d, 1);
    const wasm = wasmOf(backend);
    const shape = keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : rest;
    const out = wasm.makeOutput(shape, 'float32');
    const values = wasm.typedArrayFromHeap(x);
    const acc = new Float64Array(cols);
    for (let i = 0; i < values.length; i += cols) {
      for (let c = 0; c < cols; c++) acc[c] += values[i + c];
    }
    wasm.typedArrayFromHeap(out).set(acc);
    return out;
  };
}

let registered = false;

/** Replaces (or adds) a wasm kernel; `wrap` receives the original kernel, if any. */
function override(name: string, wrap: (original: KernelFunc) => KernelFunc): void {
  const original = getKernel(name, BACKEND);
  const missing: KernelFunc = () => {
    throw new Error(`wasm backend has no ${name} kernel`);
  };
  if (original) unregisterKernel(name, BACKEND);
  const config: KernelConfig = {
    kernelName: name,
    backendName: BACKEND,
    kernelFunc: wrap(original?.kernelFunc ?? missing),
    // Fallbacks call into wasm functions that the original set-up binds.
    setupFunc: original?.setupFunc,
  };
  registerKernel(config);
}

/** Registers the kernels once; call after the wasm backend is imported, before training. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  if (!getKernel(Conv2DBackpropInput, BACKEND)) {
    throw new Error('import @tensorflow/tfjs-backend-wasm before registering its training kernels');
  }
  override(Conv2DBackpropInput, makeConv2DBackpropInput);
  override(Conv2DBackpropFilter, () => conv2DBackpropFilter);
  override(BatchMatMul, makeBatchMatMul);
  override(MaxPoolGrad, () => maxPoolGrad);
  override(Sum, makeSum);
  registered = true;
}

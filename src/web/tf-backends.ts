/**
 * The TensorFlow.js backends the in-browser model can run on, and how each is started (in
 * the recognition worker): WebGL where the browser has a GPU, WebAssembly with SIMD (and
 * threads where the page is cross-origin isolated), plain JavaScript as the last resort.
 * Which one is used is decided by backend-choice.ts and in-browser.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendName } from './backend-choice.ts';

/** Renderers that draw on the CPU: their WebGL is never faster than WebAssembly here. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** The renderer of a WebGL2 context made here, or null if none can be made. */
function webglRenderer(gpuOnly: boolean): string | null {
  if (typeof OffscreenCanvas === 'undefined') return null;
  try {
    // With failIfMajorPerformanceCaveat the browser itself refuses a software context.
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2', {
      failIfMajorPerformanceCaveat: gpuOnly,
    });
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return renderer;
  } catch {
    return null;
  }
}

/**
 * The backends worth measuring here, best first: WebGL if there is a GPU behind it (or any
 * WebGL2 with `software`, to measure it anyway), then WebAssembly; JavaScript only when
 * WebAssembly is missing (it is always the slowest).
 */
export function candidateBackends(software: boolean): BackendName[] {
  const out: BackendName[] = [];
  const renderer = webglRenderer(!software);
  if (renderer !== null && (software || !SOFTWARE_RENDERER.test(renderer))) out.push('webgl');
  out.push(typeof WebAssembly === 'object' ? 'wasm' : 'cpu');
  return out;
}

let wasmThreads = false;
let wasmConfigured = false;

/**
 * Whether wasm is to run its threaded build (the page decides: wantsWasmThreads); set before
 * the first backend starts. Only an isolated worker has the SharedArrayBuffer it needs.
 */
export function useWasmThreads(wanted: boolean): void {
  wasmThreads = wanted && self.crossOriginIsolated === true;
}

/** The wasm binaries' URLs (Vite copies all three), and whether threads are used. */
function configureWasm(): void {
  if (wasmConfigured) return;
  wasmConfigured = true;
  // The threaded build runs XNNPACK on half the logical cores, at most 4 (tfjs's default; its
  // setThreadsCount did not change that here, tfjs issue 8513).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', wasmThreads);
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlainUrl,
    'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
  });
}

/** The WebGL backend's code is fetched only where WebGL is tried. */
async function registerWebgl(): Promise<void> {
  await import('@tensorflow/tfjs-backend-webgl');
  // One shader program per operation, not one per operation and shape: a drawing of a new
  // width would otherwise compile the line model's shaders again.
  tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
}

/** Makes `name` the active backend; false if it cannot start in this browser. */
export async function startBackend(name: BackendName): Promise<boolean> {
  try {
    if (name === 'wasm') configureWasm();
    if (name === 'webgl') await registerWebgl();
    // Plain JavaScript is the last resort: its kernels (a fifth of the worker's script) are
    // fetched only where it is used.
    if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    return true;
  } catch {
    return false;
  }
}

/** Threads of the wasm backend (1 without isolation); null on other backends. */
export function backendThreads(name: BackendName): number | null {
  return name === 'wasm' ? getThreadsCount() : null;
}

/** Frees a backend that lost the measurement (its WebGL context, its wasm memory). */
export function dropBackend(name: BackendName): void {
  if (tf.findBackend(name)) tf.removeBackend(name);
}

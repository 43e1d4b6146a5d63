/** Selects the tfjs backend for Node: wasm (SIMD, XNNPACK) with our training kernels. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm-training-kernels.ts';

export type BackendName = 'wasm' | 'cpu';

export async function useBackend(name: BackendName = 'wasm'): Promise<void> {
  if (name === 'wasm') registerWasmTrainingKernels();
  if (tf.getBackend() === name) return;
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`could not initialise the tfjs ${name} backend`);
  await tf.ready();
}

export { tf };

import type { BackendName } from './backend-choice.ts';

const ENGINES: Record<BackendName, string> = {
  webgl: 'WebGL',
  wasm: 'WebAssembly',
  cpu: 'JavaScript',
};

/** A tfjs backend as the page names it to people ("WebAssembly, 2 threads"). */
export function engineName(backend: BackendName, threads: number | null = null): string {
  return threads && threads > 1 ? `${ENGINES[backend]}, ${threads} threads` : ENGINES[backend];
}

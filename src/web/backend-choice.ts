/**
 * Which TensorFlow.js backend the in-browser model runs on: the rules, apart from the browser
 * (tf-backends.ts starts the backends, in-browser.ts times them). The fastest of the browser's
 * backends is found by timing the model on each, once, and remembered by the page
 * (backend-memory.ts) under a key that changes with the models, the browser and whether the
 * page is cross-origin isolated (threads): any of those changing measures again.
 */

/** Fastest first where a GPU is there: WebGL; WebAssembly (SIMD, threads); plain JavaScript. */
export const BACKENDS = ['webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/**
 * What the page asks for (its `?backend=` parameter): one backend by name (tests, and a person
 * who wants to compare), `auto` (the default: the remembered or measured fastest), or
 * `measure` (measure every backend that starts, software WebGL too, and remember nothing).
 */
export type BackendRequest = BackendName | 'auto' | 'measure';

export function backendRequestFrom(search: string): BackendRequest {
  const asked = new URLSearchParams(search).get('backend');
  return asked === 'auto' || asked === 'measure' || BACKENDS.includes(asked as BackendName)
    ? (asked as BackendRequest)
    : 'auto';
}

/** Median ms of the timed readings, per backend measured. */
export type BackendTimes = Partial<Record<BackendName, number>>;

/** How the backend in use was chosen. */
export type ChoiceHow = 'asked' | 'only' | 'remembered' | 'measured';

export interface BackendChoice {
  readonly backend: BackendName;
  readonly how: ChoiceHow;
  /** What a remembered choice holds for (see choiceKey). */
  readonly key: string;
  /** The measurement this choice came from (empty if none was made). */
  readonly times: BackendTimes;
}

/** What to do on loading: start one backend, or time each of several. */
export type BackendPlan =
  | { readonly use: BackendName; readonly how: Exclude<ChoiceHow, 'measured'> }
  | { readonly measure: readonly BackendName[] };

/**
 * `candidates`: the backends worth trying here, best first (for `auto`, WebGL only on a GPU).
 * A backend asked for by name is used as asked; one candidate needs no measuring; a choice
 * remembered under the same key is used again.
 */
export function planBackend(
  request: BackendRequest,
  candidates: readonly BackendName[],
  key: string,
  remembered: BackendChoice | null,
): BackendPlan {
  if (request !== 'auto' && request !== 'measure') return { use: request, how: 'asked' };
  if (candidates.length === 0) return { use: 'cpu', how: 'only' };
  if (request === 'measure') return { measure: candidates };
  if (candidates.length === 1) return { use: candidates[0], how: 'only' };
  if (remembered && remembered.key === key && candidates.includes(remembered.backend)) {
    return { use: remembered.backend, how: 'remembered' };
  }
  return { measure: candidates };
}

/** The backend with the lowest time; ties go to the earlier in BACKENDS. */
export function fastest(times: BackendTimes): BackendName | null {
  let best: BackendName | null = null;
  for (const name of BACKENDS) {
    const ms = times[name];
    if (ms === undefined || !Number.isFinite(ms)) continue;
    if (best === null || ms < times[best]!) best = name;
  }
  return best;
}

/** Whether a measured choice is worth remembering: only `auto` measures remember. */
export function worthRemembering(request: BackendRequest, choice: BackendChoice): boolean {
  return request === 'auto' && choice.how === 'measured';
}

/**
 * The key a choice is remembered under: the models' fingerprint (a retrained or quantised
 * model can favour another backend), the browser, and whether threads are available.
 */
export function choiceKey(models: string, userAgent: string, isolated: boolean): string {
  return `${models}|${isolated ? 'isolated' : 'not-isolated'}|${userAgent}`;
}

/**
 * A short fingerprint of some texts and bytes (FNV-1a, 32 bits, hex): enough to tell one
 * model from another, with no secure context needed (crypto.subtle is not on plain http).
 */
export function fingerprint(parts: readonly (string | Uint8Array)[]): string {
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h = Math.imul(h ^ byte, 0x01000193);
  };
  for (const part of parts) {
    if (typeof part === 'string') {
      for (let i = 0; i < part.length; i++) {
        const c = part.charCodeAt(i);
        mix(c & 0xff);
        mix(c >>> 8);
      }
    } else {
      for (let i = 0; i < part.length; i++) mix(part[i]);
    }
    mix(0); // parts ["ab", "c"] and ["a", "bc"] differ
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

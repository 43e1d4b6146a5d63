/**
 * The page remembers the in-browser model's backend choice (backend-choice.ts) in localStorage,
 * which the recognition worker cannot reach: the page hands the remembered choice to the worker
 * with its `load` message and keeps what the worker measured.
 */
import { BACKENDS, type BackendChoice, type BackendName } from './backend-choice.ts';
import { browserStorage } from './browser-storage.ts';

const KEY = 'digits-backend';

type Store = Pick<Storage, 'getItem' | 'setItem'>;

export function rememberedChoice(storage: Store | null = browserStorage()): BackendChoice | null {
  try {
    const kept = JSON.parse(storage?.getItem(KEY) ?? 'null') as Partial<BackendChoice> | null;
    if (
      kept &&
      typeof kept.key === 'string' &&
      BACKENDS.includes(kept.backend as BackendName) &&
      typeof kept.times === 'object'
    ) {
      return { key: kept.key, backend: kept.backend!, how: 'remembered', times: kept.times ?? {} };
    }
  } catch {
    // Not ours, or damaged: measure again.
  }
  return null;
}

export function rememberChoice(choice: BackendChoice, storage: Store | null = browserStorage()) {
  try {
    storage?.setItem(KEY, JSON.stringify(choice));
  } catch {
    // Storage full or disabled: the next visit measures again.
  }
}

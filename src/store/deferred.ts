/**
 * A store opened on first use: every operation waits for the open to finish. An embedded
 * database takes from half a second to several on a busy machine to open (the first time it
 * creates itself), its WebAssembly runs on the main thread and holds about 0.4 GB, and
 * predictions do not need it: the server listens at once and pays for the database only
 * once corrections are used. If opening fails, every operation fails with
 * StoreUnavailableError saying why (and the next operation tries again).
 */
import { StoreUnavailableError, type CorrectionsChange, type CorrectionsStore } from './store.ts';

export function deferredStore(
  kind: CorrectionsStore['kind'],
  open: () => Promise<CorrectionsStore>,
): CorrectionsStore {
  let opening: Promise<CorrectionsStore> | null = null;
  let opened: CorrectionsStore | null = null;
  /** Watches asked for before the open: started on the store once it is open. */
  const watches = new Map<(change: CorrectionsChange) => void, (() => Promise<void>) | null>();
  const ready = () => {
    opening ??= open().then(
      (store) => {
        opened = store;
        for (const onChange of watches.keys()) watches.set(onChange, store.watch(onChange));
        return store;
      },
      (err: unknown) => {
        opening = null;
        throw new StoreUnavailableError(
          `the corrections database could not be opened: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      },
    );
    return opening;
  };
  return {
    kind,
    exclusive: kind === 'embedded',
    ready: async () => (await ready()).ready(),
    add: async (correction) => (await ready()).add(correction),
    list: async (user) => (await ready()).list(user),
    version: async (user) => (await ready()).version(user),
    deleteUser: async (user) => (await ready()).deleteUser(user),
    // Watching does not open the store: changes before the open are none of the watcher's.
    watch(onChange) {
      watches.set(onChange, opened?.watch(onChange) ?? null);
      return async () => {
        const stop = watches.get(onChange);
        watches.delete(onChange);
        await stop?.();
      };
    },
    async *all(batch) {
      yield* (await ready()).all(batch);
    },
    async close() {
      const store = await opening?.catch(() => null);
      await store?.close();
    },
  };
}

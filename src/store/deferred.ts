/**
 * A store opened on first use: every operation waits for the open to finish. An embedded
 * database takes from half a second to several on a busy machine to open (the first time it
 * creates itself), its WebAssembly runs on the main thread and holds about 0.4 GB, and
 * predictions do not need it: the server listens at once and pays for the database only
 * once corrections are used. If opening fails, every operation fails with
 * StoreUnavailableError saying why (and the next operation tries again).
 */
import { StoreUnavailableError, type CorrectionsStore } from './store.ts';

export function deferredStore(
  kind: CorrectionsStore['kind'],
  open: () => Promise<CorrectionsStore>,
): CorrectionsStore {
  let opening: Promise<CorrectionsStore> | null = null;
  const ready = () => {
    opening ??= open().catch((err: unknown) => {
      opening = null;
      throw new StoreUnavailableError(
        `the corrections database could not be opened: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    });
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
    async *all(batch) {
      yield* (await ready()).all(batch);
    },
    async close() {
      const store = await opening?.catch(() => null);
      await store?.close();
    },
  };
}

/**
 * A store that is still opening: every operation waits for the open to finish. An embedded
 * database takes from half a second to several on a busy machine to open (the first time it
 * creates itself), and the server should not wait for that before it listens; predictions do
 * not need the store. If opening fails, every operation fails with StoreUnavailableError
 * saying why.
 */
import { StoreUnavailableError, type CorrectionsStore } from './store.ts';

export function deferredStore(
  kind: CorrectionsStore['kind'],
  opening: Promise<CorrectionsStore>,
): CorrectionsStore {
  // The failure is reported by each operation; it must not also be an unhandled rejection.
  opening.catch(() => {});
  const ready = () =>
    opening.catch((err: unknown) => {
      throw new StoreUnavailableError(
        `the corrections database could not be opened: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    });
  return {
    kind,
    exclusive: kind === 'embedded',
    add: async (correction) => (await ready()).add(correction),
    list: async (user) => (await ready()).list(user),
    version: async (user) => (await ready()).version(user),
    deleteUser: async (user) => (await ready()).deleteUser(user),
    async *all(batch) {
      yield* (await ready()).all(batch);
    },
    async close() {
      const store = await opening.catch(() => null);
      await store?.close();
    },
  };
}

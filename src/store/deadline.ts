/**
 * Waiting at most so long for a database: past the deadline, StoreUnavailableError. A
 * transaction that is still running then must not commit behind the caller's back (the
 * client was told "nothing was changed"): it asks `mayCommit` before its COMMIT, which says
 * no once the deadline has passed. A COMMIT already sent is waited for, as its outcome is
 * what the caller must be told.
 */
import { StoreUnavailableError } from './store.ts';

export interface Deadline {
  /** Whether the work may still commit; once true, the deadline waits for the commit. */
  readonly mayCommit: () => boolean;
}

export function withDeadline<T>(
  work: (deadline: Deadline) => Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let expired = false;
  let committing = false;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (committing) return;
      expired = true;
      reject(
        new StoreUnavailableError(
          `the corrections database did not answer within ${ms} ms (${what})`,
        ),
      );
    }, ms);
    const mayCommit = () => {
      if (!expired) committing = true;
      return !expired;
    };
    work({ mayCommit })
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

/**
 * Waiting at most so long for a database: past the deadline, StoreUnavailableError. A
 * transaction that is still running then must not commit behind the caller's back (the
 * client was told "nothing was changed"): it asks `mayCommit` before its COMMIT, which says
 * no once the deadline has passed. A COMMIT already sent is waited for, as its outcome is
 * what the caller must be told.
 */
import { within } from '../core/deadline.ts';
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
  const mayCommit = () => {
    if (!expired) committing = true;
    return !expired;
  };
  // A work that throws at once rejects, as one that fails later does.
  const running = new Promise<T>((resolve) => resolve(work({ mayCommit })));
  return within(running, ms, () => {
    if (committing) return running;
    expired = true;
    throw new StoreUnavailableError(
      `the corrections database did not answer within ${ms} ms (${what})`,
    );
  });
}

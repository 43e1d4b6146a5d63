/**
 * Waiting for something at most so long: the page's wait for a user's corrections, the
 * store's for the database, a shutdown's for the requests in flight. One race, so that each
 * of them clears its timer (a timer left behind would keep a Node process alive) and none
 * lets a late rejection go unhandled.
 */

/**
 * What `work` settles to, or, if it has not within `ms`, what `late()` gives: a fallback
 * value, a rejection (late() throws), or `work` itself to go on waiting for it (a database
 * COMMIT already sent must be waited for). The timer is cleared either way.
 */
export function within<T, L = T>(
  work: Promise<T>,
  ms: number,
  late: () => L | PromiseLike<L>,
): Promise<T | L> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  }).then(late);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

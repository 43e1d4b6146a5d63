/**
 * How fast the inference workers really are. The costs in cost.ts are estimates for this
 * machine unloaded; a loaded machine (or a slower one) takes longer, and the admission bounds
 * (seconds of work, scheduler.ts) and placement (heavy pieces, placement.ts) must count in
 * real time. The pool writes it as answers come back; everything else only reads it.
 */

/** Estimated work (µs) the prior counts for: about two large images. */
const PRIOR_US = 100_000;
/** Each pass keeps this much of the past: the last few hundred passes count. */
const DECAY = 0.98;

/** What the scheduler reads: estimated cost (µs) the whole pool gets through a second. */
export interface PoolSpeed {
  readonly costPerSecond: number;
}

export class Speed implements PoolSpeed {
  /**
   * Measured worker time and estimated cost, decaying. Until the workers have answered a few
   * pieces, a prior of 100 ms of work taken twice as slow as estimated: the first requests of
   * a flood are admitted and placed as on a busy machine, not an idle one.
   */
  private actual = 2 * PRIOR_US;
  private estimated = PRIOR_US;
  private current = 2;

  constructor(private readonly workers: number) {}

  /** Measured worker time over estimated cost: 1 as estimated, 2 twice as slow (0.2 to 20). */
  get slowdown(): number {
    return this.current;
  }

  get costPerSecond(): number {
    return (this.workers * 1e6) / this.current;
  }

  /** A worker took `actualUs` for work estimated at `estimatedUs`. */
  learn(actualUs: number, estimatedUs: number): void {
    if (estimatedUs <= 0) return;
    this.actual = this.actual * DECAY + actualUs;
    this.estimated = this.estimated * DECAY + estimatedUs;
    this.current = Math.min(20, Math.max(0.2, this.actual / this.estimated));
  }
}

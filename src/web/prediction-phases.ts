/**
 * Where a prediction's time went, phase by phase: the detail of the page's
 * `digits:prediction:<where>` performance measure, which `npm run bench:web` reports so that
 * the slow phase is visible. Every phase is in ms; a phase the prediction did not go through
 * is absent.
 */
export interface PredictionPhases {
  /** The pad's (or the photo's) pixels taken, or its image encoded to be sent. */
  capture?: number;
  /** Waiting for the in-browser model to finish loading (the first answer only, at most). */
  modelWait?: number;
  /** In the browser: the drawing made ready to be read (line strips, or segmentation). */
  preprocess?: number;
  /** In the browser: the networks run (the line model, then the digit model). */
  inference?: number;
  /** In the browser: to the recognition worker and back, beyond the work it did. */
  transfer?: number;
  /** In the browser: the digits adapted to the user's corrections. */
  adaptation?: number;
  /**
   * Via the server: its own time for the request, from its first byte to its answer (its
   * Server-Timing header; the reading's `ms`, the recognition alone, where it sends none).
   */
  server?: number;
  /** Via the server: the round trip beyond the server's own time (network, the browser's fetch). */
  request?: number;
  /** The answer put on the page (the DOM work; the paint follows). */
  render?: number;
}

export type Phase = keyof PredictionPhases;

/** Times phases one after the other: each lap is the time since the previous one. */
export class PhaseClock {
  readonly phases: PredictionPhases = {};
  private last: number;

  constructor(readonly start = performance.now()) {
    this.last = start;
  }

  /** Ends the running phase, naming it; returns its duration. */
  lap(phase: Phase): number {
    const now = performance.now();
    const ms = now - this.last;
    this.last = now;
    this.add(phase, ms);
    return ms;
  }

  /** Adds a phase measured elsewhere (in the worker, on the server), rounded to 0.1 ms. */
  add(phase: Phase, ms: number): void {
    this.phases[phase] = Math.round(((this.phases[phase] ?? 0) + ms) * 10) / 10;
  }

  /** Restarts the running phase now (the time since the last lap belongs to no phase). */
  skip(): void {
    this.last = performance.now();
  }
}

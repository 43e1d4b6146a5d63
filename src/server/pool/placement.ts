/**
 * Which worker takes the next piece of work: one pure function of the workers' loads, the
 * clock and the measured speed. The pool asks it for every piece the fair scheduler offers.
 */

/**
 * A worker already holding work is handed another piece only while all of it stays within
 * this (µs, estimated): the single-image requests of 8 connections share forward passes
 * (bench:http), while a large image or a full piece is the only work at its worker. A worker
 * answers all the pieces of one pass together, so a digit beside a large image would wait
 * for the large image's decoding (bench:fair: a digit's pass took 85 ms instead of 5).
 */
export const WORKER_ROOM = 20_000;

/**
 * A piece expected to hold its worker longer than this (ms, at the measured speed) is heavy:
 * a 2048x2048 JPEG always, a 2048x2048 PNG on a busy machine. While light work is arriving
 * (admitted in the last LIGHT_RECENT_MS), and for the first LIGHT_RECENT_MS of heavy work
 * after a pause (light work may be on its way), heavy pieces are kept off one worker, so that
 * a single digit never waits behind one: that worker serves the light work and stays idle
 * otherwise. Heavy work alone for longer, or one worker, and every worker takes anything.
 */
const HEAVY_MS = 60;
const LIGHT_RECENT_MS = 1000;

/** What a ready worker holds. */
export interface WorkerLoad {
  /** Estimated cost (µs) of the pieces at it. */
  readonly cost: number;
  /** How many of them are heavy. */
  readonly heavy: number;
}

/** When light work last came, and since when heavy work has run without a pause (clock ms). */
export interface Traffic {
  readonly lightSeen: number;
  readonly heavySince: number;
}

/** Whether a piece of `cost` is heavy at this `slowdown` (speed.ts). */
export function isHeavy(cost: number, slowdown: number): boolean {
  return (cost * slowdown) / 1000 > HEAVY_MS;
}

/**
 * The index among the ready `workers` of the one that takes a piece of `cost` at `now`, or
 * undefined if none may. The least loaded worker with room is offered; it takes the piece if
 * the piece fits its room (an idle worker takes any piece) and, for a heavy piece while light
 * work is about, if another worker stays free of heavy work.
 */
export function placement(
  workers: readonly WorkerLoad[],
  cost: number,
  now: number,
  slowdown: number,
  traffic: Traffic,
): number | undefined {
  let best = -1;
  workers.forEach((worker, i) => {
    if (worker.cost < WORKER_ROOM && (best < 0 || worker.cost < workers[best].cost)) best = i;
  });
  if (best < 0) return undefined;
  const load = workers[best].cost;
  if (load > 0 && load + cost > WORKER_ROOM) return undefined;
  if (!isHeavy(cost, slowdown)) return best;
  const quiet =
    now - traffic.lightSeen > LIGHT_RECENT_MS && now - traffic.heavySince > LIGHT_RECENT_MS;
  if (quiet || workers.length === 1) return best;
  return workers.some((other, i) => i !== best && other.heavy === 0) ? best : undefined;
}

/** Keeps the times `placement` reads, as work is admitted, started and answered. */
export class RecentTraffic implements Traffic {
  lightSeen = -Infinity;
  heavySince = -Infinity;
  private heavyDone = -Infinity;

  /** Light work was admitted. */
  light(now: number): void {
    this.lightSeen = now;
  }

  /** A heavy piece goes to a worker; `alone`: no other heavy piece is running. */
  heavyStarts(now: number, alone: boolean): void {
    if (alone && now - this.heavyDone > LIGHT_RECENT_MS) this.heavySince = now;
  }

  heavyEnds(now: number): void {
    this.heavyDone = now;
  }
}

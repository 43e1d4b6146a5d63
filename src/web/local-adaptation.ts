/**
 * Adapting in-browser answers to the user's corrections, with the same code as the server
 * (src/core/adapt.ts): the corrections' feature vectors come from this browser's copy of
 * the network (in the recognition worker, asked through an AdaptationModel), built once and
 * again after every change. The corrections are this browser's
 * (the static build) or the server's (the server page in "In this browser" mode), so a
 * server that has gone away, or is slow to list them, must not hold the answer up: it is
 * then given unadapted, and the server is asked again a while later.
 */
import type { CorrectionMemory } from '../core/adapt.ts';
import { adaptDigits, buildMemory } from '../core/adaptation-steps.ts';
import { within } from '../core/deadline.ts';
import { withDigits, type Reading, type Recognition } from '../recognizer/answers.ts';
import type { CorrectionsBackend } from './corrections.ts';
import type { AdaptationModel } from './recognizer-features.ts';

export interface LocalAdaptationOptions {
  /** How long an answer waits for the corrections before it is given unadapted, ms. */
  readonly waitMs?: number;
  /** After the corrections could not be read, how long before they are asked for again, ms. */
  readonly retryMs?: number;
  readonly now?: () => number;
}

export class LocalAdaptation {
  private memory: Promise<CorrectionMemory> | null = null;
  private failedAt = -Infinity;
  private readonly waitMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly backend: CorrectionsBackend,
    options: LocalAdaptationOptions = {},
  ) {
    this.waitMs = options.waitMs ?? 1000;
    this.retryMs = options.retryMs ?? 30_000;
    this.now = options.now ?? (() => performance.now());
  }

  /** The corrections changed: the memory is built again on next use. */
  invalidate(): void {
    this.memory = null;
    this.failedAt = -Infinity;
  }

  /**
   * The recognitions (a number's digits) adapted to the corrections, their features taken in
   * one pass; as they were when the corrections cannot be read in time (the server is away or
   * slow, IndexedDB is unavailable).
   */
  async adapt<R extends Recognition>(
    model: AdaptationModel,
    recognitions: readonly R[],
  ): Promise<R[]> {
    const memory = await this.memoryWithin(model);
    // With no corrections, the answers are the model's as they were (no `adaptation` said).
    if (!memory || memory.size === 0 || recognitions.length === 0) return [...recognitions];
    return adaptDigits(recognitions, memory, model.features, model.thresholds);
  }

  /** Starts reading the corrections and building their memory, for the answers to come. */
  prepare(model: AdaptationModel): void {
    void this.memoryWithin(model);
  }

  /** A number read in this browser, its digits adapted as `adapt` does. */
  async adaptReading(model: AdaptationModel, reading: Reading): Promise<Reading> {
    return withDigits(reading, await this.adapt(model, reading.digits));
  }

  private memoryWithin(model: AdaptationModel): Promise<CorrectionMemory | null> {
    if (!this.memory && this.now() - this.failedAt < this.retryMs) return Promise.resolve(null);
    const loading = (this.memory ??= this.load(model));
    const failed = loading.catch(() => {
      if (this.memory === loading) {
        this.memory = null;
        this.failedAt = this.now();
      }
      return null;
    });
    return within(failed, this.waitMs, () => null);
  }

  private async load(model: AdaptationModel): Promise<CorrectionMemory> {
    const items = await this.backend.list();
    const { memory } = await buildMemory(items, model.features, model.featureSize);
    return memory;
  }
}

/**
 * Each user's corrections as the adaptation needs them (src/core/adapt.ts): their feature
 * vectors, kept in memory for the users seen lately. With a shared database (PostgreSQL),
 * before every adapted prediction the store is asked for the user's version (count and
 * newest id, one indexed query run while the workers recognize): a cache that is behind
 * (another instance took a correction, or the user forgot them) is rebuilt from the store,
 * so nothing deleted is used afterwards, whichever instance deleted it. The embedded
 * database has one writer, this process, which keeps the cache in step itself: no query. If the store does not answer within a short deadline, the
 * prediction is answered unadapted and the failure is logged.
 */
import type { FastifyBaseLogger } from 'fastify';
import {
  adaptAnswer,
  ADAPTATION,
  CorrectionMemory,
  type AdaptationInfo,
  type AdaptationParams,
} from '../core/adapt.ts';
import type { DigitReading, Reading, Recognition } from '../recognizer/recognizer.ts';
import { withDeadline } from '../store/deadline.ts';
import type { Correction, CorrectionsStore, UserVersion } from '../store/store.ts';
import { costOf } from './cost.ts';
import type { InferencePool } from './inference-pool.ts';

/** The longest a prediction waits for the store before answering unadapted. */
export const ADAPTATION_DEADLINE_MS = 300;
/** Users whose corrections stay in memory (least recently used go first). */
const MAX_CACHED_USERS = 1000;

export type { AdaptationInfo };

export type AdaptedRecognition = Recognition & { readonly adaptation?: AdaptationInfo };

export type AdaptedReading = Omit<Reading, 'digits'> & {
  readonly digits: (DigitReading & { readonly adaptation?: AdaptationInfo })[];
};

interface Entry {
  version: UserVersion;
  memory: CorrectionMemory;
}

const sameVersion = (a: UserVersion, b: UserVersion) =>
  a.count === b.count && a.lastId === b.lastId;

export class UserAdaptation {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly store: () => CorrectionsStore | null,
    private readonly pool: InferencePool,
    private readonly log: Pick<FastifyBaseLogger, 'warn'>,
    private readonly params: AdaptationParams = ADAPTATION,
    private readonly deadlineMs = ADAPTATION_DEADLINE_MS,
  ) {}

  /**
   * The user's corrections as a memory, up to date with the store; null when the store is
   * unavailable (the caller answers unadapted).
   */
  async memoryFor(user: string): Promise<CorrectionMemory | null> {
    const store = this.store();
    if (!store) return null;
    try {
      return await withDeadline(this.load(store, user), this.deadlineMs, 'adaptation');
    } catch (err) {
      this.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'corrections unavailable: answering unadapted',
      );
      return null;
    }
  }

  /** The model's answer adapted to `memory` (the user's corrections). */
  answer<R extends Recognition>(
    recognition: R,
    features: Float32Array,
    memory: CorrectionMemory,
  ): R & { adaptation: AdaptationInfo } {
    return adaptAnswer(recognition, features, memory, this.params);
  }

  /**
   * A number's digits adapted one by one. Reading does not keep the digits' features, so
   * they are taken in one more (small) pass over the digits' 28x28 inputs.
   */
  async adaptReading(reading: Reading, memory: CorrectionMemory): Promise<AdaptedReading> {
    if (reading.digits.length === 0) return reading;
    const features =
      memory.size === 0
        ? null
        : await this.pool.recognize(
            reading.digits.map((digit) =>
              costOf({
                kind: 'input',
                input: Float32Array.from(digit.input),
                ensemble: 'off',
                features: true,
              }),
            ),
          );
    const digits = reading.digits.map((digit, i): DigitReading & { adaptation: AdaptationInfo } => {
      const result = features?.[i];
      if (result?.ok && result.features) return this.answer(digit, result.features, memory);
      return {
        ...digit,
        adaptation: { corrections: memory.size, neighbours: 0, modelDigit: digit.digit },
      };
    });
    return { ...reading, text: digits.map((d) => d.digit).join(''), digits };
  }

  /** A correction just stored: added to the cached memory when the cache was up to date. */
  learned(
    correction: Correction,
    features: Float32Array | undefined,
    before: UserVersion | null,
  ): void {
    const entry = this.cache.get(correction.user);
    if (!entry || !features || !before || !sameVersion(entry.version, before)) {
      this.cache.delete(correction.user);
      return;
    }
    // A user cached with no corrections has a memory of no particular size yet.
    if (entry.memory.size === 0) entry.memory = new CorrectionMemory(features.length);
    entry.memory.add(features, correction.label);
    entry.version = { count: before.count + 1, lastId: correction.id };
  }

  /** The user's corrections were deleted: nothing of them stays here. */
  forget(user: string): void {
    this.cache.delete(user);
  }

  /** The cached version of a user, if any (to tell learned() what it was before). */
  cachedVersion(user: string): UserVersion | null {
    return this.cache.get(user)?.version ?? null;
  }

  private async load(store: CorrectionsStore, user: string): Promise<CorrectionMemory> {
    const cached = this.cache.get(user);
    const version = cached && store.exclusive ? cached.version : await store.version(user);
    if (cached && sameVersion(cached.version, version)) {
      // Most recently used last: the oldest entry is the first to go.
      this.cache.delete(user);
      this.cache.set(user, cached);
      return cached.memory;
    }
    const corrections = version.count === 0 ? [] : await store.list(user);
    const memory = await this.memoryOf(corrections);
    const loaded = corrections.length
      ? { count: corrections.length, lastId: corrections[corrections.length - 1].id }
      : { count: 0, lastId: 0 };
    this.cache.delete(user);
    this.cache.set(user, { version: loaded, memory });
    if (this.cache.size > MAX_CACHED_USERS) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
    return memory;
  }

  /** Feature vectors of stored corrections, from the workers (the same network). */
  private async memoryOf(corrections: Correction[]): Promise<CorrectionMemory> {
    const results = await this.pool.recognize(
      corrections.map((c) =>
        costOf({
          kind: 'input',
          input: Float32Array.from(c.input, (b) => b / 255),
          ensemble: 'off',
          features: true,
        }),
      ),
    );
    let memory: CorrectionMemory | null = null;
    results.forEach((result, i) => {
      if (!result.ok || !result.features)
        throw new Error(`correction ${corrections[i].id}: no features`);
      memory ??= new CorrectionMemory(result.features.length);
      memory.add(result.features, corrections[i].label);
    });
    return memory ?? new CorrectionMemory(0);
  }
}

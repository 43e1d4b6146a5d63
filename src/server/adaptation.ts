/**
 * Each user's corrections as the adaptation needs them (src/core/adapt.ts): their feature
 * vectors, kept in memory for the users seen lately, so that an adapted prediction costs no
 * database round trip.
 *
 * Staying correct across a fleet: the database announces every committed change (a trigger
 * and NOTIFY, store.watch()), and a write is answered only once every listening instance
 * has applied it (the store waits for their acknowledgements). While the announcements are
 * live, a cached user is used as it is: another instance's new correction marks the user
 * for a reload, a deletion drops the user at once. When the listening connection drops, and
 * again when it listens anew (changes may have been missed in between), no cached user is
 * trusted until the store confirms its version (count and newest id, one indexed query);
 * while not live, every adapted prediction asks that. The embedded database has one writer,
 * this process, which keeps the cache in step itself. Features are computed once per
 * correction: a reload reads the rows again but runs the network only on new ones.
 *
 * If the store does not answer within a short deadline, the prediction is answered
 * unadapted and the failure is logged.
 */
import type { FastifyBaseLogger } from 'fastify';
import {
  adaptAnswer,
  ADAPTATION,
  CorrectionMemory,
  type AdaptationInfo,
  type AdaptationParams,
} from '../core/adapt.ts';
import {
  adaptDigits,
  buildMemory,
  type FeatureExtractor,
  type Learned,
} from '../core/adaptation-steps.ts';
import { unitsOfBytes } from '../core/image.ts';
import { DEFAULT_THRESHOLDS, type UnsureThresholds } from '../core/unsure.ts';
import { withDigits, type Reading, type Recognition } from '../recognizer/answers.ts';
import { withDeadline } from '../store/deadline.ts';
import type {
  Correction,
  CorrectionsChange,
  CorrectionsStore,
  UserVersion,
} from '../store/store.ts';
import { costOf } from './cost.ts';
import type { InferencePool, RunOptions } from './inference-pool.ts';

/** The longest a prediction waits for the store before answering unadapted. */
export const ADAPTATION_DEADLINE_MS = 300;
/** Users whose corrections stay in memory (least recently used go first). */
const MAX_CACHED_USERS = 1000;

export type { AdaptationInfo };

interface Entry {
  /** Each correction's features and label, by id. */
  readonly known: Map<number, Learned>;
  memory: CorrectionMemory;
  /** The store's version when read; null once changed here (the rows are read again). */
  version: UserVersion | null;
  /**
   * Whether announcements have been live since the version was read (or checked): only then
   * is the entry used without asking. Cleared whenever they stop or start again.
   */
  heard: boolean;
  /** Corrections announced but not in `known`: the user is read again before use. */
  readonly missing: Set<number>;
}

/** A read of one user's corrections under way: not cached if the user changed meanwhile. */
interface Load {
  readonly user: string;
  /** Who asked first: the features of the user's corrections are that client's work. */
  readonly client: string | undefined;
  readonly epoch: number;
  current: boolean;
  /** Corrections of the user added since the read began: kept only if it has them all. */
  readonly added: number[];
  promise?: Promise<Found>;
}

/** How adapted predictions found their user's corrections (for /metrics). */
export interface AdaptationLookups {
  /** From memory, no database round trip (announcements live, or the embedded store). */
  cached: number;
  /** From memory after asking the store for the user's version (announcements not live). */
  checked: number;
  /** Read from the store (a user not cached, or changed). */
  loaded: number;
  /** The store did not answer: unadapted. */
  unavailable: number;
}

interface Found {
  readonly memory: CorrectionMemory | null;
  readonly how: keyof AdaptationLookups;
}

const sameVersion = (a: UserVersion, b: UserVersion) =>
  a.count === b.count && a.lastId === b.lastId;

export class UserAdaptation {
  private readonly cache = new Map<string, Entry>();
  /** Reads under way, by user; while live, one read serves the user's concurrent requests. */
  private readonly loads = new Map<string, Set<Load>>();
  private readonly shared = new Map<string, Load>();
  /** Bumped whenever everything cached is forgotten: reads begun before are not cached. */
  private epoch = 0;
  private watching: CorrectionsStore | null = null;
  private stopWatching: (() => Promise<void>) | null = null;
  /** Whether the store's announcements are being received. */
  private live = false;
  readonly lookups: AdaptationLookups = { cached: 0, checked: 0, loaded: 0, unavailable: 0 };

  constructor(
    private readonly store: () => CorrectionsStore | null,
    private readonly pool: InferencePool,
    private readonly log: Pick<FastifyBaseLogger, 'warn' | 'info'>,
    private readonly params: AdaptationParams = ADAPTATION,
    private readonly deadlineMs = ADAPTATION_DEADLINE_MS,
  ) {}

  /** Whether a cached user is used without asking the database. */
  get trusted(): boolean {
    return this.live || this.watching?.exclusive === true;
  }

  /**
   * The user's corrections as a memory, up to date with the store; null when the store is
   * unavailable (the caller answers unadapted).
   */
  async memoryFor(user: string, client?: string): Promise<CorrectionMemory | null> {
    const found = await this.find(user, client);
    this.lookups[found.how]++;
    return found.memory;
  }

  /**
   * `work` (the recognition) and the user's corrections. While cached users are trusted, the
   * memory is taken once the work is done, so that an announcement arriving meanwhile (a
   * deletion on another instance just before this request) is heeded; a user not cached is
   * read while the work runs. Reading them is `client`'s work, as the request's own is.
   */
  async withMemory<T>(
    user: string,
    work: Promise<T>,
    client?: string,
  ): Promise<[T, CorrectionMemory | null]> {
    const store = this.store();
    if (store) this.watch(store);
    if (!this.trusted) return Promise.all([work, this.memoryFor(user, client)]);
    const entry = this.cache.get(user);
    const early = entry && this.usable(entry) ? null : this.find(user, client);
    const result = await work;
    const late = await this.find(user, client);
    // Read while the work ran and still good: that is how this request found them.
    const how = late.how === 'cached' && early ? (await early).how : late.how;
    this.lookups[how]++;
    return [result, late.memory];
  }

  /** The user's memory and how it was found (not counted). */
  private async find(user: string, client: string | undefined): Promise<Found> {
    const store = this.store();
    if (!store) return { memory: null, how: 'unavailable' };
    this.watch(store);
    const entry = this.cache.get(user);
    if (entry && this.usable(entry)) {
      this.touch(user, entry);
      return { memory: entry.memory, how: 'cached' };
    }
    try {
      return await withDeadline(
        () => this.load(store, user, client),
        this.deadlineMs,
        'adaptation',
      );
    } catch (err) {
      this.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'corrections unavailable: answering unadapted',
      );
      return { memory: null, how: 'unavailable' };
    }
  }

  /** The model's answer adapted to `memory` (the user's corrections). */
  answer<R extends Recognition>(
    recognition: R,
    features: Float32Array,
    memory: CorrectionMemory,
  ): R & { adaptation: AdaptationInfo } {
    return adaptAnswer(recognition, features, memory, this.thresholds, this.params);
  }

  /** Adapted answers come after the model has loaded, which is when its thresholds are known. */
  private get thresholds(): UnsureThresholds {
    return this.pool.model?.thresholds ?? DEFAULT_THRESHOLDS;
  }

  /** Features from the workers (the same network), in one pass, as `run`'s work. */
  private featuresAs(run: Pick<RunOptions, 'client' | 'signal'>): FeatureExtractor {
    return async (inputs) => {
      const outcomes = await this.pool.recognize(
        inputs.map((input) =>
          costOf({
            kind: 'input',
            input: Float32Array.from(input),
            ensemble: 'off',
            features: true,
          }),
        ),
        run,
      );
      return outcomes.map((outcome) => (outcome.ok && outcome.features) || null);
    };
  }

  /**
   * A number's digits adapted one by one. Reading does not keep the digits' features, so
   * they are taken in one more (small) pass over the digits' 28x28 inputs, the request's
   * work (its client, and its going away; not its body's size, which the read was). A pass
   * refused (the client over its budget) leaves the reading unadapted, not failed: it is
   * read already.
   */
  async adaptReading(
    reading: Reading,
    memory: CorrectionMemory,
    run: Pick<RunOptions, 'client' | 'signal'>,
  ): Promise<Reading> {
    if (reading.digits.length === 0) return reading;
    let digits: Reading['digits'];
    try {
      digits = await adaptDigits(
        reading.digits,
        memory,
        this.featuresAs({ client: run.client, signal: run.signal }),
        this.thresholds,
        this.params,
      );
    } catch (err) {
      this.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'the features of a read were refused: answering unadapted',
      );
      return reading;
    }
    // The text, and whether any digit is unsure, follow the adapted digits.
    return withDigits(reading, digits);
  }

  /** Starts listening to the store's announcements now rather than on first use. */
  start(): void {
    const store = this.store();
    if (store) this.watch(store);
  }

  /** A correction just stored by this instance: added to the user's memory if cached. */
  learned(correction: Correction, features: Float32Array | undefined): void {
    const user = correction.user;
    // A read under way may have missed it.
    this.noteAdded(user, correction.id);
    const entry = this.cache.get(user);
    if (!entry) return;
    if (!features) {
      this.cache.delete(user);
      return;
    }
    this.addKnown(entry, correction.id, { features, label: correction.label });
    // What else the store holds now is not known here: while not live, read it next time.
    entry.version = null;
  }

  /** The user's corrections were deleted: nothing of them stays here. */
  forget(user: string): void {
    this.cache.delete(user);
    this.invalidateLoads(user);
  }

  /** Stops listening to the store's announcements (the app closes). */
  async close(): Promise<void> {
    const stop = this.stopWatching;
    this.stopWatching = null;
    this.watching = null;
    this.live = false;
    await stop?.();
  }

  private watch(store: CorrectionsStore): void {
    if (this.watching === store) return;
    const previous = this.stopWatching;
    this.watching = store;
    this.live = false;
    this.flush();
    void previous?.();
    this.stopWatching = store.watch((change) => this.onChange(change));
  }

  private onChange(change: CorrectionsChange): void {
    switch (change.kind) {
      case 'added': {
        const entry = this.cache.get(change.user);
        if (entry && !entry.known.has(change.id)) entry.missing.add(change.id);
        this.noteAdded(change.user, change.id);
        break;
      }
      case 'deleted':
        this.forget(change.user);
        break;
      case 'cleared':
        this.flush();
        break;
      case 'live':
      case 'lost':
        this.live = change.kind === 'live';
        this.distrust();
        this.log.info(
          { live: this.live },
          this.live
            ? 'corrections announcements live: cached users are used without a query'
            : 'corrections announcements lost: every adapted prediction asks the database until they are back',
        );
        break;
    }
  }

  /** A cached entry used as it is, with no query. */
  private usable(entry: Entry): boolean {
    return (
      entry.missing.size === 0 && (this.watching?.exclusive === true || (this.live && entry.heard))
    );
  }

  /**
   * Announcements may have been missed: no cached user is used before its version is checked
   * (features stay: a correction's never change), and reads under way are not kept.
   */
  private distrust(): void {
    for (const entry of this.cache.values()) entry.heard = false;
    this.invalidateAll();
  }

  private flush(): void {
    this.cache.clear();
    this.invalidateAll();
  }

  private invalidateAll(): void {
    this.epoch++;
    for (const loads of this.loads.values()) for (const load of loads) load.current = false;
    this.shared.clear();
  }

  /** Reads under way may lack the correction; later requests do not join them. */
  private noteAdded(user: string, id: number): void {
    for (const load of this.loads.get(user) ?? []) load.added.push(id);
    this.shared.delete(user);
  }

  private invalidateLoads(user: string): void {
    for (const load of this.loads.get(user) ?? []) load.current = false;
    this.shared.delete(user);
  }

  private load(store: CorrectionsStore, user: string, client: string | undefined): Promise<Found> {
    const trusted = this.trusted;
    const shared = trusted ? this.shared.get(user) : undefined;
    if (shared?.current && shared.promise) return shared.promise;
    const load: Load = { user, client, epoch: this.epoch, current: true, added: [] };
    const loads = this.loads.get(user) ?? new Set<Load>();
    loads.add(load);
    this.loads.set(user, loads);
    load.promise = this.read(store, load, trusted).finally(() => {
      loads.delete(load);
      if (loads.size === 0 && this.loads.get(user) === loads) this.loads.delete(user);
      if (this.shared.get(user) === load) this.shared.delete(user);
    });
    if (trusted) this.shared.set(user, load);
    return load.promise;
  }

  private async read(store: CorrectionsStore, load: Load, trusted: boolean): Promise<Found> {
    const { user } = load;
    const entry = this.cache.get(user);
    const kept = (ids?: Set<number>) =>
      load.current && load.epoch === this.epoch && load.added.every((id) => ids?.has(id) === true);
    if (entry?.version && entry.missing.size === 0) {
      const version = await store.version(user);
      if (sameVersion(version, entry.version)) {
        // Checked while listening: changes from now on are announced.
        if (trusted && kept()) entry.heard = true;
        if (this.cache.get(user) === entry) this.touch(user, entry);
        return { memory: entry.memory, how: 'checked' };
      }
    }
    const corrections = await store.list(user);
    // Features are computed once per correction: those known already are passed back. Reading
    // them is the first asker's work, and not dropped when that client goes away: other
    // requests of the user may be waiting for the same read.
    const { memory, learned } = await buildMemory(
      corrections.map(
        (c) => entry?.known.get(c.id) ?? { label: c.label, input: unitsOfBytes(c.input) },
      ),
      this.featuresAs({ client: load.client }),
    );
    const fresh: Entry = {
      known: new Map(corrections.map((c, i) => [c.id, learned[i]])),
      memory,
      version: corrections.length
        ? { count: corrections.length, lastId: corrections[corrections.length - 1].id }
        : { count: 0, lastId: 0 },
      missing: new Set(),
      heard: trusted,
    };
    // A user changed (or everything forgotten) since this read began: used for this request,
    // which was under way at the change, but not kept.
    if (kept(new Set(fresh.known.keys()))) this.touch(user, fresh);
    return { memory: fresh.memory, how: 'loaded' };
  }

  private addKnown(entry: Entry, id: number, learned: Learned): void {
    entry.missing.delete(id);
    if (entry.known.has(id)) return;
    // A memory of no corrections has no particular size yet.
    if (entry.memory.size === 0) entry.memory = new CorrectionMemory(learned.features.length);
    entry.known.set(id, learned);
    entry.memory.add(learned.features, learned.label);
  }

  /** Caches the user as the most recently used; the least recently used beyond the cap go. */
  private touch(user: string, entry: Entry): void {
    this.cache.delete(user);
    this.cache.set(user, entry);
    if (this.cache.size > MAX_CACHED_USERS) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
  }
}

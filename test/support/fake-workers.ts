/**
 * Fake inference worker threads for the pool's unit tests: nothing loads or recognizes; the
 * test says when a worker is ready, answers, fails or dies. Each fake answers an input with a
 * failure whose message is the input's `width`, so a test can tell which input got which answer.
 */
import { DEFAULT_THRESHOLDS } from '../../src/core/unsure.ts';
import type { CostedInput } from '../../src/server/cost.ts';
import type { ToWorker, WorkInput, WorkResult } from '../../src/server/inference-protocol.ts';
import type { StartWorker, ThreadEvents, WorkerThread } from '../../src/server/pool/workers.ts';

export const MODEL = { name: 'fake', params: 1, thresholds: DEFAULT_THRESHOLDS };

export class FakeThread implements WorkerThread {
  /** Messages posted and not yet answered. */
  readonly inbox: ToWorker[] = [];
  terminated = false;

  constructor(private readonly events: ThreadEvents) {}

  post(message: ToWorker): void {
    this.inbox.push(message);
  }

  terminate(): Promise<number> {
    if (this.terminated) return Promise.resolve(1);
    this.terminated = true;
    // As a thread does: 'exit' first, then the promise.
    return Promise.resolve().then(() => {
      this.events.exit(1);
      return 1;
    });
  }

  ready(tensors = 3): void {
    this.events.message({ type: 'ready', model: MODEL, tensors });
  }

  /** Answers the oldest `count` messages (default all) in one pass that took `ms`. */
  answer(count = this.inbox.length, ms = 1): void {
    const answers = this.inbox.splice(0, count).map((task) => ({
      id: task.id,
      results: task.inputs.map(answerOf),
    }));
    this.events.message({ type: 'results', answers, ms, tensors: 3 });
  }

  failLoading(message = 'no model here'): void {
    this.events.message({ type: 'failed', message });
  }

  /** The recognizer broke (after answering what it had): the worker should be replaced. */
  fatal(): void {
    this.events.message({ type: 'fatal', message: 'wasm heap aborted' });
  }

  /** The thread dies on its own. */
  crash(code = 1): void {
    this.terminated = true;
    this.events.exit(code);
  }
}

function answerOf(input: WorkInput): WorkResult {
  return {
    ok: false,
    code: 'empty_image',
    message: String(input.kind === 'pixels' ? input.width : -1),
  };
}

/** A worker factory that keeps the fakes it started, oldest first. */
export function fakeWorkers(): { start: StartWorker; threads: FakeThread[] } {
  const threads: FakeThread[] = [];
  const start: StartWorker = (events) => {
    const thread = new FakeThread(events);
    threads.push(thread);
    return thread;
  };
  return { start, threads };
}

/** An input labelled `label` (its answer's message) with an estimated `cost` (µs). */
export function costed(label: number, cost: number): CostedInput {
  const input: WorkInput = {
    kind: 'pixels',
    pixels: new Float32Array(1),
    width: label,
    height: 1,
    ink: 'dark',
    ensemble: 'off',
  };
  return { input, pixels: 1, cost };
}

/** The labels of answers made by FakeThread. */
export function labels(results: readonly { ok: boolean; message?: string }[]): number[] {
  return results.map((result) => Number(result.message));
}

/** Lets promise callbacks run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

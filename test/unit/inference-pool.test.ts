/**
 * The inference pool with fake workers and a fake clock: how work flows from admission to
 * answers, and what a client going away, a worker dying, a failed model and closing do to it.
 */
import { describe, expect, it } from 'vitest';
import type { CostedInput } from '../../src/server/cost.ts';
import { InferencePool } from '../../src/server/inference-pool.ts';
import { costed, fakeWorkers, labels, settle } from '../support/fake-workers.ts';

function pool(size = 1) {
  const fakes = fakeWorkers();
  let clock = 0;
  const inference = new InferencePool({ size, startWorker: fakes.start, now: () => clock });
  return {
    pool: inference,
    threads: fakes.threads,
    advance: (ms: number) => (clock += ms),
  };
}

const inputs = (from: number, count: number, cost: number): CostedInput[] =>
  Array.from({ length: count }, (_, i) => costed(from + i, cost));

/** The labels of the inputs a fake thread holds, message by message. */
const held = (thread: { inbox: { inputs: unknown[] }[] }) =>
  thread.inbox.map((task) => task.inputs.length);

describe('InferencePool', () => {
  it('keeps work until a worker is ready, then answers every input in order', async () => {
    const { pool: p, threads } = pool();
    const answer = p.recognize(inputs(0, 20, 2_000));
    expect(p.depth).toMatchObject({ requests: 1, pieces: 2, images: 20 });
    expect(threads[0].inbox).toHaveLength(0);
    threads[0].ready();
    // 16 inputs then 4: the second piece would not fit beside the first (WORKER_ROOM).
    expect(held(threads[0])).toEqual([16]);
    threads[0].answer();
    expect(held(threads[0])).toEqual([4]);
    threads[0].answer();
    expect(labels(await answer)).toEqual([...Array(20).keys()]);
    expect(p.recognizedInputs).toBe(20);
    expect(p.depth).toEqual({ requests: 0, pieces: 0, images: 0, seconds: 0, clients: 0 });
  });

  it("serves another client's single input after one piece of a large batch", async () => {
    const { pool: p, threads } = pool();
    threads[0].ready();
    const batch = p.recognize(inputs(0, 48, 2_000), { client: 'batch' });
    const single = p.recognize(inputs(100, 1, 2_000), { client: 'single' });
    let singleDone = false;
    void single.then(() => (singleDone = true));
    threads[0].answer();
    expect(held(threads[0])).toEqual([1]);
    threads[0].answer();
    await settle();
    expect(singleDone).toBe(true);
    expect(p.depth.pieces).toBe(1);
    while (threads[0].inbox.length) threads[0].answer();
    expect(labels(await batch)).toHaveLength(48);
  });

  it('drops the work of a client that went away; the piece at a worker finishes unused', async () => {
    const { pool: p, threads } = pool();
    threads[0].ready();
    const gone = new AbortController();
    const answer = p.recognize(inputs(0, 64, 1_000), { signal: gone.signal });
    expect(p.depth.pieces).toBe(3);
    gone.abort();
    await expect(answer).rejects.toMatchObject({ statusCode: 499, code: 'client_closed' });
    expect(p.depth).toMatchObject({ requests: 1, pieces: 0 }); // its piece at the worker
    threads[0].answer();
    expect(p.depth.requests).toBe(0);
    expect(threads[0].inbox).toHaveLength(0);
    expect(p.recognizedInputs).toBe(16);
  });

  it('fails the requests a dying worker held, drops their waiting work, and goes on with a new worker', async () => {
    const { pool: p, threads } = pool();
    threads[0].ready();
    const held = p.recognize(inputs(0, 32, 1_000), { client: 'a' });
    threads[0].crash();
    await expect(held).rejects.toMatchObject({ statusCode: 500, code: 'internal_error' });
    expect(p.depth.requests).toBe(0);
    expect(threads).toHaveLength(2);
    const next = p.recognize(inputs(0, 2, 1_000), { client: 'a' });
    threads[1].ready();
    threads[1].answer();
    expect(labels(await next)).toEqual([0, 1]);
    expect(p.state).toBe('ready');
  });

  it('refuses every request when the model cannot be loaded, the waiting ones included', async () => {
    const { pool: p, threads } = pool(2);
    const waiting = p.recognize(inputs(0, 1, 1_000));
    threads[0].failLoading('weights.bin is missing');
    await expect(waiting).rejects.toMatchObject({ statusCode: 503, code: 'model_unavailable' });
    await expect(p.recognize(inputs(0, 1, 1_000))).rejects.toMatchObject({
      code: 'model_unavailable',
      message: expect.stringMatching(/weights\.bin is missing/),
    });
    expect(p.state).toBe('failed');
    expect(p.shed.get('unavailable')).toBe(1);
  });

  it('on close refuses new work, finishes what it admitted, then stops the workers', async () => {
    const { pool: p, threads } = pool();
    threads[0].ready();
    const admitted = p.recognize(inputs(0, 20, 1_000));
    const closed = p.close();
    expect(p.state).toBe('closing');
    await expect(p.recognize(inputs(0, 1, 1_000))).rejects.toMatchObject({ code: 'not_ready' });
    threads[0].answer();
    threads[0].answer();
    expect(labels(await admitted)).toHaveLength(20);
    await closed;
    expect(p.state).toBe('closed');
    expect(threads[0].terminated).toBe(true);
  });

  it('closed before any worker is ready, refuses the work waiting instead of keeping it for ever', async () => {
    const { pool: p } = pool();
    const waiting = p.recognize(inputs(0, 1, 1_000));
    await p.close();
    await expect(waiting).rejects.toMatchObject({ statusCode: 503, code: 'not_ready' });
    await expect(p.whenReady()).rejects.toThrow(/closed before it was ready/);
  });

  it('keeps heavy pieces off one worker while light work is about', () => {
    const { pool: p, threads, advance } = pool(2);
    threads.forEach((t) => t.ready());
    advance(5_000);
    void p.recognize(inputs(0, 1, 1_000), { client: 'light' }).catch(() => {});
    threads[0].answer();
    void p.recognize(inputs(10, 3, 100_000), { client: 'heavy' }).catch(() => {});
    expect(threads.map((t) => t.inbox.length)).toEqual([1, 0]);
    // A light request goes to the worker kept free, at once.
    void p.recognize(inputs(20, 1, 1_000), { client: 'light' }).catch(() => {});
    expect(threads.map((t) => t.inbox.length)).toEqual([1, 1]);
  });

  it('counts the seconds of work waiting at the speed its workers measured', () => {
    const { pool: p, threads } = pool();
    threads[0].ready();
    void p.recognize(inputs(0, 1, 15_000), { client: 'a' });
    void p.recognize(inputs(1, 1, 15_000), { client: 'b' });
    expect(p.depth.seconds).toBeCloseTo(30_000 / 5e5); // the prior: twice as slow as estimated
    threads[0].answer(1, 300); // 300 ms for 15 ms estimated
    expect(p.depth.seconds).toBeGreaterThan(15_000 / 5e5);
  });
});

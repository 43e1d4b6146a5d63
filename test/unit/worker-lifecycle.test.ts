/**
 * The workers' lifecycle with fake threads: started, ready once every one has loaded the
 * model, replaced when one dies after loading it, never when it could not load it, and
 * stopped on close.
 */
import { describe, expect, it, vi } from 'vitest';
import { Workers, type WorkerListener } from '../../src/server/pool/workers.ts';
import { fakeWorkers, MODEL, settle } from '../support/fake-workers.ts';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function workers(size = 2) {
  const fakes = fakeWorkers();
  const listener = {
    ready: vi.fn(),
    results: vi.fn(),
    exited: vi.fn(),
    failed: vi.fn(),
  } satisfies WorkerListener<string>;
  const set = new Workers<string>(size, fakes.start, quiet, listener);
  return { set, threads: fakes.threads, listener };
}

describe('Workers', () => {
  it('is starting until every worker has loaded the model, then ready', async () => {
    const { set, threads, listener } = workers();
    expect(threads).toHaveLength(2);
    expect(set.state).toBe('starting');
    threads[0].ready();
    expect(set.state).toBe('starting');
    expect(set.available).toHaveLength(1);
    expect(listener.ready).toHaveBeenCalledTimes(1);
    threads[1].ready();
    expect(set.state).toBe('ready');
    await expect(set.whenReady()).resolves.toEqual(MODEL);
    expect(set.model).toEqual(MODEL);
  });

  it('replaces a worker whose recognizer failed, handing back the work it held', async () => {
    const { set, threads, listener } = workers();
    threads.forEach((t) => t.ready());
    const [first] = set.available;
    set.send(first, 'piece', (id) => ({ type: 'recognize', id, inputs: [] }), []);
    threads[0].fatal();
    expect(set.available).toHaveLength(1); // it takes no more work
    expect(threads[0].terminated).toBe(true);
    await settle();
    expect(listener.exited).toHaveBeenCalledWith(['piece']);
    expect(threads).toHaveLength(3);
    expect(set.state).toBe('ready');
    threads[2].ready();
    expect(set.available).toHaveLength(2);
  });

  it('replaces a worker that died on its own after loading the model', () => {
    const { set, threads } = workers(1);
    threads[0].ready();
    threads[0].crash();
    expect(threads).toHaveLength(2);
    expect(set.state).toBe('ready');
    expect(set.available).toHaveLength(0);
  });

  it('fails, and starts no other, when a worker cannot load the model', async () => {
    const { set, threads, listener } = workers();
    threads[0].failLoading('no weights');
    expect(set.state).toBe('failed');
    expect(set.failureMessage).toBe('no weights');
    expect(listener.failed).toHaveBeenCalledTimes(1);
    await expect(set.whenReady()).rejects.toThrow(/could not be loaded: no weights/);
    await settle();
    expect(threads).toHaveLength(2);
    expect(set.open).toBe(false);
  });

  it('fails when a worker dies before loading the model', async () => {
    const { set, threads } = workers();
    threads[1].ready();
    threads[0].crash(7);
    expect(set.state).toBe('failed');
    expect(set.failureMessage).toMatch(/exited with code 7 while loading/);
    await expect(set.whenReady()).rejects.toThrow();
    expect(threads).toHaveLength(2);
  });

  it('replaces none while closing, and stops every worker on terminate', async () => {
    const { set, threads } = workers();
    threads.forEach((t) => t.ready());
    set.closing();
    expect(set.state).toBe('closing');
    expect(set.open).toBe(false);
    threads[0].crash();
    expect(threads).toHaveLength(2);
    await set.terminate();
    expect(set.state).toBe('closed');
    expect(threads[1].terminated).toBe(true);
    expect(set.alive).toHaveLength(0);
  });

  it('rejects readiness when closed before the model was loaded', async () => {
    const { set } = workers();
    await set.terminate();
    await expect(set.whenReady()).rejects.toThrow(/closed before it was ready/);
  });

  it('keeps work at its worker until answered, by id', () => {
    const { set, threads } = workers(1);
    threads[0].ready();
    const [worker] = set.available;
    set.send(worker, 'a', (id) => ({ type: 'recognize', id, inputs: [] }), []);
    const id = threads[0].inbox[0].id;
    expect(set.take(worker, id)).toBe('a');
    expect(set.take(worker, id)).toBeUndefined();
  });
});

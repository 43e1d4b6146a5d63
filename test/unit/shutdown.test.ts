/**
 * gracefulShutdown (src/server/shutdown.ts) with a stand-in server: the order of drain, delay
 * and close, repeated signals, and the timeout. test/api/shutdown.test.ts runs the real
 * process under npm and signals its whole process group.
 */
import { describe, expect, it } from 'vitest';
import { gracefulShutdown, type Drainable } from '../../src/server/shutdown.ts';

interface Recorder extends Drainable {
  readonly events: string[];
  readonly exits: number[];
}

function fakeServer(close: () => Promise<void>): Recorder {
  const events: string[] = [];
  return {
    events,
    exits: [],
    drain: () => events.push('drain'),
    close: () => {
      events.push('close');
      return close();
    },
  };
}

const silentLog = { info: () => {}, warn: () => {}, error: () => {} };

function shutdownOf(server: Recorder, delayMs: number, timeoutMs: number) {
  return gracefulShutdown(server, {
    delayMs,
    timeoutMs,
    log: silentLog,
    exit: (code) => {
      server.events.push(`exit ${code}`);
      server.exits.push(code);
    },
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('gracefulShutdown', () => {
  it('drains at once, closes after the delay, exits 0', async () => {
    const server = fakeServer(() => sleep(20));
    const stop = shutdownOf(server, 60, 1_000);
    const done = stop('SIGTERM');
    expect(server.events).toEqual(['drain']);
    await sleep(30);
    expect(server.events).toEqual(['drain']); // still serving during the delay
    await done;
    expect(server.events).toEqual(['drain', 'close', 'exit 0']);
  });

  it('a repeated signal neither cuts the drain short nor closes twice', async () => {
    let finish!: () => void;
    const server = fakeServer(() => new Promise<void>((resolve) => (finish = resolve)));
    const stop = shutdownOf(server, 0, 5_000);
    const first = stop('SIGTERM');
    await sleep(5);
    const second = stop('SIGTERM');
    const third = stop('SIGINT');
    await sleep(20);
    expect(server.exits).toEqual([]); // the requests in flight are still being answered
    finish();
    await Promise.all([first, second, third]);
    expect(server.events).toEqual(['drain', 'close', 'exit 0']);
  });

  it('exits 1 when the requests in flight outlast the timeout', async () => {
    const server = fakeServer(() => new Promise<void>(() => {}));
    const started = Date.now();
    await shutdownOf(server, 0, 50)('SIGINT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(server.events).toEqual(['drain', 'close', 'exit 1']);
  });

  it('exits 1 when closing fails', async () => {
    const server = fakeServer(() => Promise.reject(new Error('worker stuck')));
    await shutdownOf(server, 0, 1_000)('parent-exited');
    expect(server.exits).toEqual([1]);
  });
});

/**
 * The fair scheduler alone (no workers): deficit round-robin by cost across clients, the
 * admission bounds and what they answer, and that finishing or cancelling work releases it.
 */
import { describe, expect, it } from 'vitest';
import {
  FairScheduler,
  Ticket,
  type Piece,
  type Refusal,
  type SchedulerLimits,
} from '../../src/server/scheduler.ts';

const LIMITS: SchedulerLimits = {
  clientSeconds: 10,
  clientRequests: 8,
  waitSeconds: 20,
  totalRequests: 100,
  totalImages: 10_000,
};

/** Speed 1,000 cost a second: a piece of cost 1,000 is one second of the pool. */
function scheduler(limits: Partial<SchedulerLimits> = {}, speed = { costPerSecond: 1000 }) {
  return new FairScheduler<string>({ ...LIMITS, ...limits }, 500, speed);
}

const pieces = (name: string, count: number, cost: number): Piece<string>[] =>
  Array.from({ length: count }, (_, i) => ({ cost, work: `${name}${i}` }));

function admitted(result: Ticket | Refusal): Ticket {
  if (!(result instanceof Ticket)) throw new Error(`refused: ${result.message}`);
  return result;
}

function refused(result: Ticket | Refusal): Refusal {
  if (result instanceof Ticket) throw new Error('admitted');
  return result;
}

/** Takes every piece in the order the scheduler hands them out, finishing each at once. */
function drain(s: FairScheduler<string>): string[] {
  const order: string[] = [];
  for (let next = s.next(); next; next = s.next()) {
    order.push(next.piece.work);
    s.finish(next.ticket, next.piece);
  }
  return order;
}

describe('FairScheduler', () => {
  it("serves a small request after one piece of another client's large backlog", () => {
    const s = scheduler();
    admitted(s.admit('big', pieces('a', 20, 400), 20));
    const first = s.next();
    expect(first?.piece.work).toBe('a0');
    admitted(s.admit('small', pieces('b', 1, 50), 1));
    // The large client finishes the turn it had started, then the small one goes.
    const order = [first?.piece.work, ...drain(s)];
    expect(order.indexOf('b0')).toBeLessThanOrEqual(2);
    expect(order).toHaveLength(21);
  });

  it('shares by cost, not by pieces: a client with cheap pieces sends more of them', () => {
    const s = scheduler({ clientSeconds: 1e9, waitSeconds: 1e9 });
    admitted(s.admit('heavy', pieces('h', 100, 400), 100));
    admitted(s.admit('light', pieces('l', 400, 100), 400));
    const served = { h: 0, l: 0 };
    for (let i = 0; i < 100; i++) {
      const next = s.next();
      if (!next) break;
      served[next.piece.work[0] as 'h' | 'l'] += next.piece.cost;
      s.finish(next.ticket, next.piece);
    }
    // Equal cost within one quantum, whatever the piece sizes.
    expect(Math.abs(served.h - served.l)).toBeLessThanOrEqual(500);
    expect(served.h + served.l).toBeGreaterThan(15_000);
  });

  it("keeps each client's own requests in arrival order", () => {
    const s = scheduler();
    admitted(s.admit('c', pieces('x', 3, 100), 3));
    admitted(s.admit('c', pieces('y', 2, 100), 2));
    expect(drain(s)).toEqual(['x0', 'x1', 'x2', 'y0', 'y1']);
  });

  it('refuses a client over its share with 429, and only that client', () => {
    const s = scheduler();
    admitted(s.admit('heavy', pieces('h', 12, 1000), 12)); // 12 s: over the 10 s share
    const refusal = s.check('heavy');
    expect(refusal).toMatchObject({ status: 429, code: 'rate_limited', reason: 'client_share' });
    expect(refusal?.retryAfter).toBeGreaterThanOrEqual(1);
    expect(refusal?.retryAfter).toBeLessThanOrEqual(60);
    expect(refused(s.admit('heavy', pieces('h', 1, 10), 1)).reason).toBe('client_share');
    expect(s.check('light')).toBeNull();
    admitted(s.admit('light', pieces('l', 1, 10), 1));
  });

  it('admits a large request from a client alone, and refuses one too large for the speed now with 503', () => {
    const s = scheduler();
    const ticket = admitted(s.admit('alone', pieces('a', 18, 1000), 18)); // 18 s of work
    expect(ticket.queued).toBe(18);
    expect(s.depth).toMatchObject({ requests: 1, pieces: 18, images: 18, clients: 1 });
    expect(s.depth.seconds).toBeCloseTo(18);
    const refusal = refused(s.admit('other', pieces('b', 25, 1000), 25)); // 25 s alone
    expect(refusal).toMatchObject({ status: 503, reason: 'overloaded' });
    expect(refusal.message).toMatch(/alone would take about 25\.0 s.*split it/);
  });

  it('refuses a large request that would wait too long beside other busy clients with 503, but not a small one', () => {
    const s = scheduler();
    admitted(s.admit('a', pieces('a', 9, 1000), 9));
    admitted(s.admit('b', pieces('b', 9, 1000), 9));
    // 9 s of its own, plus 9 s of each of the two others: 27 s > 20 s.
    const refusal = refused(s.admit('c', pieces('c', 9, 1000), 9));
    expect(refusal).toMatchObject({ status: 503, code: 'overloaded', reason: 'overloaded' });
    expect(refusal.retryAfter).toBeGreaterThanOrEqual(1);
    admitted(s.admit('c', pieces('c', 1, 50), 1));
  });

  it("refuses with 429 a request that the client's own backlog would keep too long", () => {
    const s = scheduler();
    admitted(s.admit('c', pieces('c', 8, 1000), 8)); // 8 s, under the share
    const refusal = refused(s.admit('c', pieces('d', 15, 1000), 15)); // 23 s in all
    expect(refusal.reason).toBe('client_share');
    expect(refusal.status).toBe(429);
  });

  it('lets a client with work waiting add only what keeps it within its share', () => {
    const s = scheduler();
    admitted(s.admit('c', pieces('c', 6, 1000), 6)); // 6 s
    expect(refused(s.admit('c', pieces('d', 5, 1000), 5)).reason).toBe('client_share'); // 11 s
    admitted(s.admit('c', pieces('e', 4, 1000), 4)); // 10 s
  });

  it("refuses before reading a body that, at the client's own work per byte, would not fit its share", () => {
    const s = scheduler();
    // 6 s of work in a 60,000-byte body: 0.1 cost a byte.
    admitted(s.admit('c', pieces('c', 6, 1000), 6, 60_000));
    // 50,000 bytes would carry about 5 s: 11 s in all, over the 10 s share.
    const early = s.check('c', 50_000);
    expect(early?.reason).toBe('client_share');
    expect(early?.status).toBe(429);
    // A smaller body may fit, and so may any body of another client, or of unknown size.
    expect(s.check('c', 30_000)).toBeNull();
    expect(s.check('other', 50_000)).toBeNull();
    expect(s.check('c')).toBeNull();
    // Once its backlog is done, the client is new again: any size may be read.
    drain(s);
    expect(s.check('c', 50_000)).toBeNull();
  });

  it('learns the least work per byte also from a request it refused once read', () => {
    const s = scheduler();
    admitted(s.admit('c', pieces('c', 1, 1000), 1)); // 1 s, size unknown
    expect(s.check('c', 1_000_000)).toBeNull(); // nothing learnt yet
    // 12 s in 120,000 bytes: refused for the share once read, and remembered.
    expect(refused(s.admit('c', pieces('d', 12, 1000), 12, 120_000)).reason).toBe('client_share');
    expect(s.check('c', 120_000)?.reason).toBe('client_share');
    expect(s.check('c', 50_000)).toBeNull(); // 1 s + 5 s fits
    // A cheaper body per byte lowers the estimate: 2 s in 100,000 bytes is 0.02 a byte.
    admitted(s.admit('c', pieces('e', 2, 1000), 2, 100_000));
    expect(s.check('c', 120_000)).toBeNull(); // 3 s + 2.4 s
  });

  it('hands out only pieces that fit, keeping the others and their order', () => {
    const s = scheduler();
    admitted(s.admit('big', pieces('a', 3, 400), 3));
    admitted(s.admit('small', pieces('b', 2, 50), 2));
    const light = (cost: number) => cost <= 100;
    expect(s.next(light)?.piece.work).toBe('b0');
    expect(s.next(light)?.piece.work).toBe('b1');
    expect(s.next(light)).toBeUndefined();
    expect(s.depth.pieces).toBe(3);
    expect(drain(s)).toEqual(['a0', 'a1', 'a2']);
  });

  it('caps requests and images over all clients with 503', () => {
    const s = scheduler({ totalRequests: 2, totalImages: 5 });
    admitted(s.admit('a', pieces('a', 1, 10), 3));
    refused(s.admit('b', pieces('b', 1, 10), 3)); // 6 images > 5
    admitted(s.admit('b', pieces('b', 1, 10), 2));
    expect(s.check('c')).toMatchObject({ status: 503, reason: 'overloaded' });
  });

  it('caps requests per client', () => {
    const s = scheduler({ clientRequests: 2 });
    admitted(s.admit('a', pieces('a', 1, 1), 1));
    admitted(s.admit('a', pieces('a', 1, 1), 1));
    expect(s.check('a')?.reason).toBe('client_share');
  });

  it('releases the work as pieces finish, and forgets a client with nothing left', () => {
    const s = scheduler();
    const ticket = admitted(s.admit('a', pieces('a', 2, 1000), 2));
    const first = s.next();
    expect(ticket.running).toBe(1);
    expect(s.depth.seconds).toBeCloseTo(2);
    s.finish(first!.ticket, first!.piece);
    expect(s.depth.seconds).toBeCloseTo(1);
    expect(ticket.settled).toBe(false);
    const second = s.next();
    s.finish(second!.ticket, second!.piece);
    expect(ticket.settled).toBe(true);
    expect(s.depth).toEqual({ requests: 0, pieces: 0, images: 0, seconds: 0, clients: 0 });
    expect(s.next()).toBeUndefined();
  });

  it('cancelling drops the waiting pieces at once; the running one still finishes', () => {
    const s = scheduler();
    const ticket = admitted(s.admit('a', pieces('a', 5, 100), 5));
    admitted(s.admit('b', pieces('b', 1, 100), 1));
    const running = s.next();
    expect(running?.ticket).toBe(ticket);
    expect(s.cancel(ticket)).toBe(4);
    expect(s.depth.pieces).toBe(1); // b's
    expect(drain(s)).toEqual(['b0']);
    expect(s.depth.requests).toBe(1); // a's running piece
    s.finish(running!.ticket, running!.piece);
    expect(s.depth).toEqual({ requests: 0, pieces: 0, images: 0, seconds: 0, clients: 0 });
  });

  it('cancelAll empties the queue and returns what it dropped', () => {
    const s = scheduler();
    admitted(s.admit('a', pieces('a', 3, 100), 3));
    admitted(s.admit('b', pieces('b', 2, 100), 2));
    expect(
      s
        .cancelAll()
        .map((p) => p.work)
        .sort(),
    ).toEqual(['a0', 'a1', 'a2', 'b0', 'b1']);
    expect(s.next()).toBeUndefined();
    expect(s.depth.requests).toBe(0);
  });

  it('counts seconds by the speed it is given: a slower pool means fewer admitted', () => {
    const speed = { costPerSecond: 1000 };
    const s = scheduler({}, speed);
    admitted(s.admit('a', pieces('a', 5, 1000), 5)); // 5 s at 1,000 a second
    expect(s.check('a')).toBeNull();
    speed.costPerSecond = 400; // the pool measured itself 2.5x slower: 12.5 s
    expect(s.check('a')?.reason).toBe('client_share');
  });
});

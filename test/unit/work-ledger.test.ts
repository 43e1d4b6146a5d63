/** The rate limit by work: a sliding minute per client, on a clock the test moves. */
import { describe, expect, it } from 'vitest';
import { WorkLedger } from '../../src/server/work-ledger.ts';

function ledger(images: number, pixels: number, maxClients?: number) {
  const clock = { now: 1_000_000 };
  const l = new WorkLedger({ images, pixels }, () => clock.now, maxClients);
  return { l, clock };
}

describe('WorkLedger', () => {
  it('lets a client through while budget is left, then answers 429 with when to retry', () => {
    const { l, clock } = ledger(100, 0);
    expect(l.refusal('a')).toBeNull();
    l.charge('a', 60, 0);
    expect(l.refusal('a')).toBeNull(); // 40 left: a request of any size passes
    l.charge('a', 256, 0); // counted whole
    const refusal = l.refusal('a');
    expect(refusal).toMatchObject({ status: 429, code: 'rate_limited', reason: 'work_rate' });
    expect(refusal?.message).toMatch(/at most 100 images a minute/);
    // 316 images: under 100 once the previous window weighs under 100/316 of it, in the next minute.
    expect(refusal?.retryAfter).toBeGreaterThan(60);
    expect(refusal?.retryAfter).toBeLessThanOrEqual(120);
    expect(l.refusal('b')).toBeNull();
    clock.now += (refusal?.retryAfter ?? 0) * 1000;
    expect(l.refusal('a')).toBeNull();
  });

  it('slides: work of the previous minute counts by how much of it is still within 60 s', () => {
    const { l, clock } = ledger(0, 1000);
    l.charge('a', 1, 1000);
    expect(l.refusal('a')?.message).toMatch(/0 megapixels a minute|megapixels/);
    clock.now += 60_000 + 30_000; // half of the previous window still counts: 500
    expect(l.recent('a').pixels).toBeCloseTo(500);
    expect(l.refusal('a')).toBeNull();
    clock.now += 30_000;
    expect(l.recent('a').pixels).toBeCloseTo(0);
  });

  it('limits nothing with a budget of 0, but still counts for /metrics', () => {
    const { l } = ledger(0, 0);
    l.charge('a', 10_000, 1e9);
    expect(l.limited).toBe(false);
    expect(l.refusal('a')).toBeNull();
    expect(l.top(5)).toEqual([{ client: 'a', images: 10_000, pixels: 1e9 }]);
  });

  it('ranks the heaviest clients by pixels and counts the active ones', () => {
    const { l, clock } = ledger(0, 0);
    l.charge('small', 50, 50 * 78_400);
    l.charge('big', 10, 10 * 4_194_304);
    l.charge('mid', 3, 3 * 1_000_000);
    expect(l.top(2).map((c) => c.client)).toEqual(['big', 'small']);
    expect(l.activeClients).toBe(3);
    clock.now += 121_000;
    expect(l.activeClients).toBe(0);
    expect(l.top(5)).toEqual([]);
  });

  it('keeps at most maxClients, forgetting the least recently active', () => {
    const { l } = ledger(10, 0, 3);
    for (const client of ['a', 'b', 'c']) l.charge(client, 10, 0);
    l.charge('a', 1, 0); // a is now the most recent
    l.charge('d', 10, 0);
    const kept = l.top(10).map((c) => c.client);
    expect(kept).toHaveLength(3);
    expect(kept).not.toContain('b');
    expect(l.refusal('b')).toBeNull(); // forgotten: a fresh budget
    expect(l.refusal('a')).not.toBeNull();
  });
});

/**
 * Placement (which worker takes a piece, given the loads, the clock and the speed) and the
 * speed estimate it reads, alone: plain numbers in, a worker's index out.
 */
import { describe, expect, it } from 'vitest';
import {
  isHeavy,
  placement,
  RecentTraffic,
  WORKER_ROOM,
  type Traffic,
} from '../../src/server/pool/placement.ts';
import { Speed } from '../../src/server/pool/speed.ts';

const idle = { cost: 0, heavy: 0 };
/** Nothing happened for long: no light work about, no heavy work started. */
const QUIET: Traffic = { lightSeen: -Infinity, heavySince: -Infinity };
const NOW = 10_000;
/** At slowdown 1, a piece of 70,000 µs is expected to take 70 ms: heavy. */
const HEAVY = 70_000;
const LIGHT = 5_000;

describe('placement', () => {
  it('offers the least loaded worker with room, and an idle one takes any piece', () => {
    const loads = [{ cost: 8_000, heavy: 0 }, idle, { cost: 2_000, heavy: 0 }];
    expect(placement(loads, LIGHT, NOW, 1, QUIET)).toBe(1);
    expect(placement(loads, HEAVY, NOW, 1, QUIET)).toBe(1);
  });

  it('hands a busy worker only what keeps its work within its room; a full one none', () => {
    const busy = [{ cost: 15_000, heavy: 0 }];
    expect(placement(busy, WORKER_ROOM - 15_000, NOW, 1, QUIET)).toBe(0);
    expect(placement(busy, WORKER_ROOM - 14_000, NOW, 1, QUIET)).toBeUndefined();
    expect(placement([{ cost: WORKER_ROOM, heavy: 0 }], 1, NOW, 1, QUIET)).toBeUndefined();
    expect(placement([], LIGHT, NOW, 1, QUIET)).toBeUndefined();
  });

  it('keeps heavy pieces off the last worker free of them while light work is about', () => {
    const oneHeavy = [{ cost: HEAVY, heavy: 1 }, idle];
    const lightJustNow = { lightSeen: NOW - 10, heavySince: -Infinity };
    expect(placement(oneHeavy, HEAVY, NOW, 1, lightJustNow)).toBeUndefined();
    // Light work still goes there.
    expect(placement(oneHeavy, LIGHT, NOW, 1, lightJustNow)).toBe(1);
    // With no worker holding heavy work, a heavy piece may go: another stays free.
    expect(placement([idle, idle], HEAVY, NOW, 1, lightJustNow)).toBe(0);
  });

  it('also for the first second of heavy work after a pause, then lets every worker take it', () => {
    const oneHeavy = [{ cost: HEAVY, heavy: 1 }, idle];
    const heavyStarted = { lightSeen: -Infinity, heavySince: NOW - 500 };
    expect(placement(oneHeavy, HEAVY, NOW, 1, heavyStarted)).toBeUndefined();
    expect(placement(oneHeavy, HEAVY, NOW + 600, 1, heavyStarted)).toBe(1);
    expect(placement(oneHeavy, HEAVY, NOW, 1, QUIET)).toBe(1);
  });

  it('lets a single worker take anything', () => {
    const lightJustNow = { lightSeen: NOW, heavySince: NOW };
    expect(placement([idle], HEAVY, NOW, 1, lightJustNow)).toBe(0);
  });

  it('judges heavy by the measured slowdown', () => {
    expect(isHeavy(50_000, 1)).toBe(false);
    expect(isHeavy(50_000, 2)).toBe(true);
    const oneHeavy = [{ cost: HEAVY, heavy: 1 }, idle];
    const lightJustNow = { lightSeen: NOW, heavySince: -Infinity };
    expect(placement(oneHeavy, 50_000, NOW, 1, lightJustNow)).toBe(1);
    expect(placement(oneHeavy, 50_000, NOW, 2, lightJustNow)).toBeUndefined();
  });
});

describe('RecentTraffic', () => {
  it('starts the heavy window only after a pause of heavy work', () => {
    const traffic = new RecentTraffic();
    traffic.heavyStarts(1_000, true);
    expect(traffic.heavySince).toBe(1_000);
    traffic.heavyStarts(1_500, false); // another heavy piece already running
    expect(traffic.heavySince).toBe(1_000);
    traffic.heavyEnds(2_000);
    traffic.heavyStarts(2_500, true); // 0.5 s after the last one ended: no pause
    expect(traffic.heavySince).toBe(1_000);
    traffic.heavyStarts(3_500, true);
    expect(traffic.heavySince).toBe(3_500);
    traffic.light(4_000);
    expect(traffic.lightSeen).toBe(4_000);
  });
});

describe('Speed', () => {
  it('starts twice as slow as estimated, learns what the workers measure, and stays within bounds', () => {
    const speed = new Speed(2);
    expect(speed.slowdown).toBe(2);
    expect(speed.costPerSecond).toBe(1e6);
    for (let i = 0; i < 500; i++) speed.learn(10_000, 10_000);
    expect(speed.slowdown).toBeCloseTo(1, 2);
    expect(speed.costPerSecond).toBeCloseTo(2e6, -4);
    for (let i = 0; i < 500; i++) speed.learn(1e9, 1);
    expect(speed.slowdown).toBe(20);
    speed.learn(5, 0); // nothing estimated: nothing learnt
    expect(speed.slowdown).toBe(20);
  });

  it('lets recent passes count most', () => {
    const speed = new Speed(1);
    for (let i = 0; i < 500; i++) speed.learn(10_000, 10_000);
    for (let i = 0; i < 50; i++) speed.learn(30_000, 10_000);
    expect(speed.slowdown).toBeGreaterThan(2);
  });
});

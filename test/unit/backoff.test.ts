import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from '../../src/time/backoff.ts';

describe('backoffDelay', () => {
  it('doubles from the base up to the cap (without jitter, the exact sequence)', () => {
    const policy = { baseMs: 500, maxMs: 30_000, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(policy, n))).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('treats a negative attempt as the first', () => {
    expect(backoffDelay({ baseMs: 500, maxMs: 30_000, jitter: 0 }, -1)).toBe(500);
  });

  it('grows by the factor asked for', () => {
    expect([0, 1, 2].map((n) => backoffDelay({ baseMs: 100, maxMs: 10_000, factor: 3, jitter: 0 }, n))).toEqual([100, 300, 900]);
  });

  it('draws each delay within the jitter below the exact one, so the cap still holds', () => {
    const policy = { baseMs: 1000, maxMs: 4000 };
    expect(backoffDelay(policy, 1, () => 0)).toBe(2000);
    expect(backoffDelay(policy, 1, () => 1)).toBe(1600);
    expect(backoffDelay(policy, 10, () => 0)).toBe(4000);
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(policy, 2);
      expect(d).toBeGreaterThanOrEqual(3200);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });

  it('spreads callers that fail at the same moment', () => {
    const delays = new Set(Array.from({ length: 100 }, () => backoffDelay({ baseMs: 30_000, maxMs: 30_000 }, 0)));
    expect(delays.size).toBeGreaterThan(50);
  });
});

describe('Backoff', () => {
  it('counts failures in a row and starts over after a reset', () => {
    const b = new Backoff({ baseMs: 500, maxMs: 30_000, jitter: 0 });
    expect([b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000]);
    expect(b.attempts).toBe(3);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(500);
  });
});

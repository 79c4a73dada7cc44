import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/runner/duration.ts';

const ms = (text: string): number => {
  const result = parseDuration(text);
  if (!result.ok) throw new Error(result.reason);
  return result.milliseconds;
};

describe('parseDuration reads Go durations', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['1h30m', 90 * 60_000],
    ['90s', 90_000],
    ['1.5h', 90 * 60_000],
    ['.5s', 500],
    ['1.s', 1_000],
    ['250ms', 250],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['1500μs', 1.5],
    ['2000000ns', 2],
    ['1h1m1s1ms', 3_661_001],
    ['+5m', 300_000],
    ['2562047h', 2_562_047 * 3_600_000],
  ])('%s is %d ms', (text, expected) => {
    expect(ms(text)).toBeCloseTo(expected, 9);
  });

  it('reads "0s" and a bare "0" as zero, the value that disables stableStateTimeout', () => {
    expect(ms('0s')).toBe(0);
    expect(ms('0')).toBe(0);
    expect(Object.is(ms('-0s'), 0)).toBe(true);
  });

  it('keeps the sign of a negative duration so that callers can refuse it', () => {
    expect(ms('-1m30s')).toBe(-90_000);
  });
});

describe('parseDuration refuses what Go refuses', () => {
  it.each([
    ['', 'expected a number followed by a unit'],
    ['10', 'missing unit after "10"'],
    ['1.5', 'missing unit'],
    ['1d', 'unknown unit "d"'],
    ['1H', 'unknown unit "H"'],
    ['1h 30m', 'unexpected " 30m"'],
    [' 30m', 'unexpected'],
    ['h', 'unexpected "h"'],
    ['.s', 'unexpected'],
    ['-', 'expected a number'],
    ['1h-30m', 'unexpected "-30m"'],
    ['2562048h', 'too long'], // Go's limit is 2562047h47m16.854775807s,
  ])('%j is invalid (%s)', (text, why) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toContain(`"${text}" is not a valid duration`);
      expect(result.reason).toContain(why);
    }
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clockFromEnvironment, ScaledClock, systemClock } from '../../src/time/clock.ts';

describe('ScaledClock', () => {
  beforeEach(() => void vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') }));
  afterEach(() => void vi.useRealTimers());

  it('agrees with the real clock at its origin and runs `rate` times faster after it', () => {
    const clock = new ScaledClock(new Date('2030-01-01T00:00:00Z'), 60);
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
    vi.advanceTimersByTime(1_000);
    expect(clock.now().toISOString()).toBe('2030-01-01T00:01:00.000Z');
  });

  it('reads the same time in every instance with the same origin and rate (a restarted process carries on)', () => {
    const origin = new Date('2029-12-31T23:59:00Z');
    expect(new ScaledClock(origin, 6).now()).toEqual(new ScaledClock(origin, 6).now());
  });

  it('fires a timer when its scaled time is due, not before', () => {
    const clock = new ScaledClock(new Date('2030-01-01T00:00:00Z'), 60);
    const fired: string[] = [];
    clock.at(new Date('2030-01-01T00:02:00Z'), () => fired.push(clock.now().toISOString()));
    vi.advanceTimersByTime(1_999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['2030-01-01T00:02:00.000Z']);
  });

  it('can cancel a timer', () => {
    const clock = new ScaledClock(new Date('2030-01-01T00:00:00Z'), 10);
    let fired = false;
    const cancel = clock.at(new Date('2030-01-01T00:00:10Z'), () => (fired = true));
    cancel();
    vi.advanceTimersByTime(5_000);
    expect(fired).toBe(false);
  });
});

describe('clockFromEnvironment', () => {
  it('is the system clock unless HESTIA_TEST_CLOCK_RATE is set', () => {
    expect(clockFromEnvironment({})).toBe(systemClock);
  });
  it('is a scaled clock with a rate and an origin', () => {
    const clock = clockFromEnvironment({ HESTIA_TEST_CLOCK_RATE: '4', HESTIA_TEST_CLOCK_ORIGIN: '2030-01-01T00:00:00Z' });
    expect(clock).toBeInstanceOf(ScaledClock);
    expect(clock).toMatchObject({ rate: 4, origin: Date.parse('2030-01-01T00:00:00Z') });
  });
  it('names the variable at fault', () => {
    expect(() => clockFromEnvironment({ HESTIA_TEST_CLOCK_RATE: 'fast', HESTIA_TEST_CLOCK_ORIGIN: '2030-01-01T00:00:00Z' })).toThrow(/^HESTIA_TEST_CLOCK_RATE: "fast"/);
    expect(() => clockFromEnvironment({ HESTIA_TEST_CLOCK_RATE: '0.5', HESTIA_TEST_CLOCK_ORIGIN: '2030-01-01T00:00:00Z' })).toThrow(/^HESTIA_TEST_CLOCK_RATE/);
    expect(() => clockFromEnvironment({ HESTIA_TEST_CLOCK_RATE: '4' })).toThrow(/^HESTIA_TEST_CLOCK_ORIGIN: "" is not an ISO time/);
    expect(() => clockFromEnvironment({ HESTIA_TEST_CLOCK_RATE: '4', HESTIA_TEST_CLOCK_ORIGIN: 'yesterday' })).toThrow(/^HESTIA_TEST_CLOCK_ORIGIN/);
  });
});

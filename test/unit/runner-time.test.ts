import { describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { AdjustableClock } from '../../src/time/clock.ts';
import { nextTickFor, stableStateDeadline, TimerSlot } from '../../src/runner/runner-time.ts';

const runner = (spec: Partial<Runner['spec']>, created = '2030-01-01T00:00:00Z'): Runner => ({
  metadata: { name: 'r', namespace: 'n', creationTimestamp: created as never },
  spec: { template: { spec: { containers: [] } }, ...spec },
});

describe('nextTickFor', () => {
  it('is the first tick after the latest tick handled', () => {
    expect(nextTickFor(runner({ schedule: '*/5 * * * *' }), '2030-01-01T10:05:00Z', new Date('2030-01-01T10:06:00Z'))?.toISOString()).toBe('2030-01-01T10:10:00.000Z');
  });
  it('never fires a tick already past: missed ticks are catch-up business at start-up', () => {
    expect(nextTickFor(runner({ schedule: '*/5 * * * *' }), '2030-01-01T10:05:00Z', new Date('2030-01-01T10:10:20Z'))?.toISOString()).toBe('2030-01-01T10:15:00.000Z');
    expect(nextTickFor(runner({ schedule: '*/5 * * * *' }), '2030-01-01T08:00:00Z', new Date('2030-01-01T10:12:00Z'))?.toISOString()).toBe('2030-01-01T10:15:00.000Z');
  });
  it('counts from creation when no tick was handled, in the time zone', () => {
    expect(nextTickFor(runner({ schedule: '0 9 * * *', timeZone: 'Asia/Tokyo' }), null, new Date('2030-01-01T00:00:30Z'))?.toISOString()).toBe('2030-01-02T00:00:00.000Z');
  });
  it('is null without a schedule or with an invalid one', () => {
    expect(nextTickFor(runner({}), null, new Date())).toBeNull();
    expect(nextTickFor(runner({ schedule: '0 0 31 2 *' }), null, new Date('2030-01-01T00:00:00Z'))).toBeNull();
  });
});

describe('stableStateDeadline', () => {
  it('is progressingSince plus the timeout (30m by default), or null when disabled or ready', () => {
    expect(stableStateDeadline(runner({}), '2030-01-01T00:00:00Z')?.toISOString()).toBe('2030-01-01T00:30:00.000Z');
    expect(stableStateDeadline(runner({ stableStateTimeout: '0s' }), '2030-01-01T00:00:00Z')).toBeNull();
    expect(stableStateDeadline(runner({}), null)).toBeNull();
  });
});

describe('TimerSlot', () => {
  it('keeps a timer that is already due rather than replacing it (its tick would be lost)', () => {
    const clock = new AdjustableClock(new Date('2030-01-01T00:00:00Z'));
    const slot = new TimerSlot();
    slot.set(clock, new Date('2030-01-01T00:00:00Z'), () => {});
    slot.set(clock, new Date('2030-01-01T00:01:00Z'), () => {});
    expect(slot.armedFor).toBe('2030-01-01T00:00:00.000Z');
  });

  it('fires once at the time set, and is re-armed only when that time changes', () => {
    const clock = new AdjustableClock(new Date('2030-01-01T00:00:00Z'));
    const slot = new TimerSlot();
    const fired: string[] = [];
    slot.set(clock, new Date('2030-01-01T00:01:00Z'), (at) => fired.push(at));
    slot.set(clock, new Date('2030-01-01T00:01:00Z'), (at) => fired.push(`again ${at}`));
    expect(slot.armedFor).toBe('2030-01-01T00:01:00.000Z');
    clock.set(new Date('2030-01-01T00:02:00Z'));
    expect(fired).toEqual(['2030-01-01T00:01:00.000Z']);
    expect(slot.armedFor).toBeNull();
    slot.set(clock, new Date('2030-01-01T00:05:00Z'), (at) => fired.push(at));
    slot.clear();
    clock.set(new Date('2030-01-01T00:06:00Z'));
    expect(fired).toHaveLength(1);
  });
});

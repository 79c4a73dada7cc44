// A scheduled Runner's tick timer, in the operator (src/operator/actors.ts): a tick is handed to the work queue, not
// to the actor, so the snapshot does not show it yet when the next tick is armed. A timer that fires a little before
// its time (Node's timers may) must still arm the tick after it, not the same tick again.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { runnerMachine, type RunnerEvent } from '../../machines/runner.ts';
import type { Runner } from '../../src/api/runner.ts';
import { RunnerActors } from '../../src/operator/actors.ts';
import { assess } from '../../src/runner/assess.ts';
import type { Clock } from '../../src/time/clock.ts';

/** A clock whose timers fire `earlyMs` before the time they were set for, as a real one may. */
class EarlyClock implements Clock {
  private timers: { when: number; fn: () => void }[] = [];
  private time: number;
  private readonly earlyMs: number;
  constructor(time: number, earlyMs: number) {
    this.time = time;
    this.earlyMs = earlyMs;
  }
  now = () => new Date(this.time);
  at(when: Date, fn: () => void): () => void {
    const timer = { when: when.getTime() - this.earlyMs, fn };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((t) => t !== timer));
  }
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    // At most 10 firings: a timer re-armed for the time it fired at would otherwise fire forever.
    for (let due = this.next(until), fired = 0; due && fired < 10; due = this.next(until), fired++) {
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.when;
      due.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve(); // the tick is queued after its (empty) preparation
    }
    this.time = until;
  }
  private next(until: number) {
    return [...this.timers].sort((a, b) => a.when - b.when).find((t) => t.when <= until);
  }
}

describe('tick timers', () => {
  it('arm the next tick after the one just queued, even when the timer fired early', async () => {
    const clock = new EarlyClock(Date.parse('2026-12-03T06:00:10Z'), 3);
    const runner = {
      apiVersion: 'e2e.stakater.com/v1alpha1', kind: 'Runner',
      metadata: { name: 'nightly', namespace: 'qa', uid: 'u1', generation: 1, creationTimestamp: '2026-12-03T06:00:00Z' },
      spec: { schedule: '* * * * *', template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    } as unknown as Runner;
    const queued: RunnerEvent[] = [];
    const actors = new RunnerActors({
      machine: runnerMachine, clock, log: pino({ level: 'silent' }), inspect: undefined,
      runner: () => runner,
      changed: () => {},
      stableStateTimedOut: () => {},
      keyOfUid: () => 'qa/nightly',
      enqueue: (_, event) => queued.push(event), // queued, as the work queue does, and not delivered yet
    });
    actors.restore([]);
    actors.add(runner, assess({ runner, workloads: [], upstreams: [], problems: [], cycle: null }));
    actors.armTimers('qa/nightly');
    await clock.advance(150_000);
    const ticks = queued.flatMap((e) => (e.type === 'TICK' ? [e.tick] : []));
    expect(ticks).toEqual(['2026-12-03T06:01:00.000Z', '2026-12-03T06:02:00.000Z']);
  });
});

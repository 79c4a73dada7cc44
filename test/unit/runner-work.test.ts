// The operator's work queue: a Runner marked dirty many times is reconciled once per drain; events for its actor are
// delivered in the order they came, before the assessments of that drain, except that a Runner already dirty when
// its cron tick is delivered is reconciled first; a long drain yields in slices.
import { describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../../machines/runner.ts';
import { RunnerWork } from '../../src/operator/runner-work.ts';

function harness(options: { clockStep?: number } = {}) {
  const log: string[] = [];
  const later: (() => void)[] = [];
  let t = 0;
  const work = new RunnerWork({
    reconcile: (key) => log.push(`reconcile ${key}`),
    deliver: (uid, event) => log.push(`${event.type} ${uid}`),
    later: (fn) => later.push(fn),
    now: () => (t += options.clockStep ?? 0),
    keyOf: (uid) => ({ ua: 'ns/a', ub: 'ns/b' })[uid],
  });
  const turn = () => later.splice(0).forEach((fn) => fn());
  return { work, log, later, turn };
}
const finished = (key: string): RunnerEvent => ({ type: 'JOB.FINISHED', at: 't', key, succeeded: true, message: '' });

describe('RunnerWork', () => {
  it('reconciles a Runner once however many events marked it, in one drain', () => {
    const h = harness();
    for (let i = 0; i < 5; i++) h.work.markDirty(['ns/a', 'ns/b']);
    h.work.markDirty(['ns/a']);
    expect(h.log).toEqual([]);
    expect(h.later).toHaveLength(1);
    h.turn();
    expect(h.log).toEqual(['reconcile ns/a', 'reconcile ns/b']);
    expect({ marks: h.work.marks, reconciles: h.work.reconciles }).toEqual({ marks: 11, reconciles: 2 });
  });

  it('delivers events in the order they came, before the drain\'s assessments', () => {
    const h = harness();
    h.work.markDirty(['ns/a']);
    h.work.send('u1', finished('1'));
    h.work.send('u2', finished('2'));
    h.turn();
    expect(h.log).toEqual(['JOB.FINISHED u1', 'JOB.FINISHED u2', 'reconcile ns/a']);
  });

  it('reconciles a dirty Runner before its own event, so a tick is decided on fresh inputs', () => {
    const h = harness();
    h.work.markDirty(['ns/b', 'ns/a']);
    h.work.send('ua', { type: 'TICK', at: 't', tick: '2026-12-03T06:00:00.000Z' });
    h.turn();
    expect(h.log).toEqual(['reconcile ns/a', 'TICK ua', 'reconcile ns/b']);
    expect(h.work.reconciles).toBe(2);
  });

  it("delivers a Job's end before its dirty Runner's reconcile, so the run's result is recorded first", () => {
    const h = harness();
    h.work.markDirty(['ns/a']);
    h.work.send('ua', finished('1'));
    h.turn();
    expect(h.log).toEqual(['JOB.FINISHED ua', 'reconcile ns/a']);
  });

  it('yields between slices so that I/O gets through, and finishes in the next turns', () => {
    const h = harness({ clockStep: 3 }); // each reconcile "takes" 3 ms: two fit a 5 ms slice
    h.work.markDirty(['a', 'b', 'c', 'd', 'e']);
    h.turn();
    expect(h.log.length).toBeLessThan(5);
    while (h.later.length > 0) h.turn();
    expect(h.log).toEqual(['reconcile a', 'reconcile b', 'reconcile c', 'reconcile d', 'reconcile e']);
  });

  it('forgets a deleted Runner and does nothing once stopped', () => {
    const h = harness();
    h.work.markDirty(['a', 'b']);
    h.work.forget('a');
    h.turn();
    expect(h.log).toEqual(['reconcile b']);
    h.work.stop();
    h.work.markDirty(['c']);
    h.work.send('u', finished('1'));
    expect(h.later).toHaveLength(0);
  });
});

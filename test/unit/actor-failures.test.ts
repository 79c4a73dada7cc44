// An action that throws (issue 21, gap 7). XState stops an actor whose action or guard throws: its snapshot turns to
// status 'error' and every later event is ignored. The operator's actors (src/operator/actor-system.ts, actors.ts)
// report such a failure — an error log naming the Runner, an Event, ReconcileSuccess False, a metric — and start the
// actor again from the snapshot it had before the failed event, after a backoff, with the events it missed meanwhile.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runnerMachine, type RunnerEvent, type RunnerInputs } from '../../machines/runner.ts';
import { ActorSystem, resumableSnapshot, restorableSnapshot, withMissedEvent } from '../../src/operator/actor-system.ts';
import { RunnerActors } from '../../src/operator/actors.ts';
import type { CachedRunner } from '../../src/operator/cached-objects.ts';
import type { JobHistory } from '../../src/operator/job-history.ts';
import { statusFor } from '../../src/operator/status-render.ts';
import type { Runner } from '../../src/api/runner.ts';
import { assess } from '../../src/runner/assess.ts';
import type { Operator } from '../../src/operator/operator.ts';
import { createMetrics } from '../../src/process/metrics.ts';
import type { Clock } from '../../src/time/clock.ts';

const ready: RunnerInputs = {
  valid: true, suspended: false, cycle: false, workloadsReady: true, upstreamReady: true, scheduled: false,
  concurrencyPolicy: 'Forbid', revision: 'r1', parts: ['Deployment/shop/cart@a'], trigger: null,
};
const notReady: RunnerInputs = { ...ready, workloadsReady: false };

const inputs = (i: RunnerInputs, at = 't1'): RunnerEvent => ({ type: 'INPUTS', at, inputs: i });
const finished = (key: string): RunnerEvent => ({ type: 'JOB.FINISHED', at: 't9', key, succeeded: true, message: 'ok' });

/** A clock that moves only when the test moves it; due timers fire in order. */
class ManualClock implements Clock {
  private timers: { when: number; fn: () => void }[] = [];
  private time = Date.parse('2026-12-01T00:00:00Z');
  now = () => new Date(this.time);
  at(when: Date, fn: () => void): () => void {
    const timer = { when: when.getTime(), fn };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((t) => t !== timer));
  }
  advance(ms: number): void {
    const until = this.time + ms;
    for (let due = this.dueBy(until); due; due = this.dueBy(until)) {
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.when;
      due.fn();
    }
    this.time = until;
  }
  private dueBy(until: number) {
    return [...this.timers].sort((a, b) => a.when - b.when).find((t) => t.when <= until);
  }
}

/** The real Runner machine whose startJob throws the first `throws` times it is called (Infinity: always). */
function machineThrowing(throws: number) {
  const started: string[] = [];
  let calls = 0;
  const machine = runnerMachine.provide({
    actions: {
      startJob: ({ context }) => {
        calls += 1;
        if (calls <= throws) throw new Error(`the API client blew up (call ${calls})`);
        started.push(context.run!.key);
      },
    },
  });
  return { machine, started, calls: () => calls };
}

function system(throws: number) {
  const clock = new ManualClock();
  const { machine, started, calls } = machineThrowing(throws);
  const failures: { uid: string; message: string; retryInMs: number }[] = [];
  const recovered: string[] = [];
  const actors = new ActorSystem(machine, {
    clock,
    failed: (uid, error, retryInMs) => failures.push({ uid, message: (error as Error).message, retryInMs }),
    recovered: (uid) => recovered.push(uid),
  });
  return { actors, clock, started, calls, failures, recovered, state: () => actors.view('u1')?.state };
}

describe('a Runner actor whose action throws', () => {
  it('is reported, started again from the snapshot it had before the failed event after a backoff, and gets the events it missed', () => {
    const s = system(1);
    s.actors.spawn('u1', { inputs: notReady, at: 't0' });
    let changes = 0;
    s.actors.subscribe('u1', () => (changes += 1));
    expect(s.state()).toBe('WaitingForWorkloads');

    s.actors.send('u1', inputs(ready)); // → Running, whose startJob throws
    expect(s.failures).toEqual([{ uid: 'u1', message: 'the API client blew up (call 1)', retryInMs: expect.any(Number) }]);
    const { retryInMs } = s.failures[0]!;
    expect(retryInMs).toBeGreaterThanOrEqual(800);
    expect(retryInMs).toBeLessThanOrEqual(1000);
    // Where it was before the event, and persisted as a snapshot an operator can restore.
    expect(s.state()).toBe('WaitingForWorkloads');
    expect(restorableSnapshot(s.actors.view('u1')!.persisted)).not.toBeNull();
    expect(s.actors.isFailed('u1')).toBe(true);

    s.actors.send('u1', inputs({ ...ready, revision: 'r2' }, 't2')); // missed while it is stopped: kept for later
    s.clock.advance(retryInMs - 1);
    expect(s.actors.isFailed('u1')).toBe(true);
    s.clock.advance(1);

    expect(s.actors.isFailed('u1')).toBe(false);
    expect(s.recovered).toEqual(['u1']);
    expect(s.state()).toBe('Running');
    expect(s.started).toEqual(['1:revision:r2']);
    expect(changes).toBeGreaterThan(0); // its subscribers hear of the actor that runs again
    // Later events are processed as ever.
    s.actors.send('u1', finished('1:revision:r2'));
    expect(s.state()).toBe('Succeeded');
    expect(s.failures).toHaveLength(1);
    s.actors.stop();
  });

  it('that always throws is restarted with a growing backoff, never in a hot loop, and its snapshot stays restorable', () => {
    const s = system(Infinity);
    s.actors.spawn('u1', { inputs: notReady, at: 't0' });
    s.actors.send('u1', inputs(ready));
    // Ten minutes later: one attempt per restart, each after twice the wait of the one before (less up to 20% jitter).
    for (let i = 0; i < 600; i++) s.clock.advance(1000);
    const waits = s.failures.map((f) => f.retryInMs);
    expect(waits.length).toBeGreaterThanOrEqual(8);
    expect(waits.length).toBeLessThanOrEqual(10);
    waits.forEach((w, i) => {
      const exact = Math.min(1000 * 2 ** i, 300_000);
      expect(w).toBeGreaterThanOrEqual(exact * 0.8);
      expect(w).toBeLessThanOrEqual(exact);
    });
    expect(s.calls()).toBe(waits.length);
    expect(s.recovered).toEqual([]);
    expect(s.state()).toBe('WaitingForWorkloads');
    expect(restorableSnapshot(s.actors.view('u1')!.persisted)).not.toBeNull();
    // Removed while it waits: no restart comes.
    s.actors.remove('u1');
    s.clock.advance(600_000);
    expect(s.calls()).toBe(waits.length);
  });

  it('that throws while it starts (an entry action of its first state) fails that actor, not the process, and starts again', () => {
    const s = system(1);
    s.actors.spawn('u1', { inputs: ready, at: 't0' }); // starts in Running: startJob runs as it starts
    expect(s.failures).toHaveLength(1);
    s.clock.advance(s.failures[0]!.retryInMs);
    expect(s.state()).toBe('Running');
    expect(s.started).toEqual(['1:revision:r1']);
    expect(s.recovered).toEqual(['u1']);
    s.actors.stop();
  });
});

describe('the events a stopped actor waits with', () => {
  it('keep their order; a newer INPUTS or tick replaces an older one of its kind', () => {
    const tick = (t: string): RunnerEvent => ({ type: 'TICK', at: t, tick: t });
    let missed: RunnerEvent[] = [];
    for (const e of [inputs(ready, 'a'), tick('b'), finished('k'), inputs(notReady, 'c'), tick('d')]) missed = withMissedEvent(missed, e);
    expect(missed.map((e) => `${e.type}@${e.at}`)).toEqual(['JOB.FINISHED@t9', 'INPUTS@c', 'TICK@d']);
  });

  it('resume as active: an errored snapshot is persisted as the one before its failure', () => {
    expect(resumableSnapshot({ status: 'error', error: new Error('x'), value: 'Running', context: {} })).toEqual({ status: 'active', value: 'Running', context: {} });
    const active = { status: 'active', value: 'Running' };
    expect(resumableSnapshot(active)).toBe(active);
  });
});

describe('a Runner whose actor failed, in the operator', () => {
  it('is logged with its name and namespace, told for an Event, counted, and says so in ReconcileSuccess until its actor runs again', () => {
    const clock = new ManualClock();
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const runner = {
      apiVersion: 'e2e.stakater.com/v1alpha1', kind: 'Runner',
      metadata: { name: 'smoke', namespace: 'qa', uid: 'u1', generation: 1 },
      spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
      statusDigest: '',
    } as unknown as CachedRunner;
    const told: { key: string; message: string }[] = [];
    const { machine } = machineThrowing(1);
    const actors = new RunnerActors({
      machine, clock, log, inspect: undefined,
      runner: () => runner,
      changed: () => {},
      stableStateTimedOut: () => {},
      failed: (key, message) => told.push({ key, message }),
      keyOfUid: (uid) => (uid === 'u1' ? 'qa/smoke' : undefined),
      enqueue: (uid, event) => actors.deliver(uid, event),
    });
    const jobHistory = { jobOfRun: () => undefined } as unknown as JobHistory;
    const reconcile = () => statusFor('qa/smoke', { runner, actors, jobHistory, clock })!.desired.conditions!.find((c) => c.type === 'ReconcileSuccess');

    actors.restore([]);
    const assessment = assess({ runner: runner as Runner, workloads: [], upstreams: [], problems: [], cycle: null });
    actors.add(runner as Runner, assessment); // no selector: ready at once, so startJob runs and throws

    expect(told).toHaveLength(1);
    expect(told[0]!.key).toBe('qa/smoke');
    expect(told[0]!.message).toMatch(/^the Runner's state machine stopped on an error \(the API client blew up \(call 1\)\); restarting it from its last snapshot in 1s$/);
    expect(actors.failureCount).toBe(1);
    const logged = lines.find((l) => l.level === 50);
    expect(logged).toMatchObject({ runner: 'qa/smoke', namespace: 'qa', msg: "the Runner's actor failed; restarting it from its last snapshot" });
    expect((logged!.err as { message: string }).message).toBe('the API client blew up (call 1)');
    expect(reconcile()).toMatchObject({ status: 'False', reason: 'LastReconcileCycleFailed', message: told[0]!.message });

    clock.advance(1000);
    expect(actors.view('u1')?.state).toBe('Running');
    expect(reconcile()).toMatchObject({ status: 'True' });
    expect(lines.some((l) => l.msg === "the Runner's actor runs again" && l.runner === 'qa/smoke')).toBe(true);
    actors.stop();
  });
});

describe('hestia_actor_failures_total', () => {
  it('counts the operator\'s actor failures', async () => {
    const { registry, observe } = createMetrics();
    const stats = { statusWrites: 0, statusWritesSkipped: 0, statusWriteErrors: 0, writesThrottled: 0, writeBacklog: {}, actorFailures: 3 };
    observe({ operator: { stats, ownedRunners: 0, runnersByState: () => new Map(), notificationBacklog: () => new Map(), watchCaches: [], ready: true } as unknown as Operator, isLeader: () => true });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE hestia_actor_failures_total counter');
    expect(text).toMatch(/^hestia_actor_failures_total 3$/m);
  });
});

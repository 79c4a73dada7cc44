// Behaviour of the pure Runner machine (SPEC §3, §7), one scenario per test.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { runnerMachine, type RunHistory, type RunnerEvent, type RunnerInputs } from '../../machines/runner.ts';
import { runnerStateOf } from '../../machines/runner-snapshot.ts';

const ready: RunnerInputs = {
  valid: true, suspended: false, cycle: false, workloadsReady: true, upstreamReady: true, scheduled: false,
  concurrencyPolicy: 'Forbid', revision: 'r1', parts: ['Deployment/shop/cart@a'], trigger: null,
};

function runner(initial: Partial<RunnerInputs> = {}) {
  const effects: string[] = [];
  const machine = runnerMachine.provide({
    actions: {
      startJob: ({ context }) => void effects.push(`start ${context.run?.key}`),
      stopJob: ({ context }) => void effects.push(`stop ${context.run?.key}`),
      tickSkipped: ({ context }) => void effects.push(`skip ${context.lastSkippedTick}`),
    },
  });
  const actor = createActor(machine, { input: { inputs: { ...ready, ...initial }, at: 't0' } }).start();
  let t = 0;
  const send = (e: Partial<RunnerInputs> | RunnerEvent) => {
    t += 1;
    if ('type' in e) actor.send(e as RunnerEvent);
    else actor.send({ type: 'INPUTS', at: `t${t}`, inputs: { ...ready, ...e } });
  };
  const finish = (key: string, succeeded = true) => send({ type: 'JOB.FINISHED', at: `t${t}`, key, succeeded, message: succeeded ? 'ok' : 'boom' });
  return { actor, effects, send, finish, state: () => runnerStateOf(actor.getSnapshot().value) };
}

describe('an event-triggered Runner', () => {
  it('waits while workloads are not ready, then runs once', () => {
    const r = runner({ workloadsReady: false });
    expect(r.state()).toBe('WaitingForWorkloads');
    expect(r.effects).toEqual([]);
    r.send({});
    expect(r.state()).toBe('Running');
    r.send({});
    expect(r.effects).toEqual(['start 1:revision:r1']);
    r.finish('1:revision:r1');
    expect(r.state()).toBe('Succeeded');
  });

  it('runs once per revision: not-ready and back at the same revision runs nothing', () => {
    const r = runner();
    r.finish('1:revision:r1');
    r.send({ workloadsReady: false });
    expect(r.state()).toBe('WaitingForWorkloads');
    expect(r.actor.getSnapshot().context.progressingSince).not.toBeNull();
    r.send({});
    expect(r.state()).toBe('Succeeded');
    expect(r.actor.getSnapshot().context.progressingSince).toBeNull();
    r.send({ revision: 'r2' });
    expect(r.effects).toEqual(['start 1:revision:r1', 'start 2:revision:r2']);
  });

  it('stays Failed after a failed run until something new arrives', () => {
    const r = runner();
    r.finish('1:revision:r1', false);
    expect(r.state()).toBe('Failed');
    r.send({});
    expect(r.state()).toBe('Failed');
    expect(r.effects).toHaveLength(1);
  });

  it('waits for upstream Runners after its workloads', () => {
    const r = runner({ upstreamReady: false });
    expect(r.state()).toBe('WaitingForUpstream');
    r.send({ upstreamReady: true });
    expect(r.state()).toBe('Running');
  });

  it('under Forbid remembers a new revision that arrives mid-run and runs it once afterwards', () => {
    const r = runner();
    r.send({ revision: 'r2' });
    r.send({ revision: 'r3' });
    expect(r.effects).toEqual(['start 1:revision:r1']);
    r.finish('1:revision:r1');
    expect(r.state()).toBe('Running');
    expect(r.effects).toEqual(['start 1:revision:r1', 'start 2:revision:r3']);
  });

  it('under Replace stops the running Job and starts the new run', () => {
    const r = runner({ concurrencyPolicy: 'Replace' });
    r.send({ concurrencyPolicy: 'Replace', revision: 'r2' });
    expect(r.effects).toEqual(['start 1:revision:r1', 'stop 1:revision:r1', 'start 2:revision:r2']);
    r.finish('1:revision:r1');
    expect(r.state()).toBe('Running');
  });

  it('ignores the result of a Job that is not its active run', () => {
    const r = runner();
    r.finish('revision:old');
    expect(r.state()).toBe('Running');
  });

  it('runs once for each new manual-trigger value, not for the value it was created with', () => {
    const r = runner({ trigger: 'a' });
    r.finish('1:revision:r1');
    r.send({ trigger: 'a' });
    expect(r.state()).toBe('Succeeded');
    r.send({ trigger: 'b' });
    expect(r.actor.getSnapshot().context.run?.reason).toBe('Manual');
    expect(r.effects).toEqual(['start 1:revision:r1', 'start 2:manual:b:r1']);
  });

  it('does not run while suspended, invalid or in a dependency cycle, and says which', () => {
    expect(runner({ suspended: true }).state()).toBe('Suspended');
    expect(runner({ valid: false }).state()).toBe('Invalid');
    expect(runner({ cycle: true }).state()).toBe('Stalled');
    const r = runner({ suspended: true });
    r.send({ suspended: true, trigger: 'x' });
    expect(r.effects).toEqual([]);
  });

  it('lets a suspended Runner finish its running Job', () => {
    const r = runner();
    r.send({ suspended: true });
    expect(r.state()).toBe('Running');
    r.finish('1:revision:r1');
    expect(r.state()).toBe('Suspended');
  });
});

describe('a scheduled Runner', () => {
  const tick = (r: ReturnType<typeof runner>, at: string) => r.send({ type: 'TICK', at, tick: at });

  it('runs at a tick when its inputs are satisfied, and not on new revisions', () => {
    const r = runner({ scheduled: true });
    expect(r.state()).toBe('Scheduled');
    r.send({ scheduled: true, revision: 'r2' });
    expect(r.state()).toBe('Scheduled');
    tick(r, '12:00');
    expect(r.effects).toEqual(['start 1:schedule:12:00']);
    r.finish('1:schedule:12:00');
    expect(r.state()).toBe('Scheduled');
    expect(r.actor.getSnapshot().context.lastTick).toBe('12:00');
  });

  it('skips a tick at which its workloads are not ready, visibly, and runs the next one', () => {
    const r = runner({ scheduled: true, workloadsReady: false });
    tick(r, '12:00');
    expect(r.effects).toEqual(['skip 12:00']);
    r.send({ scheduled: true });
    expect(r.state()).toBe('Scheduled');
    tick(r, '12:01');
    expect(r.effects).toEqual(['skip 12:00', 'start 1:schedule:12:01']);
  });

  it('records a missed tick as skipped', () => {
    const r = runner({ scheduled: true });
    r.send({ type: 'TICK.MISSED', at: 'now', tick: '11:00' });
    expect(r.effects).toEqual(['skip 11:00']);
    expect(r.actor.getSnapshot().context.lastTick).toBe('11:00');
  });
});

describe('a rollback', () => {
  it('runs again for a revision seen before, under a new run key (so a new Job name)', () => {
    const r = runner();
    r.finish('1:revision:r1');
    r.send({ revision: 'r2' });
    r.finish('2:revision:r2');
    r.send({ revision: 'r1' });
    expect(r.effects).toEqual(['start 1:revision:r1', 'start 2:revision:r2', 'start 3:revision:r1']);
  });
});

describe('a tick remembered during a run', () => {
  it('is skipped when the inputs are not satisfied as the run ends', () => {
    const r = runner({ scheduled: true });
    r.send({ type: 'TICK', at: '10:00', tick: '10:00' });
    r.send({ type: 'TICK', at: '11:00', tick: '11:00' });
    r.send({ scheduled: true, workloadsReady: false });
    r.finish('1:schedule:10:00');
    expect(r.state()).toBe('WaitingForWorkloads');
    expect(r.effects).toEqual(['start 1:schedule:10:00', 'skip 11:00']);
    r.send({ scheduled: true });
    expect(r.state()).toBe('Scheduled');
  });

  it('under Replace is served by a manual run rather than replacing it', () => {
    const r = runner({ scheduled: true });
    r.send({ type: 'TICK', at: '10:00', tick: '10:00' });
    r.send({ type: 'TICK', at: '11:00', tick: '11:00' });
    r.send({ scheduled: true, concurrencyPolicy: 'Replace', trigger: 't1' });
    expect(r.effects).toEqual(['start 1:schedule:10:00', 'stop 1:schedule:10:00', 'start 2:manual:t1:r1']);
  });
});

describe('quiet when nothing changes', () => {
  it('leaves the persisted snapshot untouched for inputs equal to those it has', () => {
    const r = runner({ workloadsReady: false });
    const before = JSON.stringify(r.actor.getPersistedSnapshot());
    r.send({ workloadsReady: false });
    expect(JSON.stringify(r.actor.getPersistedSnapshot())).toBe(before);
  });
});

describe('persistence', () => {
  it('resumes from a persisted snapshot in the same state, without starting the Job again', () => {
    const r = runner();
    const persisted = r.actor.getPersistedSnapshot();
    const effects: string[] = [];
    const restored = createActor(runnerMachine.provide({ actions: { startJob: () => void effects.push('start') } }), {
      snapshot: JSON.parse(JSON.stringify(persisted)),
      input: { inputs: ready, at: 'x' },
    }).start();
    expect(runnerStateOf(restored.getSnapshot().value)).toBe('Running');
    restored.send({ type: 'INPUTS', at: 't9', inputs: ready });
    restored.send({ type: 'JOB.FINISHED', at: 't9', key: '1:revision:r1', succeeded: true, message: '' });
    expect(runnerStateOf(restored.getSnapshot().value)).toBe('Succeeded');
    expect(effects).toEqual([]);
  });
});

describe('a Runner restored from its persisted snapshot', () => {
  it('takes the same inputs with keys in another order as no change: the snapshot stays byte-identical', () => {
    const r = runner();
    r.finish('1:revision:r1');
    // The API server stores status.snapshot with its keys sorted; a restart restores that.
    const persisted = JSON.parse(JSON.stringify(r.actor.getPersistedSnapshot(), (_key, value: unknown) =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
        : value));
    const restored = createActor(runnerMachine, { snapshot: persisted, input: { inputs: ready, at: 'unused' } }).start();
    const before = JSON.stringify(restored.getPersistedSnapshot());
    restored.send({ type: 'INPUTS', at: 'later', inputs: { ...ready } });
    expect(JSON.stringify(restored.getPersistedSnapshot())).toBe(before);
    expect(restored.getSnapshot().context.now).not.toBe('later');
  });
});

describe('a Runner without a snapshot, started from what its Jobs show has run', () => {
  const finished = (key: string, revision: string, result: 'Succeeded' | 'Failed') => ({
    key, reason: 'Revision' as const, revision, parts: [], previousParts: null, tick: null,
    startedAt: 't0', finishedAt: 't1', result, message: result === 'Failed' ? 'boom' : 'ok',
  });
  const start = (inputs: RunnerInputs, history: RunHistory) => {
    const effects: string[] = [];
    const actor = createActor(runnerMachine.provide({ actions: { startJob: ({ context }) => void effects.push(`start ${context.run?.key}`) } }), {
      input: { inputs, at: 't5', history },
    }).start();
    return { actor, effects, state: () => runnerStateOf(actor.getSnapshot().value) };
  };

  it('does not run again the revision its newest Job ran, and rests where that run ended', () => {
    const r = start(ready, { runs: 2, lastRevision: 'r1', lastTrigger: null, run: finished('2:revision:r1', 'r1', 'Failed') });
    expect(r.state()).toBe('Failed');
    expect(r.effects).toEqual([]);
    expect(r.actor.getSnapshot().context.lastFailedAt).toBe('t1');
  });

  it('runs a new revision with the next run number, so its Job is a new one', () => {
    const r = start({ ...ready, revision: 'r2' }, { runs: 2, lastRevision: 'r1', lastTrigger: null, run: finished('2:revision:r1', 'r1', 'Succeeded') });
    expect(r.effects).toEqual(['start 3:revision:r2']);
  });

  it('takes the trigger its newest manual Job ran as consumed, and runs another value', () => {
    const consumed = start({ ...ready, trigger: 't1' }, { runs: 2, lastRevision: 'r1', lastTrigger: 't1', run: null });
    expect(consumed.effects).toEqual([]);
    const fresh = start({ ...ready, trigger: 't2' }, { runs: 2, lastRevision: 'r1', lastTrigger: 't1', run: null });
    expect(fresh.effects).toEqual(['start 3:manual:t2:r1']);
  });
});

// Status rendering (SPEC §5): pure, so these need no cluster.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { runnerMachine, type RunnerContext, type RunnerInputs } from '../../machines/runner.ts';
import { runnerStateOf } from '../../machines/runner-snapshot.ts';
import type { Runner } from '../../src/api/runner.ts';
import { assess } from '../../src/runner/assess.ts';
import { renderStatus } from '../../src/runner/status.ts';
import { canonicalJson } from '../../src/runner/canonical-json.ts';
import { viewOfWorkload } from '../../src/runner/readiness/readiness.ts';

const runner: Runner = {
  metadata: { name: 'smoke', namespace: 'qa', uid: 'u1', generation: 3 },
  spec: { workloadSelector: { matchLabels: { app: 'cart' } }, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
};

const deployment = (available: number) => ({
  kind: 'Deployment' as const,
  object: viewOfWorkload('Deployment')({
    metadata: { name: 'cart', namespace: 'shop', uid: 'd1', generation: 1 },
    spec: { replicas: 3, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } },
    status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: available },
  } as never),
});

function rendered(available: number, events: ((send: (e: never) => void) => void) | null = null, previous?: Runner['status']) {
  const assessment = assess({ runner, workloads: [deployment(available)], upstreams: [], problems: [], cycle: null });
  const actor = createActor(runnerMachine, { input: { inputs: assessment.inputs as RunnerInputs, at: '2026-01-01T00:00:00Z' } }).start();
  events?.((e) => actor.send(e));
  const snap = actor.getSnapshot();
  return renderStatus({
    runner: { ...runner, status: previous },
    state: runnerStateOf(snap.value)!,
    context: snap.context as RunnerContext,
    snapshot: actor.getPersistedSnapshot() as Record<string, unknown>,
    assessment,
    now: '2026-01-01T00:01:00Z',
    nextScheduleTime: null,
    stableStateTimedOut: false,
    reconcileError: null,
  });
}

describe('renderStatus', () => {
  it('says which workload it waits for, in words', () => {
    const s = rendered(2);
    expect(s.state).toBe('WaitingForWorkloads');
    expect(s.message).toBe('waiting for workload Deployment shop/cart (2/3 available)');
    expect(s.watchedResources).toEqual([{ name: 'cart', namespace: 'shop', kind: 'Deployment', ready: false, message: '2/3 available' }]);
    expect(s.conditions?.find((c) => c.type === 'JobCompleted')).toMatchObject({ status: 'False', reason: 'JobNotFound' });
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False' });
    expect(s.observedGeneration).toBe(3);
  });

  it('reports a running Job as JobCompleted=False/Pending and its trigger in lastRun', () => {
    const s = rendered(3);
    expect(s.state).toBe('Running');
    expect(s.conditions?.find((c) => c.type === 'JobCompleted')).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(s.lastRun).toMatchObject({ result: 'Running', reason: 'Revision', trigger: 'first run', startTime: '2026-01-01T00:00:00Z' });
    expect(s.lastRun?.jobName).toMatch(/^smoke-[a-z0-9]+$/);
  });

  it('reports a failed run as JobCompleted=False/Failed (the original operator said True)', () => {
    const s = rendered(3, (send) => {
      const key = '1:revision:' + assess({ runner, workloads: [deployment(3)], upstreams: [], problems: [], cycle: null }).inputs.revision;
      send({ type: 'JOB.FINISHED', at: '2026-01-01T00:00:30Z', key, succeeded: false, message: 'BackoffLimitExceeded' } as never);
    });
    expect(s.state).toBe('Failed');
    expect(s.conditions?.find((c) => c.type === 'JobCompleted')).toMatchObject({ status: 'False', reason: 'Failed', message: 'BackoffLimitExceeded' });
    expect(s.lastFailedRunTime).toBe('2026-01-01T00:00:30Z');
  });

  it('shows what a finished run found: flaky attempts, test counts, and an infrastructure error as result Error', () => {
    const key = '1:revision:' + assess({ runner, workloads: [deployment(3)], upstreams: [], problems: [], cycle: null }).inputs.revision;
    const tests = { tests: 4, failures: 1, errors: 0, skipped: 0, timeSeconds: 0.5, failed: [{ name: 'test_pay', kind: 'failure' as const, message: '502' }] };
    const flaky = rendered(3, (send) => send({ type: 'JOB.FINISHED', at: '2026-01-01T00:00:30Z', key, succeeded: true, message: 'Complete', findings: { attempts: 2, flaky: true, tests } } as never));
    expect(flaky.state).toBe('Succeeded');
    expect(flaky.lastRun).toMatchObject({ result: 'Succeeded', flaky: true, attempts: 2, tests: { tests: 4, failures: 1, timeSeconds: 0.5, failed: [{ name: 'test_pay' }] } });
    const errored = rendered(3, (send) => send({ type: 'JOB.FINISHED', at: '2026-01-01T00:00:30Z', key, succeeded: false, message: 'DeadlineExceeded', findings: { attempts: 1, errorReason: 'ImagePullFailed' } } as never));
    expect(errored.state).toBe('Failed');
    expect(errored.lastRun).toMatchObject({ result: 'Error', errorReason: 'ImagePullFailed' });
    expect(errored.lastRun).not.toHaveProperty('attempts');
    expect(errored.lastFailedRunTime).toBe('2026-01-01T00:00:30Z');
    expect(errored.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'RunError' });
    expect(errored.conditions?.find((c) => c.type === 'JobCompleted')).toMatchObject({ status: 'False', reason: 'Error' });
    const plain = rendered(3, (send) => send({ type: 'JOB.FINISHED', at: '2026-01-01T00:00:30Z', key, succeeded: true, message: 'Complete' } as never));
    expect(Object.keys(plain.lastRun!).sort()).toEqual(['completionTime', 'jobName', 'message', 'reason', 'result', 'revision', 'startTime', 'trigger']);
  });

  it('marks the first success after a failed or errored run as recovered, and only that one', () => {
    const inputs = assess({ runner, workloads: [deployment(3)], upstreams: [], problems: [], cycle: null }).inputs;
    const runs = (results: { succeeded: boolean; errorReason?: string }[]) =>
      rendered(3, (send) => {
        results.forEach((r, i) => {
          if (i > 0) send({ type: 'INPUTS', at: `2026-01-01T00:0${i}:00Z`, inputs: { ...inputs, trigger: `t${i}` } } as never);
          const key = i === 0 ? `1:revision:${inputs.revision}` : `${i + 1}:manual:t${i}:${inputs.revision}`;
          send({ type: 'JOB.FINISHED', at: `2026-01-01T00:0${i}:30Z`, key, succeeded: r.succeeded, message: 'm', ...(r.errorReason ? { findings: { errorReason: r.errorReason } } : {}) } as never);
        });
      }).lastRun;
    expect(runs([{ succeeded: false }, { succeeded: true }])).toMatchObject({ result: 'Succeeded', recovered: true });
    expect(runs([{ succeeded: false, errorReason: 'NodeLost' }, { succeeded: true }])).toMatchObject({ result: 'Succeeded', recovered: true });
    expect(runs([{ succeeded: false }, { succeeded: true }, { succeeded: true }])).not.toHaveProperty('recovered');
    expect(runs([{ succeeded: true }])).not.toHaveProperty('recovered');
  });

  it('keeps lastTransitionTime while a condition keeps its status, so an unchanged Runner writes nothing', () => {
    const first = rendered(2);
    const old = first.conditions!.map((c) => ({ ...c, lastTransitionTime: '2025-12-31T00:00:00Z' as unknown as Date }));
    const again = rendered(2, null, { ...first, conditions: old });
    expect(again.conditions!.every((c) => String(c.lastTransitionTime) === '2025-12-31T00:00:00Z')).toBe(true);
    expect(canonicalJson(again)).toBe(canonicalJson({ ...first, conditions: old }));
  });
});

describe('canonicalJson, which decides whether a status write is needed', () => {
  it('tells a changed or vanished field, not a different key order or a null for an absent field', () => {
    expect(canonicalJson({ state: 'Running', nextScheduleTime: 'x' })).not.toBe(canonicalJson({ state: 'Succeeded', nextScheduleTime: 'x' }));
    expect(canonicalJson({ state: 'Running', nextScheduleTime: 'x' })).not.toBe(canonicalJson({ state: 'Running' }));
    expect(canonicalJson({ a: 1, b: { c: null, d: [1, 2] } })).toBe(canonicalJson({ b: { d: [1, 2] }, a: 1 }));
  });
});

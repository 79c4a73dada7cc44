// A Runner's status stays small however much it selects (issue: a Runner selecting 2,000
// Deployments must write a status far below etcd's 1.5 MiB object limit). Pure; the same holds on
// the real control plane in test/integration/scale.test.ts.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { runnerMachine, type RunnerContext } from '../../machines/runner.ts';
import { runnerStateOf } from '../../machines/runner-snapshot.ts';
import type { Runner } from '../../src/api/runner.ts';
import { assess, boundedParts, boundedTrigger, MAX_NAMED_PARTS, type SelectedWorkload } from '../../src/runner/assess.ts';
import { describeTrigger } from '../../src/runner/messages.ts';
import { viewOfWorkload } from '../../src/runner/readiness/readiness.ts';
import { listedWatchedResources, MAX_WATCHED_LISTED, renderStatus, shownOfAssessment } from '../../src/runner/status.ts';

const runner = (trigger?: string): Runner => ({
  metadata: { name: 'wide', namespace: 'qa', uid: 'u1', generation: 1, ...(trigger ? { annotations: { 'runner.stakater.com/trigger': trigger } } : {}) },
  spec: { workloadSelector: { matchLabels: { suite: 'all' } }, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
});

const deployment = (i: number, image = 'v1', available = 1): SelectedWorkload => ({
  kind: 'Deployment',
  object: viewOfWorkload('Deployment')({
    metadata: { name: `service-with-a-realistic-name-${i}`, namespace: `team-${i % 40}`, uid: `uid-${i}-0000-0000`, generation: 1 },
    spec: { replicas: 1, template: { spec: { containers: [{ name: 'a', image }] } } },
    status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: available },
  } as never),
});

function statusAfterTwoRuns(count: number, trigger?: string) {
  const first = Array.from({ length: count }, (_, i) => deployment(i));
  const second = first.map((w, i) => (i === count - 1 ? deployment(i, 'v2') : w));
  const a1 = assess({ runner: runner(trigger), workloads: first, upstreams: [], problems: [], cycle: null });
  const a2 = assess({ runner: runner(trigger), workloads: second, upstreams: [], problems: [], cycle: null });
  const actor = createActor(runnerMachine, { input: { inputs: a1.inputs, at: 't0' } }).start();
  actor.send({ type: 'JOB.FINISHED', at: 't1', key: actor.getSnapshot().context.run!.key, succeeded: true, message: 'ok' });
  actor.send({ type: 'INPUTS', at: 't2', inputs: a2.inputs });
  const snap = actor.getSnapshot();
  const status = renderStatus({
    runner: runner(trigger), state: runnerStateOf(snap.value)!, context: snap.context as RunnerContext,
    snapshot: actor.getPersistedSnapshot() as Record<string, unknown>, assessment: a2, now: 't2',
    nextScheduleTime: null, stableStateTimedOut: false, reconcileError: null,
  });
  return { status, bytes: Buffer.byteLength(JSON.stringify(status)), snapshotBytes: Buffer.byteLength(JSON.stringify(status.snapshot)) };
}

describe('a status bounded whatever the Runner selects', () => {
  it('with 2,000 Deployments: a status of a few tens of KiB, every workload counted, 100 listed', () => {
    const { status, bytes, snapshotBytes } = statusAfterTwoRuns(2000, 'x'.repeat(60_000));
    expect(status.watchedResourcesCount).toBe(2000);
    expect(status.watchedResources).toHaveLength(MAX_WATCHED_LISTED);
    expect(bytes).toBeLessThan(64 * 1024);
    expect(snapshotBytes).toBeLessThan(32 * 1024);
    expect(status.lastRun?.result).toBe('Running');
  });

  it('a snapshot that does not grow past a few dozen workloads', () => {
    const at100 = statusAfterTwoRuns(100).snapshotBytes;
    const at2000 = statusAfterTwoRuns(2000).snapshotBytes;
    expect(at2000).toBeLessThan(at100 * 1.1);
  });

  it('still names the rollout when it is among the named parts, and summarises the others', () => {
    const small = statusAfterTwoRuns(10).status.lastRun?.trigger;
    expect(small).toBe('rollout of Deployment team-9/service-with-a-realistic-name-9');
    const large = statusAfterTwoRuns(2000).status.lastRun?.trigger;
    expect(large).toBe('changes among 1,954 other inputs');
  });
});

describe('boundedParts', () => {
  it('keeps the spec and the trigger named, and one summary part for the rest', () => {
    const parts = ['spec@s', 'trigger@t', ...Array.from({ length: 100 }, (_, i) => `Deployment/ns/d${String(i).padStart(3, '0')}@h`)].sort();
    const kept = boundedParts(parts);
    expect(kept).toHaveLength(MAX_NAMED_PARTS);
    expect(kept).toContain('spec@s');
    expect(kept).toContain('trigger@t');
    expect(kept.at(-1)).toMatch(/^others@55:[0-9a-f]+$/);
  });

  it('changes the summary part when any summarised part changes', () => {
    const parts = Array.from({ length: 100 }, (_, i) => `Deployment/ns/d${String(i).padStart(3, '0')}@h`);
    const changed = parts.map((p, i) => (i === 99 ? p.replace('@h', '@h2') : p));
    expect(boundedParts(parts).at(-1)).not.toBe(boundedParts(changed).at(-1));
    expect(describeTrigger(boundedParts(parts), boundedParts(changed), 'Revision')).toBe('changes among 53 other inputs');
  });

  it('leaves a short list alone', () => {
    expect(boundedParts(['a@1', 'b@2'])).toEqual(['a@1', 'b@2']);
  });
});

describe('boundedTrigger and listedWatchedResources', () => {
  it('keeps short trigger values, and cuts long ones to a head and a hash that still tells values apart', () => {
    expect(boundedTrigger('2026-11-27')).toBe('2026-11-27');
    const a = boundedTrigger('a'.repeat(500) + '1')!;
    const b = boundedTrigger('a'.repeat(500) + '2')!;
    expect(a.length).toBeLessThan(128);
    expect(a).not.toBe(b);
  });

  it('lists not-ready inputs first when there are too many, keeping their order', () => {
    const all = Array.from({ length: 150 }, (_, i) => ({ name: `w${i}`, ready: i % 50 !== 7 }));
    const listed = listedWatchedResources(all);
    expect(listed).toHaveLength(MAX_WATCHED_LISTED);
    expect(listed.filter((w) => !w.ready).map((w) => w.name)).toEqual(['w7', 'w57', 'w107']);
    expect(listed.map((w) => w.name)).toEqual([...listed.map((w) => w.name)].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))));
  });
});

describe('shownOfAssessment', () => {
  const downstream: Runner = { ...runner(), spec: { runnerSelector: { matchLabels: { chain: 'c' } }, template: runner().spec.template } };
  const upstream = (i: number, result: 'Running' | 'Failed'): Runner => ({
    metadata: { name: `up-${String(i).padStart(3, '0')}`, namespace: 'qa', uid: `up-${i}`, generation: 1 },
    spec: runner().spec,
    status: { lastRun: { jobName: `up-${i}-1`, result, message: result === 'Failed' ? 'boom' : '' } },
  } as Runner);
  const shown = (failedIndex: number | null) => shownOfAssessment(assess({
    runner: downstream, workloads: [], problems: [], cycle: null,
    upstreams: Array.from({ length: 150 }, (_, i) => upstream(i, i === failedIndex ? 'Failed' : 'Running')),
  }));

  it('changes when an upstream past the listed ones fails, as the Stalled condition names it', () => {
    expect(shown(null)).toEqual(shown(null));
    expect(shown(149)).not.toEqual(shown(null));
  });
});

// What a replica that shares the Runners keeps of a Runner another replica acts on (src/operator/cached-objects.ts):
// enough for its own Runners to select it and wait for it exactly as if it kept all of it, and the same whether it is
// projected from the server's object or from what was cached of it in full.
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { foreignRunner, keptInFull, slimRunner } from '../../src/operator/cached-objects.ts';
import { assess } from '../../src/runner/assess.ts';

const upstream = (lastRun: Partial<NonNullable<Runner['status']>['lastRun']> | undefined, advisory?: boolean): Runner => ({
  apiVersion: 'e2e.stakater.com/v1alpha1',
  kind: 'Runner',
  metadata: {
    name: 'smoke', namespace: 'shop', uid: 'u-1', resourceVersion: '41', generation: 3, creationTimestamp: new Date('2026-12-01T00:00:00Z'),
    labels: { stage: 'smoke' }, annotations: { 'e2e.stakater.com/trigger': 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
  },
  spec: {
    workloadSelector: { matchLabels: { app: 'cart' } },
    runnerSelector: { matchLabels: { stage: 'build' } },
    ...(advisory !== undefined ? { advisory } : {}),
    schedule: '*/5 * * * *',
    template: { spec: { containers: [{ name: 'check', image: 'busybox', command: ['sh', '-c', 'echo '.repeat(200)] }], restartPolicy: 'Never' } },
  },
  status: {
    state: 'Succeeded',
    conditions: [{ type: 'Ready', status: 'True', reason: 'Succeeded', message: 'the latest run succeeded', lastTransitionTime: new Date('2026-12-01T00:01:00Z') }],
    snapshot: { value: 'Succeeded', context: {} },
    ...(lastRun
      ? { lastRun: { jobName: 'smoke-abc', revision: 'r1', trigger: 'rollout of Deployment shop/cart', reason: 'Revision', startTime: '2026-12-01T00:00:30Z', ...lastRun } as NonNullable<Runner['status']>['lastRun'] }
      : {}),
  },
});

const downstream: Runner = {
  metadata: { name: 'e2e', namespace: 'shop', uid: 'u-2', labels: {} },
  spec: { runnerSelector: { matchLabels: { stage: 'smoke' } }, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
};

const cases: [string, Runner][] = [
  ['no run yet', upstream(undefined)],
  ['running', upstream({ result: 'Running' })],
  ['succeeded, with a test report', upstream({ result: 'Succeeded', completionTime: '2026-12-01T00:01:00Z', tests: { total: 3, failed: 0, skipped: 0 } as never, message: 'all passed' })],
  ['failed', upstream({ result: 'Failed', message: 'exit 1' })],
  ['failed, advisory', upstream({ result: 'Failed' }, true)],
  ['ended in an error, not advisory', upstream({ result: 'Error', errorReason: 'PodEvicted' }, false)],
];

describe('a Runner another replica acts on, as cached', () => {
  it.each(cases)('gates a downstream Runner as the whole Runner does: %s', (_, whole) => {
    const gate = (u: Runner) => {
      const a = assess({ runner: downstream, workloads: [], upstreams: [u], problems: [], cycle: null });
      return { upstreamReady: a.inputs.upstreamReady, revision: a.inputs.revision, watched: a.watchedResources, blocked: a.blockedMessage };
    };
    expect(gate(foreignRunner(whole))).toEqual(gate(slimRunner(whole, false)));
  });

  it('keeps its labels and its selectors of upstreams, not its template, workload selector, conditions or snapshot', () => {
    const kept = foreignRunner(upstream({ result: 'Succeeded' }));
    expect(kept.metadata).toEqual({ name: 'smoke', namespace: 'shop', uid: 'u-1', resourceVersion: '41', generation: 3, labels: { stage: 'smoke' } });
    expect(kept.spec).toEqual({ template: {}, runnerSelector: { matchLabels: { stage: 'build' } } });
    expect(Object.keys(kept.status ?? {})).toEqual(['lastRun']);
    expect(JSON.stringify(kept).length).toBeLessThan(JSON.stringify(slimRunner(upstream({ result: 'Succeeded' }), false)).length / 2);
  });

  it('is the same projected from the server\'s object, from what was cached of it in full, or from itself', () => {
    for (const [, whole] of cases) {
      const once = foreignRunner(whole);
      expect(foreignRunner(slimRunner(whole, true))).toEqual(once);
      expect(foreignRunner(once)).toEqual(once);
    }
  });

  it('tells itself apart from a Runner kept in full, so that nothing acts on it as if it were all of it', () => {
    // A replica given a Runner acts on it only once it has read it afresh: until then its history limits, template
    // and conditions are not there to be read (defaults in their place once deleted a Job the limits keep).
    for (const [, whole] of cases) {
      expect(keptInFull(foreignRunner(whole))).toBe(false);
      expect(keptInFull(foreignRunner(slimRunner(whole, false)))).toBe(false);
      expect(keptInFull(slimRunner(whole, false))).toBe(true);
    }
  });
});

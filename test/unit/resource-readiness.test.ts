// Ready before the controller has spoken (SPEC §2.3): a selected resource whose controller has not reported a status
// on it yet is not ready, although kstatus calls it Current; readyWhen, when given, still decides alone. Pure: the
// library-side comparison is in test/unit/kstatus-differential.test.ts.
import { describe, expect, it } from 'vitest';
import type { ResourceInput, Runner } from '../../src/api/runner.ts';
import { assess } from '../../src/runner/assess.ts';
import { computeKstatus } from '../../src/runner/readiness/kstatus.ts';
import { awaitedReport, defaultReadiness, resourceReadiness, viewOfResource } from '../../src/runner/readiness/resource-readiness.ts';

const now = new Date('2026-12-01T00:00:00Z');
const HR: ResourceInput = { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', selector: { matchLabels: { app: 'podinfo' } } };
const helmRelease = (status?: unknown, metadata: object = {}) => ({
  apiVersion: 'helm.toolkit.fluxcd.io/v2',
  kind: 'HelmRelease',
  metadata: { name: 'podinfo', namespace: 'shop', uid: 'uid-podinfo', generation: 1, resourceVersion: '1', labels: { app: 'podinfo', 'runner.stakater.com/enable': 'true' }, ...metadata },
  ...(status === undefined ? {} : { status }),
});
const NOT_REPORTED = 'no status yet: its controller has not reported on generation 1; if no controller will, give this kind a readyWhen';

describe('a custom resource its controller has not reported on', () => {
  it.each([
    ['no status', undefined],
    ['status {}', {}],
    ['status null', null],
  ])('is not ready with %s, where kstatus says Current', (_, status) => {
    const object = helmRelease(status);
    expect(computeKstatus(object, now).status).toBe('Current');
    expect(awaitedReport(object)).toBe(1);
    expect(defaultReadiness(object, now)).toEqual({ ready: false, message: NOT_REPORTED });
  });

  it('is ready once its controller reports Ready on its generation, or reports its generation observed', () => {
    const released = helmRelease({ observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', message: 'released' }] });
    expect(defaultReadiness(released, now)).toEqual({ ready: true, message: 'Current: Resource is Ready' });
    expect(defaultReadiness(helmRelease({ observedGeneration: 1 }), now)).toEqual({ ready: true, message: 'Current: Resource is current' });
    expect(awaitedReport(released)).toBeNull();
  });

  it('reports the generation it waits on, and says Terminating rather than silence when it is being deleted', () => {
    expect(defaultReadiness(helmRelease(undefined, { generation: 4 }), now).message).toContain('not reported on generation 4');
    expect(defaultReadiness(helmRelease(undefined, { deletionTimestamp: '2026-12-01T00:00:00Z' }), now)).toEqual({ ready: false, message: 'Terminating: Resource scheduled for deletion' });
  });

  it('is judged by readyWhen alone when the entry has one', () => {
    const view = viewOfResource(helmRelease(), ['true', 'has(object.status)'], now);
    expect(resourceReadiness(view, undefined)).toEqual({ ready: false, message: NOT_REPORTED });
    expect(resourceReadiness(view, 'true')).toEqual({ ready: true, message: 'readyWhen is true' });
    expect(resourceReadiness(view, 'has(object.status)')).toEqual({ ready: false, message: 'readyWhen is false' });
  });

  it('keeps its Runner waiting, and the message says why', () => {
    const runner: Runner = { metadata: { namespace: 'qa', name: 'smoke', uid: 'uid-smoke', generation: 1 }, spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } }, resources: [HR] } };
    const a = assess({ runner, workloads: [], upstreams: [], problems: [], cycle: null, resources: [{ index: 0, input: HR, availability: { state: 'ready' }, objects: [viewOfResource(helmRelease(), [], now)] }] });
    expect(a.inputs.workloadsReady).toBe(false);
    expect(a.blockedMessage).toBe(`waiting for resource HelmRelease shop/podinfo (${NOT_REPORTED})`);
    expect(a.watchedResources).toMatchObject([{ name: 'podinfo', ready: false, message: NOT_REPORTED }]);
  });
});

describe('objects that have no status to wait for', () => {
  it('a ConfigMap or Secret (no generation, no status) is ready by existing, as kstatus says', () => {
    for (const kind of ['ConfigMap', 'Secret']) {
      const object = { apiVersion: 'v1', kind, metadata: { name: 'settings', namespace: 'shop' } };
      expect(awaitedReport(object)).toBeNull();
      expect(defaultReadiness(object, now)).toEqual({ ready: true, message: 'Current: Resource is always ready' });
    }
    expect(defaultReadiness({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }, now).ready).toBe(true);
  });

  it("a built-in kind keeps kstatus' rule for it: a Deployment without status is not ready, a CronJob always ready", () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'cart', generation: 1 }, spec: { replicas: 2 } };
    expect(awaitedReport(deployment)).toBeNull();
    expect(defaultReadiness(deployment, now)).toEqual({ ready: false, message: 'InProgress: Replicas: 0/2' });
    const cronJob = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', generation: 1 }, status: {} };
    expect(defaultReadiness(cronJob, now)).toEqual({ ready: true, message: 'Current: Resource is always ready' });
  });
});

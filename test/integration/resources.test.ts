// SPEC §2.3, §3.1: spec.resources — objects of any kind as inputs. CRDs with the real group, version and kind of
// Flux's HelmRelease, Argo CD's Application, Argo Rollouts' Rollout and Knative's Service are installed on the test
// cluster, and the tests set their status as those controllers would. Read access is granted as installs grant
// it: a ClusterRole labelled for aggregation into deploy/rbac's hestia-operator-watched-resources.
import { readFileSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { operatorEnvironment } from './support/environment.ts';
import {
  ARGO_APPLICATION, ARGO_ROLLOUT, apiVersionOf, createObject, grantRead, HELM_RELEASE, installKind, KNATIVE_SERVICE, patchSpec, revokeRead,
  setStatus, uninstallKind,
} from './support/foreign-kinds.ts';
import { condition, createRunner, deleteRunner, ENABLE, jobsOf, runnerManifest, waitFor, waitForRunner } from './support/kube.ts';

const env = operatorEnvironment('resources', {
  beforeStart: async () => {
    for (const kind of [HELM_RELEASE, ARGO_APPLICATION, KNATIVE_SERVICE, ARGO_ROLLOUT]) {
      await revokeRead(kind);
      await uninstallKind(kind);
    }
    await installKind(HELM_RELEASE);
    await installKind(ARGO_APPLICATION);
    await grantRead(HELM_RELEASE);
    await grantRead(ARGO_APPLICATION);
  },
});

afterAll(async () => {
  for (const kind of [HELM_RELEASE, ARGO_APPLICATION, KNATIVE_SERVICE, ARGO_ROLLOUT]) {
    await revokeRead(kind);
    await uninstallKind(kind);
  }
});

const sample = (file: string): Runner => {
  const runner = (loadAllYaml(readFileSync(new URL(`../../deploy/samples/${file}`, import.meta.url), 'utf8')) as Runner[]).find((o) => o.kind === 'Runner')!;
  return { ...runner, metadata: { ...runner.metadata, namespace: env.ns } };
};

const stateIs = (state: string) => (r: Runner) => r.status?.state === state;
const released = (generation: number) => ({
  observedGeneration: generation,
  conditions: [{ type: 'Ready', status: 'True', reason: 'UpgradeSucceeded', message: `Helm upgrade succeeded for generation ${generation}`, lastTransitionTime: '2026-11-28T00:00:00Z' }],
});

describe('spec.resources', () => {
  it('runs when a Flux HelmRelease is released (kstatus Current), and again for its next generation (deploy/samples/runner-helmrelease.yaml)', async () => {
    const { ns } = env;
    await createObject(HELM_RELEASE, ns, 'podinfo', { app: 'podinfo', ...ENABLE }, { interval: '5m' });
    await createObject(HELM_RELEASE, ns, 'podinfo-no-consent', { app: 'podinfo' });
    await setStatus(HELM_RELEASE, ns, 'podinfo', {
      observedGeneration: 1,
      conditions: [{ type: 'Reconciling', status: 'True', reason: 'Progressing', message: "Running 'install' action with timeout of 5m0s", lastTransitionTime: '2026-11-28T00:00:00Z' }],
    });
    await createRunner(sample('runner-helmrelease.yaml'));

    const waiting = await waitForRunner(ns, 'podinfo-smoke', 'waiting for the HelmRelease', (r) => r.status?.message?.includes('InProgress') === true);
    expect(waiting.status?.state).toBe('WaitingForWorkloads');
    expect(waiting.status?.message).toBe(`waiting for resource HelmRelease ${ns}/podinfo (InProgress: Running 'install' action with timeout of 5m0s)`);
    // Only the HelmRelease with the consent label is an input.
    expect(waiting.status?.watchedResources).toEqual([
      { kind: 'HelmRelease', apiVersion: apiVersionOf(HELM_RELEASE), namespace: ns, name: 'podinfo', ready: false, message: "InProgress: Running 'install' action with timeout of 5m0s" },
    ]);
    expect(await jobsOf(ns, 'podinfo-smoke')).toHaveLength(0);

    await setStatus(HELM_RELEASE, ns, 'podinfo', released(1));
    const first = await waitForRunner(ns, 'podinfo-smoke', 'Succeeded', stateIs('Succeeded'));
    expect(first.status?.lastRun?.trigger).toBe('first run');
    expect(first.status?.watchedResources?.[0]).toMatchObject({ name: 'podinfo', ready: true, message: 'Current: Resource is Ready' });

    // New values: a new generation, not yet released — the Runner waits, then runs once it is.
    const generation = await patchSpec(HELM_RELEASE, ns, 'podinfo', { values: { replicaCount: 2 } });
    expect(generation).toBe(2);
    const rollingOut = await waitForRunner(ns, 'podinfo-smoke', 'waiting for generation 2', stateIs('WaitingForWorkloads'));
    expect(rollingOut.status?.message).toContain('HelmRelease generation is 2, but latest observed generation is 1');
    await setStatus(HELM_RELEASE, ns, 'podinfo', released(2));
    const second = await waitForRunner(ns, 'podinfo-smoke', 'a second run', (r) => r.status?.state === 'Succeeded' && r.status.lastRun?.jobName !== first.status?.lastRun?.jobName);
    expect(second.status?.lastRun?.trigger).toBe(`change of HelmRelease ${ns}/podinfo`);
    expect(await jobsOf(ns, 'podinfo-smoke')).toHaveLength(2);
  });

  it('waits for a HelmRelease just created, whose controller has not reported a status yet, and runs once it reports Ready', async () => {
    const { ns } = env;
    const entry = { apiVersion: apiVersionOf(HELM_RELEASE), kind: 'HelmRelease', selector: { matchLabels: { app: 'fresh-release' } } };
    await createRunner(runnerManifest(ns, 'fresh-release-check', { resources: [entry] }));
    await waitForRunner(ns, 'fresh-release-check', 'waiting for a match', (r) => r.status?.message?.startsWith('no enabled HelmRelease') === true);

    // Created a moment ago, as `kubectl apply` leaves it: generation 1, no status. kstatus calls it Current.
    await createObject(HELM_RELEASE, ns, 'fresh', { app: 'fresh-release', ...ENABLE }, { interval: '5m' });
    const seen = await waitForRunner(ns, 'fresh-release-check', 'the HelmRelease seen', (r) => r.status?.message?.includes(`HelmRelease ${ns}/fresh`) === true || r.status?.state !== 'WaitingForWorkloads');
    const why = 'no status yet: its controller has not reported on generation 1; if no controller will, give this kind a readyWhen';
    expect(seen.status?.state).toBe('WaitingForWorkloads');
    expect(seen.status?.message).toBe(`waiting for resource HelmRelease ${ns}/fresh (${why})`);
    expect(seen.status?.watchedResources).toEqual([{ kind: 'HelmRelease', apiVersion: apiVersionOf(HELM_RELEASE), namespace: ns, name: 'fresh', ready: false, message: why }]);
    expect(await jobsOf(ns, 'fresh-release-check')).toHaveLength(0);

    // Flux reports: installed, Ready on generation 1. Now it runs, once.
    await setStatus(HELM_RELEASE, ns, 'fresh', released(1));
    const done = await waitForRunner(ns, 'fresh-release-check', 'Succeeded', stateIs('Succeeded'));
    expect(done.status?.lastRun?.trigger).toBe('first run');
    expect(done.status?.watchedResources?.[0]).toMatchObject({ name: 'fresh', ready: true, message: 'Current: Resource is Ready' });
    expect(await jobsOf(ns, 'fresh-release-check')).toHaveLength(1);
  });

  it('runs when an Argo CD Application is synced and healthy, by readyWhen (deploy/samples/runner-argocd-application.yaml)', async () => {
    const { ns } = env;
    await createObject(ARGO_APPLICATION, ns, 'guestbook', { app: 'guestbook', ...ENABLE }, { project: 'default' });
    await setStatus(ARGO_APPLICATION, ns, 'guestbook', { health: { status: 'Progressing' }, sync: { status: 'OutOfSync' } });
    await createRunner(sample('runner-argocd-application.yaml'));

    // kstatus would call this Application Current (it has no conditions); readyWhen says it is not ready.
    // The operator's cache may first hold the Application from before its status was written ("readyWhen: No such
    // key: status"): wait for the verdict on the status written, which must keep the Runner waiting.
    const expected = `waiting for resource Application ${ns}/guestbook (readyWhen is false)`;
    const waiting = await waitForRunner(ns, 'guestbook-e2e', 'waiting for the Application, readyWhen false', (r) => stateIs('WaitingForWorkloads')(r) && r.status?.message === expected);
    expect(waiting.status?.lastRun?.result ?? null).toBeNull();
    await setStatus(ARGO_APPLICATION, ns, 'guestbook', { health: { status: 'Healthy' }, sync: { status: 'Synced' } });
    const done = await waitForRunner(ns, 'guestbook-e2e', 'Succeeded', stateIs('Succeeded'));
    expect(done.status?.watchedResources).toEqual([{ kind: 'Application', apiVersion: apiVersionOf(ARGO_APPLICATION), namespace: ns, name: 'guestbook', ready: true, message: 'readyWhen is true' }]);
  });

  it('reports a readyWhen that is not a boolean CEL expression as Stalled/InvalidSpec, naming the field', async () => {
    const { ns } = env;
    await createRunner(runnerManifest(ns, 'bad-ready-when', {
      resources: [
        { apiVersion: apiVersionOf(ARGO_APPLICATION), kind: 'Application', selector: {} },
        { apiVersion: apiVersionOf(ARGO_APPLICATION), kind: 'Application', selector: {}, readyWhen: "object.status.health.status == 'Healthy' &&" },
      ],
    }));
    const invalid = await waitForRunner(ns, 'bad-ready-when', 'Invalid', stateIs('Invalid'));
    expect(condition(invalid, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(invalid.status?.message).toMatch(/^spec\.resources\[1\]\.readyWhen: .* is not a CEL expression/);
  });

  it('reports a kind that is not served, and picks it up once its CRD is installed (an Argo Rollout)', async () => {
    const { ns } = env;
    const rollouts = { apiVersion: apiVersionOf(ARGO_ROLLOUT), kind: 'Rollout', selector: { matchLabels: { app: 'checkout' } }, readyWhen: "object.status.phase == 'Healthy'" };
    await createRunner(runnerManifest(ns, 'rollout-check', { resources: [rollouts] }));
    // Waiting first while the kind is looked up ("looking it up"), then for the answer.
    const unserved = await waitForRunner(ns, 'rollout-check', 'not served', (r) => stateIs('WaitingForWorkloads')(r) && r.status?.message === 'kind Rollout (argoproj.io/v1alpha1) is not served by this cluster');
    expect(condition(unserved, 'ReconcileSuccess')?.status).toBe('True');

    // The CRD appears on the running operator.
    await installKind(ARGO_ROLLOUT);
    await grantRead(ARGO_ROLLOUT);
    await createObject(ARGO_ROLLOUT, ns, 'checkout', { app: 'checkout', ...ENABLE }, { replicas: 2 });
    await setStatus(ARGO_ROLLOUT, ns, 'checkout', { observedGeneration: '1', phase: 'Progressing' });
    await waitForRunner(ns, 'rollout-check', 'the Rollout seen', (r) => r.status?.message === `waiting for resource Rollout ${ns}/checkout (readyWhen is false)`);
    await setStatus(ARGO_ROLLOUT, ns, 'checkout', { observedGeneration: '1', phase: 'Healthy' });
    await waitForRunner(ns, 'rollout-check', 'Succeeded', stateIs('Succeeded'));

    // The last Runner naming the kind is gone: so is its watch.
    expect(env.operator.watchCaches.map((c) => c.source.kind)).toContain('Rollout');
    await deleteRunner(ns, 'rollout-check');
    await waitFor('the Rollout watch stopped', () => !env.operator.watchCaches.some((c) => c.source.kind === 'Rollout'));
  });

  it('reports a kind the operator may not read, naming the permission, and picks it up once it is granted (a Knative Service)', async () => {
    const { ns } = env;
    await installKind(KNATIVE_SERVICE);
    await createObject(KNATIVE_SERVICE, ns, 'hello', { app: 'hello', ...ENABLE });
    await setStatus(KNATIVE_SERVICE, ns, 'hello', { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }, { type: 'RoutesReady', status: 'True' }] });
    await createRunner(runnerManifest(ns, 'knative-check', { resources: [{ apiVersion: apiVersionOf(KNATIVE_SERVICE), kind: 'Service', selector: { matchLabels: { app: 'hello' } } }] }));

    const forbidden = await waitForRunner(ns, 'knative-check', 'forbidden', (r) => r.status?.message?.includes('may not be read') === true);
    expect(forbidden.status?.state).toBe('WaitingForWorkloads');
    expect(forbidden.status?.message).toContain('kind Service (serving.knative.dev/v1) may not be read by the operator');
    expect(forbidden.status?.message).toContain('cannot list resource "services" in API group "serving.knative.dev"');
    expect(forbidden.status?.message).toContain('grant get, list and watch on services.serving.knative.dev');
    expect(condition(forbidden, 'ReconcileSuccess')?.status).toBe('True');
    expect(env.operator.ready).toBe(true);

    await grantRead(KNATIVE_SERVICE);
    const done = await waitForRunner(ns, 'knative-check', 'Succeeded once granted', stateIs('Succeeded'), 90_000);
    expect(done.status?.watchedResources).toEqual([{ kind: 'Service', apiVersion: 'serving.knative.dev/v1', namespace: ns, name: 'hello', ready: true, message: 'Current: Resource is Ready' }]);
  });
});

// SPEC §3.3: exactly one run per revision of a Runner's inputs.
import type { V1Job } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATION_RUN_KEY } from '../../src/runner/job.ts';
import {
  apps, condition, core, createDeployment, createRunner, deploymentAvailable, ENABLE, jobsOf, patchRunner, rollOut, runnerManifest, stays, waitFor, waitForRunner,
} from './support/kube.ts';
import { operatorEnvironment } from './support/environment.ts';
import { startOperator } from './support/operator.ts';

const env = operatorEnvironment('revisions');

const jobCount = async (runner: string) => (await jobsOf(env.ns, runner)).length;

/** The Job of the Runner's latest run: run keys start with the run's number. */
const latestJob = (jobs: V1Job[]) => jobs.sort((a, b) => runNumber(b) - runNumber(a))[0]?.metadata?.name;
const runNumber = (job: V1Job) => Number.parseInt(job.metadata?.annotations?.[ANNOTATION_RUN_KEY] ?? '0', 10);

/** Waits for the Runner's n-th run to finish and returns its status (not the status of the run before it). */
async function runsFinished(runner: string, n: number) {
  const jobs = await waitFor(`${n} Job(s) of ${runner}`, async () => {
    const found = await jobsOf(env.ns, runner);
    return found.length >= n && found;
  });
  const newest = latestJob(jobs);
  return waitForRunner(env.ns, runner, `run ${n} finished`, (r) => r.status?.state === 'Succeeded' && condition(r, 'JobCompleted')?.status === 'True' && r.status.lastRun?.jobName === newest);
}

describe('run once per revision', () => {
  const app = 'shop';
  beforeAll(async () => {
    await createDeployment(env.ns, app, { app, ...ENABLE }, 2);
    // History limit above the number of runs here, so counting Jobs counts runs.
    await createRunner(runnerManifest(env.ns, 'smoke', { workloadSelector: { matchLabels: { app } }, successfulRunsHistoryLimit: 10 }));
    await runsFinished('smoke', 1);
  });

  it('runs once more after a rollout, when the new pods are ready', async () => {
    const before = (await waitForRunner(env.ns, 'smoke', 'has run', (r) => !!r.status?.lastRun)).status!.lastRun!.jobName;
    await rollOut(env.ns, app, 'v2');
    const after = await runsFinished('smoke', 2);
    expect(await deploymentAvailable(env.ns, app)).toBe(true);
    expect(after.status?.lastRun?.jobName).not.toBe(before);
    expect(after.status?.lastRun?.trigger).toBe(`rollout of Deployment ${env.ns}/${app}`);
    expect(await jobCount('smoke')).toBe(2);
  });

  it('does not run on scaling', async () => {
    await apps.patchNamespacedDeploymentScale(
      { namespace: env.ns, name: app, body: { spec: { replicas: 3 } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await waitFor('3 replicas available', async () => (await apps.readNamespacedDeployment({ namespace: env.ns, name: app })).status?.availableReplicas === 3);
    await stays('a Job appears after scaling', async () => (await jobCount('smoke')) !== 2, 2500);
  });

  it('does not run when a pod restarts and the workload goes not-ready and back at the same revision', async () => {
    const pods = await core.listNamespacedPod({ namespace: env.ns, labelSelector: `app=${app}` });
    await core.deleteNamespacedPod({ namespace: env.ns, name: pods.items[0]!.metadata!.name!, gracePeriodSeconds: 0 });
    await waitFor('the Deployment to be available again', () => deploymentAvailable(env.ns, app));
    await stays('a Job appears after a pod restart', async () => (await jobCount('smoke')) !== 2, 2500);
    expect((await waitForRunner(env.ns, 'smoke', 'Succeeded', (r) => r.status?.state === 'Succeeded')).status?.state).toBe('Succeeded');
  });

  it('runs once for a newly matched workload', async () => {
    await createDeployment(env.ns, 'shop-extra', { app, ...ENABLE });
    const after = await runsFinished('smoke', 3);
    expect(after.status?.lastRun?.trigger).toContain(`Deployment ${env.ns}/shop-extra`);
    expect(after.status?.watchedResources?.map((w) => w.name)).toEqual(['shop', 'shop-extra']);
  });

  it('runs once for a change of the Runner spec, and not for run-control fields', async () => {
    await patchRunner(env.ns, 'smoke', { spec: { deadlineSeconds: 300 } });
    await runsFinished('smoke', 4);
    await patchRunner(env.ns, 'smoke', { spec: { failedRunsHistoryLimit: 5 } });
    await stays('a Job appears after a history-limit change', async () => (await jobCount('smoke')) !== 4, 2500);
  });

  it('does not run again when the operator restarts', async () => {
    await env.operator.stop();
    env.operator = await startOperator();
    await stays('a Job appears after an operator restart', async () => (await jobCount('smoke')) !== 4, 3000);
    const r = await waitForRunner(env.ns, 'smoke', 'Succeeded', (x) => x.status?.state === 'Succeeded');
    expect(condition(r, 'JobCompleted')?.status).toBe('True');
  });
});

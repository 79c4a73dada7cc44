// Issue 2's vertical slice: a selected, enabled Deployment becomes ready → exactly one Job →
// status says how it went. SPEC §3.1, §3.2, §4, §5, §8.1.
import { describe, expect, it } from 'vitest';
import { condition, createDeployment, createRunner, ENABLE, jobsOf, runnerManifest, stays, waitForRunner } from './support/kube.ts';
import { operatorEnvironment } from './support/environment.ts';

const env = operatorEnvironment('first-run');

describe('an event-triggered Runner', () => {
  it('runs the SPEC §8.1 example exactly once when its Deployment is ready, and reports success', async () => {
    await createDeployment(env.ns, 'my-app', { app: 'my-app', ...ENABLE }, 2);
    await createRunner(runnerManifest(env.ns, 'my-generic-runner', { workloadSelector: { matchLabels: { app: 'my-app' } } }, { app: 'my-app' }));

    const done = await waitForRunner(env.ns, 'my-generic-runner', 'JobCompleted=True', (r) => condition(r, 'JobCompleted')?.status === 'True');
    expect(condition(done, 'JobCompleted')).toMatchObject({ status: 'True', reason: 'Successful' });
    expect(condition(done, 'ReconcileSuccess')).toMatchObject({ status: 'True', reason: 'LastReconcileCycleSucceded' });
    expect(done.status?.state).toBe('Succeeded');
    expect(done.status?.lastSuccessfulRunTime).toBeTruthy();
    expect(done.status?.watchedResources).toEqual([{ name: 'my-app', namespace: env.ns, kind: 'Deployment', ready: true, message: expect.any(String) }]);

    const jobs = await jobsOf(env.ns, 'my-generic-runner');
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.metadata?.labels).toMatchObject({ 'runner.stakater.com/name': 'my-generic-runner', 'runner.stakater.com/namespace': env.ns });
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Runner', name: 'my-generic-runner', controller: true });
    expect(job.metadata?.name).toBe(done.status?.lastRun?.jobName);
    await stays('a second Job appears', async () => (await jobsOf(env.ns, 'my-generic-runner')).length !== 1, 2000);
  });

  it('reports JobCompleted=False/Failed when the Job fails', async () => {
    await createDeployment(env.ns, 'fragile', { app: 'fragile', ...ENABLE });
    await createRunner(runnerManifest(env.ns, 'failing-runner', { workloadSelector: { matchLabels: { app: 'fragile' } } }, {}, true));

    const failed = await waitForRunner(env.ns, 'failing-runner', 'JobCompleted reason Failed', (r) => condition(r, 'JobCompleted')?.reason === 'Failed');
    expect(condition(failed, 'JobCompleted')?.status).toBe('False');
    expect(failed.status?.state).toBe('Failed');
    expect(failed.status?.lastFailedRunTime).toBeTruthy();
    expect(failed.status?.lastSuccessfulRunTime).toBeUndefined();
    expect(await jobsOf(env.ns, 'failing-runner')).toHaveLength(1);
  });

  it('never matches a Deployment that lacks runner.stakater.com/enable: "true"', async () => {
    await createDeployment(env.ns, 'no-consent', { app: 'no-consent' });
    await createRunner(runnerManifest(env.ns, 'consent-runner', { workloadSelector: { matchLabels: { app: 'no-consent' } } }));

    const waiting = await waitForRunner(env.ns, 'consent-runner', 'state WaitingForWorkloads', (r) => r.status?.state === 'WaitingForWorkloads');
    expect(waiting.status?.watchedResources ?? []).toEqual([]);
    expect(waiting.status?.message).toContain('runner.stakater.com/enable');
    expect(condition(waiting, 'JobCompleted')).toMatchObject({ status: 'False', reason: 'JobNotFound' });
    await stays('a Job is created for a Deployment without consent', async () => (await jobsOf(env.ns, 'consent-runner')).length > 0, 3000);
  });
});

// SPEC §4: the Jobs a Runner makes — names, labels, owner, settings, and history limits.
import { describe, expect, it } from 'vitest';
import { jobOutcome } from '../../src/runner/job.ts';
import { createRunner, deleteRunner, jobsOf, patchRunner, runnerManifest, stays, waitFor, waitForRunner } from './support/kube.ts';
import { operatorEnvironment } from './support/environment.ts';

const env = operatorEnvironment('jobs');

const trigger = (name: string, value: string) => patchRunner(env.ns, name, { metadata: { annotations: { 'runner.stakater.com/trigger': value } } });
const finishedRuns = async (name: string, phase: 'Succeeded' | 'Failed') => (await jobsOf(env.ns, name)).filter((j) => jobOutcome(j).phase === phase).length;

describe('Jobs', () => {
  it('get a deterministic DNS-1123 name from jobName, the three labels, an owner, and the Runner settings', async () => {
    await createRunner(runnerManifest(env.ns, 'settings', { jobName: 'a-very-long-job-name-prefix-that-goes-on-and-on-x', deadlineSeconds: 120 }));
    const r = await waitForRunner(env.ns, 'settings', 'Succeeded', (x) => x.status?.state === 'Succeeded');
    const [job] = await jobsOf(env.ns, 'settings');
    expect(job!.metadata!.name).toBe(r.status!.lastRun!.jobName);
    expect(job!.metadata!.name!.length).toBeLessThanOrEqual(63);
    expect(job!.metadata!.name).toMatch(/^a-very-long-job-name-prefix[-a-z0-9]*$/);
    expect(job!.metadata!.labels).toMatchObject({
      'runner.stakater.com/name': 'settings',
      'runner.stakater.com/namespace': env.ns,
      'runner.stakater.com/revision': r.status!.lastRun!.revision,
    });
    expect(job!.metadata!.ownerReferences).toMatchObject([{ kind: 'Runner', name: 'settings', uid: r.metadata.uid, controller: true }]);
    expect(job!.spec).toMatchObject({ activeDeadlineSeconds: 120, backoffLimit: 1, ttlSecondsAfterFinished: 1800 });
    expect(job!.spec!.template.spec!.restartPolicy).toBe('Never');
  });

  it('keeps 3 successful and 1 failed finished Jobs by default, deleting older ones', async () => {
    await createRunner(runnerManifest(env.ns, 'history', {}));
    await waitForRunner(env.ns, 'history', 'first run done', (x) => x.status?.state === 'Succeeded');
    for (const value of ['1', '2', '3', '4']) {
      await trigger('history', value);
      await waitForRunner(env.ns, 'history', `run for trigger ${value}`, (x) => x.status?.state === 'Succeeded' && x.status.lastRun?.trigger === `manual trigger "${value}"`);
    }
    await waitFor('only 3 successful Jobs kept', async () => (await finishedRuns('history', 'Succeeded')) === 3);

    await createRunner(runnerManifest(env.ns, 'history-failed', {}, {}, true));
    await waitForRunner(env.ns, 'history-failed', 'first run failed', (x) => x.status?.state === 'Failed');
    await trigger('history-failed', 'again');
    await waitForRunner(env.ns, 'history-failed', 'second run failed', (x) => x.status?.state === 'Failed' && x.status.lastRun?.trigger === 'manual trigger "again"');
    await waitFor('only 1 failed Job kept', async () => (await finishedRuns('history-failed', 'Failed')) === 1);
    await stays('more Jobs are deleted than the limit asks', async () => (await finishedRuns('history', 'Succeeded')) !== 3, 1000);
  });

  it('are deleted with their Runner (ownerReference)', async () => {
    await deleteRunner(env.ns, 'settings');
    await waitFor('the Jobs of a deleted Runner to be collected', async () => (await jobsOf(env.ns, 'settings')).length === 0);
  });
});

// SPEC §4 at a rollout several Runners check: the finished Jobs beyond their history limits go in one
// deletecollection (the shipped RBAC allows it, the API server parses the selector), and only those Jobs go.
import { describe, expect, it } from 'vitest';
import { requestsBy, summarise } from './support/audit.ts';
import { OPERATOR_USER } from './support/identity.ts';
import {
  createDeployment, createRunner, deploymentAvailable, ENABLE, jobsOf, rollOut, runnerManifest, waitFor, waitForRunner,
} from './support/kube.ts';
import { operatorEnvironment } from './support/environment.ts';

// Long enough that the five runs of one rollout finish inside it on a busy machine.
const env = operatorEnvironment('job-batch', { jobPruneWindowMs: 5_000 });
const RUNNERS = ['one', 'two', 'three', 'four', 'five'];

describe('the history limits at a rollout five Runners check', () => {
  it('delete the five older Jobs in one request, and keep each Runner its newest', async () => {
    await createDeployment(env.ns, 'shop', { app: 'shop', ...ENABLE }, 1);
    await createDeployment(env.ns, 'elsewhere', { app: 'elsewhere', ...ENABLE }, 1);
    for (const name of RUNNERS) await createRunner(runnerManifest(env.ns, name, { workloadSelector: { matchLabels: { app: 'shop' } }, successfulRunsHistoryLimit: 1 }));
    // A Runner of another workload: its Job is labelled like the others and must survive the batch.
    await createRunner(runnerManifest(env.ns, 'bystander', { workloadSelector: { matchLabels: { app: 'elsewhere' } }, successfulRunsHistoryLimit: 1 }));
    for (const name of [...RUNNERS, 'bystander']) await waitForRunner(env.ns, name, 'first run', (r) => r.status?.state === 'Succeeded');
    const first = new Map(await Promise.all(RUNNERS.map(async (name) => [name, (await jobsOf(env.ns, name)).map((j) => j.metadata!.name!)] as const)));
    const [bystanderJob] = await jobsOf(env.ns, 'bystander');
    expect(bystanderJob!.metadata!.labels!['runner.stakater.com/job']).toBe(bystanderJob!.metadata!.name);

    const since = new Date();
    await rollOut(env.ns, 'shop', 'v2');
    await waitFor('the rollout', () => deploymentAvailable(env.ns, 'shop'));
    for (const name of RUNNERS) {
      await waitForRunner(env.ns, name, 'its second run', (r) => r.status?.state === 'Succeeded' && !first.get(name)!.includes(r.status.lastRun?.jobName ?? ''));
    }
    await waitFor('each Runner down to its newest Job', async () => {
      const left = await Promise.all(RUNNERS.map((name) => jobsOf(env.ns, name)));
      return left.every((jobs) => jobs.length === 1 && !first.get(jobs[0]!.metadata!.labels!['runner.stakater.com/name']!)!.includes(jobs[0]!.metadata!.name!));
    }, 30_000);

    // A lone name in a window goes by name: none did, so the five went together (a prune that runs again before the
    // server's DELETE events arrive may send one more batch, which deletes nothing).
    const deletes = summarise(requestsBy(OPERATOR_USER, since, env.ns).filter((e) => e.objectRef?.resource === 'jobs' && e.verb.startsWith('delete')));
    expect(deletes['delete jobs']).toBeUndefined();
    expect(deletes['deletecollection jobs']).toBeGreaterThanOrEqual(1);
    expect((await jobsOf(env.ns, 'bystander')).map((j) => j.metadata!.name)).toEqual([bystanderJob!.metadata!.name]);
  }, 120_000);
});

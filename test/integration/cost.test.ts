// SPEC §6, §9: the operator's cost per event does not grow with the number of Runners, and it
// is quiet when nothing changes. Counted from the API server's audit log.
import { describe, expect, it } from 'vitest';
import { nonWatch, requestsBy, summarise } from './support/audit.ts';
import { OPERATOR_USER } from './support/identity.ts';
import {
  core, createDeployment, createRunner, deploymentAvailable, ENABLE, jobsOf, rollOut, runnerManifest, waitFor, waitForRunner,
} from './support/kube.ts';
import { operatorEnvironment } from './support/environment.ts';

const env = operatorEnvironment('cost');

/** Waits until the operator has made no new request for `quietMs`; returns the time it went quiet. */
async function operatorQuiet(since: Date, quietMs = 1500, namespace: string | null = env.ns): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  await waitFor('the operator to go quiet', () => {
    const n = nonWatch(requestsBy(OPERATOR_USER, since, namespace ?? undefined)).length;
    if (n !== last) {
      last = n;
      stableSince = Date.now();
      return false;
    }
    return Date.now() - stableSince >= quietMs;
  }, 60_000);
}

async function addUnrelatedRunners(from: number, to: number): Promise<void> {
  const batch: Promise<unknown>[] = [];
  for (let i = from; i < to; i++) {
    batch.push(createRunner(runnerManifest(env.ns, `unrelated-${i}`, { workloadSelector: { matchLabels: { app: `nothing-${i}` } } })));
    if (batch.length === 20) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  await waitForRunner(env.ns, `unrelated-${to - 1}`, 'seen by the operator', (r) => r.status?.state === 'WaitingForWorkloads');
}

/** One rollout of the watched Deployment: the requests the operator made for it. */
async function measureRollout(version: string): Promise<{ total: number; detail: Record<string, number>; statusPatched: string[] }> {
  const jobsBefore = (await jobsOf(env.ns, 'watcher')).length;
  await operatorQuiet(new Date(Date.now() - 2000));
  const since = new Date();
  await rollOut(env.ns, 'target', version);
  await waitFor('the rollout', () => deploymentAvailable(env.ns, 'target'));
  await waitFor('the new run', async () => (await jobsOf(env.ns, 'watcher')).length === jobsBefore + 1);
  await waitForRunner(env.ns, 'watcher', 'Succeeded', (r) => r.status?.state === 'Succeeded' && r.status.lastRun?.result === 'Succeeded');
  await operatorQuiet(since);
  const requests = nonWatch(requestsBy(OPERATOR_USER, since, env.ns));
  const statusPatched = [...new Set(requests.filter((e) => e.objectRef?.subresource === 'status').map((e) => e.objectRef?.name ?? '?'))];
  return { total: requests.length, detail: summarise(requests), statusPatched };
}

describe('cost per event', () => {
  it('makes the same requests for one rollout with 10 and with 300 unrelated Runners', async () => {
    await createDeployment(env.ns, 'target', { app: 'target', ...ENABLE }, 2);
    await createRunner(runnerManifest(env.ns, 'watcher', { workloadSelector: { matchLabels: { app: 'target' } } }));
    await waitForRunner(env.ns, 'watcher', 'first run', (r) => r.status?.state === 'Succeeded');

    await addUnrelatedRunners(0, 10);
    const with10 = await measureRollout('v2');
    await addUnrelatedRunners(10, 300);
    const with300 = await measureRollout('v3');

    console.log(`requests for one rollout: ${with10.total} with 10 Runners, ${with300.total} with 300 Runners`);
    console.log('with 10: ', JSON.stringify(with10.detail));
    console.log('with 300:', JSON.stringify(with300.detail));
    // Exactly one Job and the same Events (the run's end on the Runner, the check on the Deployment); status is
    // written for the watched Runner only: once when the run starts, once when it ends, and once before them if the
    // rollout outlasts the second a waiting status is held back — timing, not the number of Runners, so bounded.
    const { 'patch runners/status': patches10 = 0, ...rest10 } = with10.detail;
    const { 'patch runners/status': patches300 = 0, ...rest300 } = with300.detail;
    expect(rest300).toEqual(rest10);
    expect(rest10).toEqual({ 'create jobs': 1, 'create events': 2 });
    expect(with10.statusPatched).toEqual(['watcher']);
    expect(with300.statusPatched).toEqual(['watcher']);
    expect(Math.max(patches10, patches300)).toBeLessThanOrEqual(3);
  }, 300_000);

  it('sends no request but watches while idle', async () => {
    // Idle means the whole cluster: first let earlier test files' namespaces finish terminating.
    await waitFor('other test namespaces to be gone', async () =>
      (await core.listNamespace()).items.every((n) => n.status?.phase !== 'Terminating'), 120_000);
    await operatorQuiet(new Date(Date.now() - 1000), 1500, null);
    const since = new Date();
    await new Promise((r) => setTimeout(r, 10_000)); // the measured window itself, not a synchronisation
    const idle = nonWatch(requestsBy(OPERATOR_USER, since));
    console.log(`requests in 10 idle seconds with ${env.operator.stats.runners} Runners: ${idle.length}`, JSON.stringify(summarise(idle)));
    expect(idle).toEqual([]);
  }, 60_000);
});

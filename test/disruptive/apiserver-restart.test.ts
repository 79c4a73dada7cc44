// SPEC §6: the API server restarts under a running operator. client-node's informer stops for
// good on such a failure; ours restart with backoff, report not-ready meanwhile, and miss nothing.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createDeployment, createRunner, ENABLE, jobsOf, runnerManifest, waitFor, waitForRunner } from '../integration/support/kube.ts';
import { operatorEnvironment } from '../integration/support/environment.ts';

const env = operatorEnvironment('apiserver-restart');

function kwokctl(...args: string[]) {
  const bin = process.env.HESTIA_KUBE_BIN_DIR;
  const cluster = process.env.HESTIA_CLUSTER_NAME;
  if (!bin || !cluster) throw new Error('run through test/cluster/with-cluster.sh');
  const workdir = process.env.HESTIA_KWOK_WORKDIR ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME!, '.cache'), 'hestia', 'kwok');
  return promisify(execFile)(join(bin, 'kwokctl'), ['--name', cluster, ...args], { env: { ...process.env, KWOK_WORKDIR: workdir } });
}

describe('an API server restart', () => {
  it('is survived: watches come back, and a Deployment created after it is seen and checked', async () => {
    await createDeployment(env.ns, 'before', { app: 'before', ...ENABLE });
    await createRunner(runnerManifest(env.ns, 'before', { workloadSelector: { matchLabels: { app: 'before' } } }));
    await waitForRunner(env.ns, 'before', 'Succeeded', (r) => r.status?.state === 'Succeeded');

    await kwokctl('stop', 'cluster');
    await waitFor('the operator to notice', () => !env.operator.ready, 60_000);
    await kwokctl('start', 'cluster');
    await waitFor('the operator to be ready again', () => env.operator.ready, 90_000);
    expect(env.operator.stats.watchRestarts).toBeGreaterThan(0);

    // Objects created after the restart reach the operator through the re-established watches.
    // (After `kwokctl stop/start` the simulated pods of this harness do not come back up, so the
    // new Deployment never becomes available here: the test checks what the operator sees.)
    await createRunner(runnerManifest(env.ns, 'after', { workloadSelector: { matchLabels: { app: 'after' } } }));
    await createDeployment(env.ns, 'after', { app: 'after', ...ENABLE });
    const after = await waitForRunner(env.ns, 'after', 'watching the new Deployment', (r) => r.status?.watchedResources?.[0]?.name === 'after', 60_000);
    expect(after.status?.state).toBe('WaitingForWorkloads');
    expect(await jobsOf(env.ns, 'before')).toHaveLength(1);
  }, 240_000);
});

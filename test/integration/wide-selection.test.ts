// A Runner that selects 2,000 Deployments still writes a small status (etcd refuses objects over
// 1.5 MiB): every workload is counted, 100 are listed (those not ready first), and the persisted
// snapshot names at most 48 revision parts.
import { describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/k8s/client.ts';
import { connectionOf } from '../../src/k8s/kubeconfig.ts';
import { createRunner, ENABLE, getRunner, kc, runnerManifest, waitForRunner } from './support/kube.ts';
import { operatorEnvironment } from './support/environment.ts';

const WORKLOADS = 2000;
const env = operatorEnvironment('wide');

describe('a Runner selecting 2,000 Deployments', () => {
  it('writes a status of a few tens of KiB, far below the 1.5 MiB object limit', async () => {
    const client = new KubeClient(await connectionOf(kc));
    const ids = Array.from({ length: WORKLOADS }, (_, i) => i);
    const create = async (i: number) =>
      client.create(`/apis/apps/v1/namespaces/${env.ns}/deployments`, {
        metadata: { name: `service-${i}`, labels: { suite: 'wide', ...ENABLE } },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: `service-${i}` } },
          template: { metadata: { labels: { app: `service-${i}` } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } },
        },
      });
    for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map(create));
    await createRunner(runnerManifest(env.ns, 'wide', { workloadSelector: { matchLabels: { suite: 'wide' } } }));

    const ran = await waitForRunner(env.ns, 'wide', `all ${WORKLOADS} workloads ready and one run`, (r) =>
      r.status?.watchedResourcesCount === WORKLOADS && r.status.state === 'Succeeded', 600_000);
    const bytes = Buffer.byteLength(JSON.stringify(ran));
    const snapshotBytes = Buffer.byteLength(JSON.stringify(ran.status?.snapshot));
    console.log(`a Runner selecting ${WORKLOADS} Deployments: ${(bytes / 1024).toFixed(1)} KiB in all, snapshot ${(snapshotBytes / 1024).toFixed(1)} KiB`);
    expect(ran.status?.watchedResources).toHaveLength(100);
    expect(bytes).toBeLessThan(64 * 1024);
    expect(snapshotBytes).toBeLessThan(16 * 1024);
    expect((await getRunner(env.ns, 'wide')).status?.lastRun?.result).toBe('Succeeded');
  }, 900_000);
});

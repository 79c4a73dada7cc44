// The floor: the least a process can do to run a check after a rollout — watch Deployments and
// create a Job when one becomes available at a new generation. No state machine, no status, no
// Events. Benchmarks run it beside the operator, on the same control plane, so that the operator's
// figures can be read against what the machine and the API server themselves cost.
//
//   KUBECONFIG=... FLOOR_NAMESPACE=bench node bench/floor.ts
import { createServer } from 'node:http';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeClient } from '../src/k8s/client.ts';
import { loadConnection } from '../src/k8s/kubeconfig.ts';
import { readinessOf } from '../src/runner/readiness/readiness.ts';

const namespace = process.env.FLOOR_NAMESPACE ?? 'default';
const client = new KubeClient(await loadConnection());
const path = `/apis/apps/v1/namespaces/${namespace}/deployments`;
const labelSelector = 'runner.stakater.com/enable=true';
/** Deployment name → the generation a Job was created for (or that was ready when the floor started). */
const handled = new Map<string, number>();
let ready = false;

function consider(d: KubernetesObject & { metadata: { generation?: number } }): void {
  const name = d.metadata.name!;
  const generation = d.metadata.generation ?? 0;
  if ((handled.get(name) ?? -1) >= generation || !readinessOf('Deployment', d).ready) return;
  handled.set(name, generation);
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `floor-${name}-${generation}`, namespace, labels: { 'hestia.bench/floor-of': name } },
    spec: { backoffLimit: 0, ttlSecondsAfterFinished: 60, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'check', image: 'busybox', command: ['true'] }] } } },
  };
  client.create(`/apis/batch/v1/namespaces/${namespace}/jobs`, job).catch((err: unknown) => console.error(`floor: ${String(err)}`));
}

const list = await client.get<{ items: (KubernetesObject & { metadata: { generation?: number } })[]; metadata: { resourceVersion: string } }>(path, { labelSelector });
for (const d of list.items) handled.set(d.metadata.name!, d.metadata.generation ?? 0);
let resourceVersion = list.metadata.resourceVersion;
createServer((req, res) => res.writeHead(req.url === '/readyz' && ready ? 200 : 503).end()).listen(Number(process.env.HESTIA_HEALTH_PORT ?? 8081), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
for (;;) {
  await client.watch<KubernetesObject & { metadata: { generation?: number; resourceVersion?: string } }>(path, { labelSelector, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 }, {
    onOpen: () => (ready = true),
    onEvent: (e) => {
      resourceVersion = e.object.metadata.resourceVersion ?? resourceVersion;
      if (e.type === 'ADDED' || e.type === 'MODIFIED') consider(e.object);
    },
    signal: new AbortController().signal,
    idleMs: 360_000,
  });
}

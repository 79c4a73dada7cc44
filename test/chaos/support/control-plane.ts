// Faults of the control plane itself, on the cluster test/cluster/with-cluster.sh started:
// restarting it with kwokctl, and compacting etcd through etcd's own v3 API (its JSON gateway on
// the client URL, plain HTTP on loopback in these clusters).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { core, kc, waitFor } from '../../integration/support/kube.ts';

const coordination = kc.makeApiClient(CoordinationV1Api);

function clusterDir(): { bin: string; cluster: string; workdir: string } {
  const bin = process.env.HESTIA_KUBE_BIN_DIR;
  const cluster = process.env.HESTIA_CLUSTER_NAME;
  if (!bin || !cluster) throw new Error('run through test/cluster/with-cluster.sh');
  const workdir = process.env.HESTIA_KWOK_WORKDIR ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME!, '.cache'), 'hestia', 'kwok');
  return { bin, cluster, workdir };
}

async function kwokctl(...args: string[]): Promise<void> {
  const { bin, cluster, workdir } = clusterDir();
  await promisify(execFile)(join(bin, 'kwokctl'), ['--name', cluster, ...args], { env: { ...process.env, KWOK_WORKDIR: workdir } });
}

/** The API server's address, as the tests' kubeconfig has it. */
export function apiServerAddress(): { host: string; port: number } {
  const url = new URL(kc.getCurrentCluster()!.server);
  return { host: url.hostname, port: Number(url.port) };
}

const apiServerAnswers = async (): Promise<boolean> => (await core.readNamespace({ name: 'default' })).metadata?.name === 'default';

/**
 * The Leases that the killed control-plane processes held. Their new instances would wait for them
 * to expire — kube-controller-manager and kube-scheduler 15 s, kwok's simulated nodes 200 s, during
 * which no pod runs — so the harness hands them over at once by deleting them.
 */
const CONTROL_PLANE_LEASES = [
  { namespace: 'kube-system', name: 'kube-controller-manager' },
  { namespace: 'kube-system', name: 'kube-scheduler' },
];

async function releaseDeadControlPlaneLeases(): Promise<void> {
  const nodeLeases = await coordination.listNamespacedLease({ namespace: 'kube-node-lease' });
  const leases = [...CONTROL_PLANE_LEASES, ...nodeLeases.items.map((l) => ({ namespace: 'kube-node-lease', name: l.metadata!.name! }))];
  for (const lease of leases) await coordination.deleteNamespacedLease(lease).catch(() => undefined);
}

/** The last lines of the control plane's component logs, to say why it did not come back. */
function componentLogTails(): string {
  const { cluster, workdir } = clusterDir();
  const logs = join(workdir, 'clusters', cluster, 'logs');
  return ['etcd', 'kube-apiserver']
    .map((c) => {
      const text = existsSync(join(logs, `${c}.log`)) ? readFileSync(join(logs, `${c}.log`), 'utf8') : '';
      return `== ${c}.log\n${text.split('\n').slice(-15).join('\n')}`;
    })
    .join('\n');
}

/**
 * Stops every process of the control plane (etcd, API server, controllers, kwok) at once and starts
 * them again; resolves when the API server answers again. kwokctl does not restart a component
 * that dies while starting (on a loaded machine the API server sometimes does): then the whole
 * start is tried again, up to three times.
 */
export async function restartControlPlane(): Promise<{ downAt: number; upAt: number }> {
  const downAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    await kwokctl('stop', 'cluster');
    await kwokctl('start', 'cluster');
    try {
      await waitFor('the API server to answer again', apiServerAnswers, 60_000);
      break;
    } catch (err) {
      if (attempt === 3) throw new Error(`${(err as Error).message}\n${componentLogTails()}`);
      console.warn(`the control plane did not come back (attempt ${attempt}); starting it again\n${componentLogTails()}`);
    }
  }
  const upAt = Date.now();
  await releaseDeadControlPlaneLeases();
  return { downAt, upAt };
}

function etcdUrl(): string {
  const { cluster, workdir } = clusterDir();
  const config = readFileSync(join(workdir, 'clusters', cluster, 'kwok.yaml'), 'utf8');
  const url = config.match(/--advertise-client-urls=(\S+)/)?.[1];
  if (!url) throw new Error(`no etcd client URL in ${cluster}'s kwok.yaml`);
  return url.split(',')[0]!;
}

async function etcd(path: string, body: object): Promise<{ header: { revision: string } }> {
  const res = await fetch(`${etcdUrl()}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { header: { revision: string } };
}

/** etcd's current revision: every resourceVersion the API server has handed out is at most this. */
export async function etcdRevision(): Promise<number> {
  return Number((await etcd('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header.revision);
}

/** Compacts etcd's history up to its current revision: no watch can resume from before it. */
export async function compactEtcd(): Promise<number> {
  const revision = await etcdRevision();
  await etcd('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}

// Faults of the control plane itself, on the cluster test/cluster/with-cluster.sh started:
// restarting it with kwokctl, and compacting etcd through etcd's own v3 API (its JSON gateway on
// the client URL, plain HTTP on loopback in these clusters).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoordinationV1Api, type V1Job } from '@kubernetes/client-node';
import { batch, core, kc, waitFor } from '../../integration/support/kube.ts';

const coordination = kc.makeApiClient(CoordinationV1Api);

function clusterDir(): { bin: string; cluster: string; dir: string; workdir: string } {
  const bin = process.env.HESTIA_KUBE_BIN_DIR;
  const cluster = process.env.HESTIA_CLUSTER_NAME;
  if (!bin || !cluster) throw new Error('run through test/cluster/with-cluster.sh');
  const workdir = process.env.HESTIA_KWOK_WORKDIR ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME!, '.cache'), 'hestia', 'kwok');
  return { bin, cluster, dir: join(workdir, 'clusters', cluster), workdir };
}

async function kwokctl(...args: string[]): Promise<void> {
  const { bin, cluster, workdir } = clusterDir();
  await promisify(execFile)(join(bin, 'kwokctl'), ['--name', cluster, ...args], { env: { ...process.env, KWOK_WORKDIR: workdir } });
}

const kwokConfig = (): string => readFileSync(join(clusterDir().dir, 'kwok.yaml'), 'utf8');

/** The API server's address, as the tests' kubeconfig has it. */
export function apiServerAddress(): { host: string; port: number } {
  const url = new URL(kc.getCurrentCluster()!.server);
  return { host: url.hostname, port: Number(url.port) };
}

const apiServerAnswers = async (): Promise<boolean> => (await core.readNamespace({ name: 'default' })).metadata?.name === 'default';

/** Whether something accepts TCP connections on this loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const answer = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.once('connect', () => answer(true));
    socket.once('error', () => answer(false));
    socket.setTimeout(2_000, () => answer(false));
  });
}

/** Every port the control plane's components listen on (kwok.yaml lists them). */
const componentPorts = (): number[] => [...kwokConfig().matchAll(/^\s+port: (\d+)$/gm)].map((m) => Number(m[1]));

let probes = 0;

/** Resolves once a Job completes: the API server, the scheduler, the Job controller and kwok all work. */
export async function controlPlaneWorks(namespace: string, timeoutMs = 120_000): Promise<void> {
  const name = `control-plane-probe-${process.pid}-${probes++}`;
  const job: V1Job = {
    metadata: { name, namespace },
    spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'probe', image: 'busybox' }] } } },
  };
  await waitFor('a probe Job to be created', () => batch.createNamespacedJob({ namespace, body: job }).then(() => true), timeoutMs);
  await waitFor('the probe Job to complete', async () => {
    const read = await batch.readNamespacedJob({ namespace, name });
    return read.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');
  }, timeoutMs);
  await batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' });
}

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
  const logs = join(clusterDir().dir, 'logs');
  return ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok-controller']
    .map((c) => {
      const text = existsSync(join(logs, `${c}.log`)) ? readFileSync(join(logs, `${c}.log`), 'utf8') : '';
      return `== ${c}.log\n${text.split('\n').slice(-8).join('\n')}`;
    })
    .join('\n');
}

/**
 * Stops every process of the control plane (etcd, API server, controllers, kwok) at once and starts
 * them again; resolves once a Job runs to completion again. kwokctl neither waits for the stopped
 * processes to let go of their ports (a new one finding its port taken exits at once, "address
 * already in use") nor restarts a component that dies: the harness waits for the ports, and starts
 * the whole control plane again (up to three times) if it does not work within a minute.
 */
export async function restartControlPlane(): Promise<{ downAt: number; upAt: number }> {
  const downAt = Date.now();
  const ports = componentPorts();
  for (let attempt = 1; ; attempt++) {
    await kwokctl('stop', 'cluster');
    await waitFor('the stopped control plane to let go of its ports', async () => (await Promise.all(ports.map(listening))).every((l) => !l), 60_000);
    await kwokctl('start', 'cluster');
    try {
      await waitFor('the API server to answer again', apiServerAnswers, 60_000);
      const upAt = Date.now();
      await releaseDeadControlPlaneLeases();
      await controlPlaneWorks('default', 60_000);
      return { downAt, upAt };
    } catch (err) {
      if (attempt === 3) throw new Error(`${(err as Error).message}\n${componentLogTails()}`);
      console.warn(`the control plane did not come back (attempt ${attempt}); starting it again\n${componentLogTails()}`);
    }
  }
}

function etcdUrl(): string {
  const url = kwokConfig().match(/--advertise-client-urls=(\S+)/)?.[1];
  if (!url) throw new Error(`no etcd client URL in ${clusterDir().cluster}'s kwok.yaml`);
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

// Faults of the control plane itself, on the cluster test/cluster/with-cluster.sh started:
// restarting it with kwokctl, and compacting etcd through etcd's own v3 API (its JSON gateway on
// the client URL, plain HTTP on loopback in these clusters).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { core, kc, waitFor } from '../../integration/support/kube.ts';

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
 * Stops every process of the control plane (etcd, API server, controllers, kwok) and starts them
 * again; resolves when the API server answers /readyz. The Job controller acts again only once
 * kube-controller-manager's own Lease has expired, about 15 s later.
 */
export async function restartControlPlane(downMs = 0): Promise<{ downAt: number; upAt: number }> {
  const downAt = Date.now();
  await kwokctl('stop', 'cluster');
  if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
  await kwokctl('start', 'cluster');
  await waitFor('the API server to answer again', apiServerAnswers, 120_000);
  return { downAt, upAt: Date.now() };
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

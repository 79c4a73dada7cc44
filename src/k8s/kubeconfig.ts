// Where the operator finds its API server and credentials, as kubectl (client-go) does: in a pod,
// the ServiceAccount's token and CA; elsewhere the kubeconfig: every file KUBECONFIG names, merged
// (the first file to set a value wins, clusters, users and contexts merged by name, current-context
// from the first file that sets it, relative paths taken from the file that wrote them), or
// ~/.kube/config. The proxy is the cluster's `proxy-url`, else HTTPS_PROXY/NO_PROXY (src/k8s/proxy.ts).
// Files are read again when they change (a rotated token, CA or client certificate is used by the
// next request); exec plugins run here (src/k8s/exec-credential.ts). Only the legacy `auth-provider`
// users are handed to @kubernetes/client-node's KubeConfig, loaded only then: the operator does not
// load that package otherwise (src/k8s/client.ts).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import type { Connection, TlsMaterial } from './client.ts';
import { execCredentialSource, type ExecConfig } from './exec-credential.ts';
import { proxyFor } from './proxy.ts';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Stanza = Record<string, unknown>;
interface KubeconfigFile {
  clusters?: { name: string; cluster: Stanza }[] | null;
  users?: { name: string; user: Stanza }[] | null;
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[] | null;
  'current-context'?: string;
}

/** A stanza and the directory of the file that wrote it, which its relative paths are taken from. */
export interface Located<T> {
  value: T;
  base: string;
}

/** Several kubeconfig files seen as one, as kubectl merges them. */
export interface MergedKubeconfig {
  currentContext: string | undefined;
  clusters: Map<string, Located<Stanza>>;
  users: Map<string, Located<Stanza>>;
  contexts: Map<string, Located<{ cluster: string; user: string; namespace?: string }>>;
  /** The files merged, in order. */
  paths: string[];
}

/** The connection for this process: in-cluster when in a pod (and no KUBECONFIG), else the kubeconfig. */
export async function loadConnection(env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  if (!env.KUBECONFIG && env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'))) return inCluster(env);
  return fromKubeconfigFiles(kubeconfigPaths(env), env);
}

/** The files KUBECONFIG names (in order, each once, empty entries skipped), or ~/.kube/config. */
export function kubeconfigPaths(env: NodeJS.ProcessEnv, home = homedir()): string[] {
  const named = [...new Set((env.KUBECONFIG ?? '').split(delimiter).filter(Boolean))];
  return named.length ? named : [join(home, '.kube', 'config')];
}

export function fromKubeconfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  return fromKubeconfigFiles([path], env);
}

/** The connection the merged files' current context describes. Files that do not exist are skipped, as kubectl does. */
export async function fromKubeconfigFiles(paths: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const files = paths.filter((path) => existsSync(path)).map((path) => ({ path, config: (parseYaml(readFileSync(path, 'utf8')) ?? {}) as KubeconfigFile }));
  if (!files.length) throw new Error(`kubeconfig: none of ${paths.join(', ')} exists`);
  return connectionFrom(mergeKubeconfigs(files), env);
}

/** kubectl's merge: the first file to name a cluster, user or context wins, and the first current-context set. */
export function mergeKubeconfigs(files: readonly { path: string; config: KubeconfigFile }[]): MergedKubeconfig {
  const merged: MergedKubeconfig = { currentContext: undefined, clusters: new Map(), users: new Map(), contexts: new Map(), paths: files.map((f) => f.path) };
  const keepFirst = <T>(into: Map<string, Located<T>>, name: string | undefined, value: T | undefined, base: string) => {
    if (name && value && !into.has(name)) into.set(name, { value, base });
  };
  for (const { path, config } of files) {
    const base = dirname(path);
    merged.currentContext ||= config['current-context'] || undefined;
    for (const c of config.clusters ?? []) keepFirst(merged.clusters, c?.name, c?.cluster, base);
    for (const u of config.users ?? []) keepFirst(merged.users, u?.name, u?.user, base);
    for (const c of config.contexts ?? []) keepFirst(merged.contexts, c?.name, c?.context, base);
  }
  return merged;
}

/** The connection of the merged kubeconfig's current context. */
async function connectionFrom(merged: MergedKubeconfig, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const where = `kubeconfig ${merged.paths.join(delimiter)}`;
  const name = merged.currentContext;
  const context = name ? merged.contexts.get(name)?.value : undefined;
  if (!context) throw new Error(`${where}: no current context${name ? ` (context ${name} is not defined)` : ''}`);
  const located = merged.clusters.get(context.cluster);
  const cluster = located?.value;
  if (!located || !cluster || typeof cluster.server !== 'string') throw new Error(`${where}: context ${name} has no cluster server`);
  const { value: user, base: userBase } = merged.users.get(context.user) ?? { value: {} as Stanza, base: located.base };
  if (user['auth-provider']) return viaClientNode(merged.paths);

  const server = cluster.server;
  const exec = user.exec ? execCredentialSource(user.exec as ExecConfig, { base: userBase, cluster: execClusterInfo(cluster), env }) : undefined;
  const ca = material(located.base, cluster['certificate-authority'], cluster['certificate-authority-data']);
  const cert = material(userBase, user['client-certificate'], user['client-certificate-data']);
  const key = material(userBase, user['client-key'], user['client-key-data']);
  const tokenFile = typeof user.tokenFile === 'string' ? watchedFile(resolvePath(userBase, user.tokenFile)) : undefined;
  const token = typeof user.token === 'string' ? user.token : undefined;
  const basic = typeof user.username === 'string' ? Buffer.from(`${user.username}:${String(user.password ?? '')}`).toString('base64') : undefined;
  const fixed: TlsMaterial = {
    ...(cluster['insecure-skip-tls-verify'] === true ? { rejectUnauthorized: false } : {}),
    ...(typeof cluster['tls-server-name'] === 'string' ? { servername: cluster['tls-server-name'] } : {}),
  };
  const tls = tlsMaterial(fixed, () => ({ ca: ca(), cert: exec?.last()?.cert ?? cert(), key: exec?.last()?.key ?? key() }));
  const proxy = proxyFor(server, typeof cluster['proxy-url'] === 'string' ? cluster['proxy-url'] : undefined, env);
  return {
    server,
    ...(proxy ? { proxy } : {}),
    get tls() {
      return tls();
    },
    ...(exec ? { unauthorized: () => exec.forget() } : {}),
    headers: async (): Promise<Record<string, string>> => {
      const bearer = (exec ? (await exec.current()).token : undefined) ?? tokenFile?.().toString('utf8').trim() ?? token;
      if (bearer) return { Authorization: `Bearer ${bearer}` };
      return basic ? { Authorization: `Basic ${basic}` } : {};
    },
  };
}

function inCluster(env: NodeJS.ProcessEnv): Connection {
  const host = env.KUBERNETES_SERVICE_HOST!.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST;
  const server = `https://${host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`;
  const token = watchedFile(join(SERVICE_ACCOUNT_DIR, 'token'));
  const ca = watchedFile(join(SERVICE_ACCOUNT_DIR, 'ca.crt'));
  const tls = tlsMaterial({}, () => ({ ca: ca() }));
  const proxy = proxyFor(server, undefined, env);
  return {
    server,
    ...(proxy ? { proxy } : {}),
    get tls() {
      return tls();
    },
    headers: async () => ({ Authorization: `Bearer ${token().toString('utf8').trim()}` }),
  };
}

/**
 * A file read again whenever it changes (its mtime, size or inode: an atomic rename or the kubelet's
 * symlink swap of a projected volume counts); the same Buffer is returned while it does not.
 */
function watchedFile(path: string): () => Buffer {
  let seen = '';
  let content = Buffer.alloc(0);
  return () => {
    const stat = statSync(path);
    const version = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    if (version !== seen) {
      content = readFileSync(path);
      seen = version;
    }
    return content;
  };
}

/** PEM material from inline base64 data (fixed) or a file (read again when it changes). */
function material(base: string, file: unknown, data: unknown): () => Buffer | undefined {
  if (typeof data === 'string' && data) {
    const decoded = Buffer.from(data, 'base64');
    return () => decoded;
  }
  if (typeof file === 'string' && file) return watchedFile(resolvePath(base, file));
  return () => undefined;
}

/** The TLS material now: the same object as long as every part is, so that the client keeps its connections. */
function tlsMaterial(fixed: TlsMaterial, parts: () => Pick<TlsMaterial, 'ca' | 'cert' | 'key'>): () => TlsMaterial {
  let last: TlsMaterial | undefined;
  return () => {
    const { ca, cert, key } = parts();
    if (last && last.ca === ca && last.cert === cert && last.key === key) return last;
    last = { ...fixed, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
    return last;
  };
}

/** The cluster as an exec plugin's KUBERNETES_EXEC_INFO describes it (client.authentication.k8s.io Cluster). */
function execClusterInfo(cluster: Stanza): Record<string, unknown> {
  const extensions = (cluster.extensions as { name: string; extension: unknown }[] | undefined) ?? [];
  const config = extensions.find((e) => e.name === 'client.authentication.k8s.io/exec')?.extension;
  return {
    server: cluster.server,
    ...(typeof cluster['tls-server-name'] === 'string' ? { 'tls-server-name': cluster['tls-server-name'] } : {}),
    ...(cluster['insecure-skip-tls-verify'] === true ? { 'insecure-skip-tls-verify': true } : {}),
    ...(typeof cluster['certificate-authority-data'] === 'string' ? { 'certificate-authority-data': cluster['certificate-authority-data'] } : {}),
    ...(typeof cluster['proxy-url'] === 'string' ? { 'proxy-url': cluster['proxy-url'] } : {}),
    ...(config !== undefined ? { config } : {}),
  };
}

function resolvePath(base: string, file: string): string {
  return isAbsolute(file) ? file : join(base, file);
}

/** Legacy auth providers (oidc and the like): client-node knows them; only such kubeconfigs pay for loading it. */
async function viaClientNode(paths: readonly string[]): Promise<Connection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  const [first, ...rest] = paths.filter((path) => existsSync(path));
  kc.loadFromFile(first!);
  for (const path of rest) {
    const other = new KubeConfig();
    other.loadFromFile(path);
    kc.mergeConfig(other, true);
  }
  return connectionOf(kc);
}

/** A connection from a client-node KubeConfig (tests build those; auth-provider kubeconfigs end here). */
export async function connectionOf(kc: import('@kubernetes/client-node').KubeConfig, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig: no current cluster');
  // Asked per request (client-node re-reads files and renews expired credentials); the TLS material
  // is the one the last headers() call produced.
  let latest = await appliedOptions(kc);
  const fixed: TlsMaterial = {
    ...(latest.rejectUnauthorized !== undefined ? { rejectUnauthorized: latest.rejectUnauthorized } : {}),
    ...(latest.servername ? { servername: latest.servername } : {}),
  };
  let last: { material: TlsMaterial; ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined } | undefined;
  const proxy = proxyFor(cluster.server, cluster.proxyUrl, env);
  return {
    server: cluster.server,
    ...(proxy ? { proxy } : {}),
    get tls() {
      const ca = asBuffer(latest.ca);
      const cert = asBuffer(latest.cert);
      const key = asBuffer(latest.key);
      if (last && sameBuffer(last.ca, ca) && sameBuffer(last.cert, cert) && sameBuffer(last.key, key)) return last.material;
      last = { material: { ...fixed, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) }, ca, cert, key };
      return last.material;
    },
    headers: async (): Promise<Record<string, string>> => {
      latest = await appliedOptions(kc);
      const auth = (latest.headers as Record<string, string> | undefined)?.Authorization;
      return auth ? { Authorization: auth } : latest.auth ? { Authorization: `Basic ${Buffer.from(latest.auth).toString('base64')}` } : {};
    },
  };
}

async function appliedOptions(kc: import('@kubernetes/client-node').KubeConfig): Promise<import('node:https').RequestOptions> {
  const opts: import('node:https').RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return opts;
}

function asBuffer(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string' && value) return Buffer.from(value);
  return undefined;
}

function sameBuffer(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.equals(b));
}

// Where the operator finds its API server and credentials, as every Kubernetes client does: in a
// pod, the ServiceAccount's token and CA; elsewhere the kubeconfig (KUBECONFIG or ~/.kube/config).
// Certificates and tokens are read here; anything more (exec plugins, auth providers) is handed
// to @kubernetes/client-node's KubeConfig, loaded only then.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import type { Connection } from './client.ts';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface NamedCluster { name: string; cluster: Record<string, unknown> }
interface NamedUser { name: string; user: Record<string, unknown> }
interface NamedContext { name: string; context: { cluster: string; user: string; namespace?: string } }
interface KubeconfigFile {
  clusters?: NamedCluster[];
  users?: NamedUser[];
  contexts?: NamedContext[];
  'current-context'?: string;
}

/** The connection for this process: in-cluster when in a pod (and no KUBECONFIG), else the kubeconfig. */
export async function loadConnection(env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  if (!env.KUBECONFIG && env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'))) return inCluster(env);
  const path = (env.KUBECONFIG ?? '').split(':').find((p) => p && existsSync(p)) ?? join(homedir(), '.kube', 'config');
  return fromKubeconfigFile(path);
}

function inCluster(env: NodeJS.ProcessEnv): Connection {
  const host = env.KUBERNETES_SERVICE_HOST!.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST;
  const token = rereadingFile(join(SERVICE_ACCOUNT_DIR, 'token'));
  return {
    server: `https://${host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`,
    tls: { ca: readFileSync(join(SERVICE_ACCOUNT_DIR, 'ca.crt')) },
    headers: async () => ({ Authorization: `Bearer ${token()}` }),
  };
}

/** A file read again when it changes: the kubelet rotates projected ServiceAccount tokens. */
function rereadingFile(path: string): () => string {
  let mtime = -1;
  let text = '';
  return () => {
    const now = statSync(path).mtimeMs;
    if (now !== mtime) {
      text = readFileSync(path, 'utf8').trim();
      mtime = now;
    }
    return text;
  };
}

export async function fromKubeconfigFile(path: string): Promise<Connection> {
  const file = parseYaml(readFileSync(path, 'utf8')) as KubeconfigFile;
  const context = file.contexts?.find((c) => c.name === file['current-context'])?.context;
  if (!context) throw new Error(`kubeconfig ${path}: no current context`);
  const cluster = file.clusters?.find((c) => c.name === context.cluster)?.cluster;
  const user = file.users?.find((u) => u.name === context.user)?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`kubeconfig ${path}: context ${file['current-context']} has no cluster server`);
  if (user.exec || user['auth-provider']) return viaClientNode(path);

  const base = dirname(path);
  const material = (dataKey: string, fileKey: string) => fileOrData(base, user[fileKey] ?? cluster[fileKey], user[dataKey] ?? cluster[dataKey]);
  const tokenFile = typeof user.tokenFile === 'string' ? rereadingFile(resolvePath(base, user.tokenFile)) : null;
  const token = typeof user.token === 'string' ? user.token : null;
  const basic = typeof user.username === 'string' ? Buffer.from(`${user.username}:${String(user.password ?? '')}`).toString('base64') : null;
  const ca = fileOrData(base, cluster['certificate-authority'], cluster['certificate-authority-data']);
  const cert = material('client-certificate-data', 'client-certificate');
  const key = material('client-key-data', 'client-key');
  return {
    server: cluster.server,
    tls: {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(cluster['insecure-skip-tls-verify'] === true ? { rejectUnauthorized: false } : {}),
      ...(typeof cluster['tls-server-name'] === 'string' ? { servername: cluster['tls-server-name'] } : {}),
    },
    headers: async (): Promise<Record<string, string>> => {
      const bearer = tokenFile?.() ?? token;
      if (bearer) return { Authorization: `Bearer ${bearer}` };
      return basic ? { Authorization: `Basic ${basic}` } : {};
    },
  };
}

function resolvePath(base: string, file: string): string {
  return isAbsolute(file) ? file : join(base, file);
}

function fileOrData(base: string, file: unknown, data: unknown): Buffer | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file) return readFileSync(resolvePath(base, file));
  return undefined;
}

/** Exec plugins and auth providers: client-node knows them all; only such kubeconfigs pay for loading it. */
async function viaClientNode(path: string): Promise<Connection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return connectionOf(kc);
}

/** A connection from a client-node KubeConfig (tests build those; exec-plugin kubeconfigs end here). */
export async function connectionOf(kc: import('@kubernetes/client-node').KubeConfig): Promise<Connection> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig: no current cluster');
  const probe: import('node:https').RequestOptions = {};
  await kc.applyToHTTPSOptions(probe);
  return {
    server: cluster.server,
    tls: {
      ...(probe.ca ? { ca: probe.ca } : {}),
      ...(probe.cert ? { cert: probe.cert } : {}),
      ...(probe.key ? { key: probe.key } : {}),
      ...(probe.rejectUnauthorized !== undefined ? { rejectUnauthorized: probe.rejectUnauthorized } : {}),
      ...(probe.servername ? { servername: probe.servername } : {}),
    },
    headers: async (): Promise<Record<string, string>> => {
      const opts: import('node:https').RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      const auth = (opts.headers as Record<string, string> | undefined)?.Authorization;
      return auth ? { Authorization: auth } : opts.auth ? { Authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` } : {};
    },
  };
}

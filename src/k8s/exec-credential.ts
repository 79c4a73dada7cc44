// A kubeconfig user's `exec` plugin (client.authentication.k8s.io), run as client-go runs it: the
// command (a relative path with a slash is taken from the kubeconfig's directory) with the user's env
// and KUBERNETES_EXEC_INFO, never interactively; its ExecCredential (a token, or a client certificate
// and key) is kept until its expirationTimestamp (or a 401) and then asked for again, so a cloud
// provider's short-lived tokens and certificates are renewed without a restart. Concurrent requests
// share one run.
import { execFile } from 'node:child_process';
import { isAbsolute, join, sep } from 'node:path';

export interface ExecConfig {
  apiVersion?: string;
  command?: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  provideClusterInfo?: boolean;
  interactiveMode?: string;
}

/** What the plugin answered: a bearer token, or a client certificate and key (PEM). */
export interface ExecCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  /** ms since the epoch; undefined: valid as long as the process lives. */
  expiresAt?: number;
}

export interface ExecSource {
  /** The current credential: the kept one until it expires, then the plugin's next answer. */
  current(): Promise<ExecCredential>;
  /** The last credential obtained, if any (the TLS material a request made now uses). */
  last(): ExecCredential | undefined;
  /** The server refused the credential (401): the next request asks the plugin again. */
  forget(): void;
}

export interface ExecContext {
  /** The directory of the kubeconfig file that defined the user. */
  base: string;
  /** The cluster as KUBERNETES_EXEC_INFO describes it, given to the plugin when provideClusterInfo is set. */
  cluster: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  now?: () => number;
}

const DEFAULT_API_VERSION = 'client.authentication.k8s.io/v1';
const PLUGIN_TIMEOUT_MS = 60_000;

export function execCredentialSource(exec: ExecConfig, context: ExecContext): ExecSource {
  if (!exec.command) throw new Error('kubeconfig: an exec user has no command');
  if (exec.interactiveMode === 'Always') throw new Error(`kubeconfig: exec plugin ${exec.command} needs a terminal (interactiveMode: Always)`);
  const now = context.now ?? Date.now;
  const command = commandPath(exec.command, context.base);
  const apiVersion = exec.apiVersion ?? DEFAULT_API_VERSION;
  let kept: ExecCredential | undefined;
  let running: Promise<ExecCredential> | undefined;

  const run = async (): Promise<ExecCredential> => {
    const info = { apiVersion, kind: 'ExecCredential', spec: { interactive: false, ...(exec.provideClusterInfo ? { cluster: context.cluster } : {}) } };
    const env: NodeJS.ProcessEnv = { ...context.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    for (const { name, value } of exec.env ?? []) env[name] = value;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(command, exec.args ?? [], { env, timeout: PLUGIN_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, out, stderr) => {
        if (err) reject(new Error(`exec plugin ${exec.command}: ${String(stderr).trim() || err.message}`, { cause: err }));
        else resolve(String(out));
      });
    });
    return parseExecCredential(stdout, exec.command!);
  };

  return {
    last: () => kept,
    forget: () => {
      if (kept) kept = { ...kept, expiresAt: 0 };
    },
    current: () => {
      if (kept && (kept.expiresAt === undefined || kept.expiresAt > now())) return Promise.resolve(kept);
      running ??= run()
        .then((credential) => (kept = credential))
        .finally(() => (running = undefined));
      return running;
    },
  };
}

/** The ExecCredential a plugin printed: a token or a certificate and key, and when it expires. */
function parseExecCredential(stdout: string, command: string): ExecCredential {
  let parsed: { kind?: string; status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string } };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new Error(`exec plugin ${command}: its output is not an ExecCredential (not JSON)`);
  }
  const status = parsed.status ?? {};
  if (parsed.kind !== 'ExecCredential' || (!status.token && !(status.clientCertificateData && status.clientKeyData))) {
    throw new Error(`exec plugin ${command}: its ExecCredential has neither a token nor a client certificate and key`);
  }
  const expiresAt = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : undefined;
  return {
    ...(status.token ? { token: status.token } : {}),
    ...(status.clientCertificateData && status.clientKeyData ? { cert: Buffer.from(status.clientCertificateData), key: Buffer.from(status.clientKeyData) } : {}),
    ...(expiresAt !== undefined && Number.isFinite(expiresAt) ? { expiresAt } : {}),
  };
}

function commandPath(command: string, base: string): string {
  return !isAbsolute(command) && command.includes(sep) ? join(base, command) : command;
}

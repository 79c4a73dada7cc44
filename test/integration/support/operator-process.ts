// The operator as users run it (`node dist/src/main.js`), as a process of its own, authenticated as its
// ServiceAccount: for tests that kill it, restart it, or run two of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operatorKubeConfig } from './identity.ts';
import { waitFor } from './kube.ts';
import { operatorEntry } from './operator-entry.ts';

export interface OperatorProcess {
  proc: ChildProcess;
  /** Resolves once /readyz answers 200 (its watch caches are in sync and the actors restored). */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops it with `signal` and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

let kubeconfigFile: string | undefined;

async function operatorKubeconfigFile(): Promise<string> {
  if (!kubeconfigFile) {
    kubeconfigFile = join(mkdtempSync(join(tmpdir(), 'hestia-operator-')), 'kubeconfig');
    writeFileSync(kubeconfigFile, (await operatorKubeConfig()).exportConfig());
  }
  return kubeconfigFile;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function startOperatorProcess(env: NodeJS.ProcessEnv = {}): Promise<OperatorProcess> {
  const healthPort = await freePort();
  const proc = spawn(process.execPath, [operatorEntry()], {
    env: {
      ...process.env,
      KUBECONFIG: await operatorKubeconfigFile(),
      HESTIA_HEALTH_PORT: String(healthPort),
      HESTIA_METRICS_PORT: '0',
      HESTIA_LOG_LEVEL: process.env.HESTIA_TEST_LOG ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return {
    proc,
    ready: (timeoutMs = 60_000) =>
      waitFor('the operator process to be ready', async () => {
        if (proc.exitCode !== null) throw new Error(`the operator exited with ${proc.exitCode}`);
        return fetch(`http://127.0.0.1:${healthPort}/readyz`).then((r) => r.ok, () => false);
      }, timeoutMs).then(() => undefined),
    kill: (signal = 'SIGTERM') => endProcess(proc, signal),
  };
}

/** How long an operator may take to stop after SIGTERM: its own stop gives up after 9.5 s (src/main.ts). */
const STOP_WITHIN_MS = 15_000;

/**
 * Sends `signal` and waits for the process to exit. One still running 15 s after SIGTERM is killed and the test
 * fails: left running, it would act on the Runners of the files after this one.
 */
export async function endProcess(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_WITHIN_MS)));
  const outcome = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (outcome !== 'late') return;
  proc.kill('SIGKILL');
  await exited;
  throw new Error(`the operator process did not exit within ${STOP_WITHIN_MS / 1000} s of ${signal}; killed`);
}

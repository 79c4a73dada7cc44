// The real operator process (`node dist/src/main.js`, as users run it: test/integration/support/operator-entry.ts) under the operator's own
// ServiceAccount, started, SIGKILLed and restarted by a fault test. Its log goes to a file of its
// own (printed when a test fails), and its /readyz tells when it has started acting.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { OPERATOR_NAMESPACE } from '../../integration/support/identity.ts';
import { operatorEntry } from '../../integration/support/operator-entry.ts';

/** Where this test process keeps the operators' logs and kubeconfigs. */
export const CHAOS_DIR = mkdtempSync(join(tmpdir(), 'hestia-chaos-'));

/** A kubeconfig file for the operator, optionally pointing at another address (a proxy). */
export function kubeconfigFile(kc: KubeConfig, name: string, server?: string): string {
  const exported = JSON.parse(kc.exportConfig()) as { clusters: { cluster: { server: string } }[] };
  if (server) for (const c of exported.clusters) c.cluster.server = server;
  const file = join(CHAOS_DIR, `${name}.kubeconfig`);
  writeFileSync(file, JSON.stringify(exported));
  return file;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface OperatorProcessOptions {
  /** Names the log file and, with leader election, the Lease holder identity. */
  name: string;
  kubeconfig: string;
  /** Extra environment: leader election, the test clock, ... */
  env?: Record<string, string>;
  /** Start it again 1 s after it exits by itself, as a Deployment's pod restarts its container. */
  restartOnExit?: boolean;
}

/** Leader election as deploy/manager sets it, on a Lease of the test's own. */
export function leaderElectionEnv(identity: string, lease: string, timing: Record<string, string> = {}): Record<string, string> {
  return { HESTIA_LEADER_ELECTION: 'true', POD_NAMESPACE: OPERATOR_NAMESPACE, POD_NAME: identity, HESTIA_LEASE_NAME: lease, ...timing };
}

export class OperatorProcess {
  readonly name: string;
  readonly logFile: string;
  private readonly options: OperatorProcessOptions;
  private readonly log: WriteStream;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private healthPort = 0;
  private killing = false;
  private closed = false;
  /** Times it exited by itself (not killed by the test) and was started again. */
  selfExits = 0;
  /** When and how each process exited (ms since the epoch). */
  readonly exits: { at: number; code: number | null; signal: string | null }[] = [];

  constructor(options: OperatorProcessOptions) {
    this.options = options;
    this.name = options.name;
    mkdirSync(CHAOS_DIR, { recursive: true });
    this.logFile = join(CHAOS_DIR, `${options.name}.log`);
    this.log = createWriteStream(this.logFile, { flags: 'a' });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`operator ${this.name} is running already`);
    this.healthPort = await freePort();
    const child = spawn(process.execPath, [operatorEntry()], {
      env: {
        ...process.env,
        KUBECONFIG: this.options.kubeconfig,
        HESTIA_HEALTH_PORT: String(this.healthPort),
        HESTIA_METRICS_PORT: '0',
        HESTIA_LOG_LEVEL: process.env.HESTIA_TEST_LOG ?? 'info',
        ...this.options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.log.write(`--- ${new Date().toISOString()} started pid ${child.pid}\n`);
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exits.push({ at: Date.now(), code, signal });
        this.log.write(`--- ${new Date().toISOString()} pid ${child.pid} exited (${signal ?? code})\n`);
        resolve(code);
        if (!this.killing && !this.closed && this.options.restartOnExit) {
          this.selfExits += 1;
          setTimeout(() => void (this.closed || this.running ? undefined : this.start()), 1_000);
        }
      });
    });
  }

  /** SIGKILL: no clean-up, no last status write, no Lease release. Resolves once it is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.killing = true;
    this.child!.kill('SIGKILL');
    await this.exited;
    this.killing = false;
  }

  /**
   * SIGTERM, as a rolling update or a drained node stops a pod: the operator stops by itself. Past
   * `graceMs` it is SIGKILLed, as the kubelet does after the termination grace period. Resolves once it is gone.
   */
  async terminate(graceMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.killing = true;
    this.child!.kill('SIGTERM');
    const grace = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(grace);
    this.killing = false;
  }

  /** The lines of its log so far (every process it ran) that contain `text`. */
  logLines(text: string): string[] {
    return readFileSync(this.logFile, 'utf8').split('\n').filter((line) => line.includes(text));
  }

  /** Resolves when the process exits by itself (e.g. after losing its Lease). */
  async exit(): Promise<number | null> {
    return this.exited;
  }

  /** Whether /readyz answers 200: the watch caches are in sync and the Runner actors run. */
  async ready(): Promise<boolean> {
    if (!this.running) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${this.healthPort}/readyz`, { signal: AbortSignal.timeout(2_000) });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.kill();
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

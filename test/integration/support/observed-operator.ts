// The real operator process (`node dist/src/main.js`), as users run it, as the operator's ServiceAccount, with its
// log read line by line: for tests that must see it survive (no crash, no exit, no error logged).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { operatorKubeConfig } from './identity.ts';
import { endProcess } from './operator-process.ts';
import { operatorEntry } from './operator-entry.ts';

export interface ObservedOperator {
  child: ChildProcess;
  /** Set when the process ended: its exit code or signal. */
  exited: string | undefined;
  /** Log lines by pino level name (warn, error, fatal, ...), and the last lines for a failure message. */
  linesByLevel: Record<string, number>;
  lastLines: string[];
  /** The first error and fatal lines, whole: what a reader of the log would be alarmed by. */
  errorLines: string[];
  stop(): Promise<void>;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export async function startObservedOperator(logLevel = 'warn'): Promise<ObservedOperator> {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'hestia-operator-')), 'kubeconfig');
  writeFileSync(kubeconfig, (await operatorKubeConfig()).exportConfig());
  const child = spawn(process.execPath, [operatorEntry()], {
    env: { ...process.env, KUBECONFIG: kubeconfig, HESTIA_HEALTH_PORT: '0', HESTIA_METRICS_PORT: '0', HESTIA_LOG_LEVEL: logLevel },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: ObservedOperator = {
    child,
    exited: undefined,
    linesByLevel: {},
    lastLines: [],
    errorLines: [],
    async stop() {
      if (proc.exited !== undefined) return;
      await endProcess(child, 'SIGTERM');
    },
  };
  const record = (line: string) => {
    let level = 'stderr';
    try {
      level = LEVELS[(JSON.parse(line) as { level?: number }).level ?? 0] ?? 'other';
    } catch {
      // not a pino line (a crash prints a stack trace on stderr)
    }
    proc.linesByLevel[level] = (proc.linesByLevel[level] ?? 0) + 1;
    proc.lastLines = [...proc.lastLines.slice(-19), line.slice(0, 500)];
    if ((level === 'error' || level === 'fatal' || level === 'stderr') && proc.errorLines.length < 20) proc.errorLines.push(line.slice(0, 2000));
  };
  createInterface({ input: child.stdout! }).on('line', record);
  createInterface({ input: child.stderr! }).on('line', record);
  child.once('exit', (code, signal) => {
    proc.exited = signal ?? String(code);
  });
  return proc;
}

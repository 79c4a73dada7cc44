// Test support: the real CLI process (src/cli.ts, installed as kubectl-hestia) run as a CI step runs it, against
// the control plane of KUBECONFIG.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `hestia ARGS -n NAMESPACE` to its end: its exit code and what it printed. */
export function hestiaIn(namespace: string, ...args: string[]): Promise<CliResult> {
  return promisify(execFile)(process.execPath, ['src/cli.ts', ...args, '-n', namespace], { env: process.env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

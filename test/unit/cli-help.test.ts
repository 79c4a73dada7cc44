// Every command of the CLI (hestia, kubectl hestia) explains itself, and wrong use says what to change.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../src/commands/help.ts';

// Each test starts a Node process (about half a second alone); the whole unit suite runs files in
// parallel on two cores, so give each the time a loaded machine needs.
vi.setConfig({ testTimeout: 30_000 });

const cli = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['src/cli.ts', ...args], { env: { ...process.env, KUBECONFIG: '/nonexistent/kubeconfig' } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );

describe('hestia --help', () => {
  it('lists every command', async () => {
    const { code, stdout } = await cli('--help');
    expect(code).toBe(0);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it.each(COMMANDS)('%s --help prints its usage and exits 0', async (command) => {
    const { code, stdout } = await cli(command, '--help');
    expect(code).toBe(0);
    expect(stdout.startsWith(`hestia ${command}`)).toBe(true);
  });

  it('wait --help documents the exit codes 0 to 4', async () => {
    const { stdout } = await cli('wait', '-h');
    for (const code of [0, 1, 2, 3, 4]) expect(stdout).toMatch(new RegExp(`^  ${code}  `, 'm'));
  });
});

describe('wrong use', () => {
  it.each([
    [['wait'], 'hestia wait: expected one RUNNER name, got none (see hestia wait --help)'],
    [['wait', 'a', '--tiemout=5m'], "hestia wait: Unknown option '--tiemout' (see hestia wait --help)"],
    [['wait', 'a', '--timeout=soon'], 'hestia: --timeout: "soon" is not a valid duration'],
    [['runs', 'a', '-o', 'yaml'], 'hestia runs: -o/--output takes only "json" (got "yaml")'],
    [['logs'], 'hestia logs: expected one RUNNER name, got none (see hestia logs --help)'],
    [['logs', 'a', '--run', 'latest'], 'hestia logs: --run takes a run number (1, 2, …; see kubectl hestia runs), got "latest"'],
    [['logs', 'a', '--run', '2', '--job', 'a-x'], 'hestia logs: pass --run or --job, not both'],
    [['logs', 'a', '--tail=-5'], 'hestia logs: --tail takes a number of lines, got "-5"'],
    [['frobnicate'], 'hestia: unknown command "frobnicate"'],
    [['wait', 'a'], 'hestia: cannot read the kubeconfig /nonexistent/kubeconfig'],
  ])('%j exits 4 and says what to change', async (args, message) => {
    const { code, stderr } = await cli(...args);
    expect(code).toBe(4);
    expect(stderr).toContain(message);
  });
});

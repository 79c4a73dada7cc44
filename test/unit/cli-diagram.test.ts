// hestia diagram RUNNER (kubectl hestia diagram), used wrongly: each mistake is caught before any request and the
// message says what to change. What reads a Runner runs against the real control plane, in
// test/integration/cli-diagram.test.ts.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { diagramCommand } from '../../src/commands/diagram.ts';

// Each test starts a Node process; the unit suite runs files in parallel, so give each the time a loaded machine needs.
vi.setConfig({ testTimeout: 30_000 });

const dir = mkdtempSync(join(tmpdir(), 'hestia-diagram-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A kubeconfig that does not exist: a check that slipped behind reading it would fail with the kubeconfig's message,
// never reach whatever cluster the person running the tests is logged in to.
const MISSING_KUBECONFIG = join(dir, 'no-such-kubeconfig');

const cli = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['src/cli.ts', ...args], { env: { ...process.env, KUBECONFIG: MISSING_KUBECONFIG } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );

describe('hestia diagram, wrong use', () => {
  it.each([
    [['diagram', 'waiting', '-o', 'json'], 'hestia diagram: -o/--output takes "svg" or "png" (got "json")\n'],
    [['diagram', 'waiting', '--output=jpeg'], 'hestia diagram: -o/--output takes "svg" or "png" (got "jpeg")\n'],
    [['diagram', '-o', 'png'], 'hestia diagram: --output needs a RUNNER (see hestia diagram --help)\n'],
    [['diagram', '--file', 'x.svg', '-n', 'qa'], 'hestia diagram: --file, --namespace need a RUNNER (see hestia diagram --help)\n'],
    [['diagram', 'a', 'b'], 'hestia diagram: expected one RUNNER name, got a b (see hestia diagram --help)\n'],
    [['diagram', 'a', '--fiel', 'x.svg'], "hestia diagram: Unknown option '--fiel' (see hestia diagram --help)\n"],
  ])('%j exits 4 and says what to change', async (args, message) => {
    expect(await cli(...args)).toEqual({ code: 4, stdout: '', stderr: message });
  });

  it('names a kubeconfig that does not exist', async () => {
    const { code, stdout, stderr } = await cli('diagram', 'a', '--kubeconfig', '/nonexistent/kubeconfig');
    expect(code).toBe(4);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^hestia: cannot read the kubeconfig \/nonexistent\/kubeconfig: /);
  });

  it('does not write a PNG to a terminal, before reading the kubeconfig', async () => {
    await expect(diagramCommand({ format: 'png', stdoutIsTerminal: true, kubeconfig: MISSING_KUBECONFIG }, 'waiting')).rejects.toThrow(
      'hestia diagram: a PNG is no text for a terminal: pass --file PATH or redirect stdout',
    );
  });
});

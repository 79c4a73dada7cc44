// `make dev`, the README's first command, run as a user runs it: from the repo, with nothing but the
// prerequisites `make test` built first. It starts its own control plane, the operator and the samples;
// this test reads the kubeconfig it prints, waits until the samples' Runners have done what the README
// says they do, checks that its live view showed it, then presses Ctrl-C (SIGINT to its process group,
// as a terminal does) and checks that everything it started is gone. HESTIA_DEV_SECONDS bounds it in
// case the test itself dies.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = new URL('../../', import.meta.url).pathname;
const CLUSTER = `hestia-dev-test-${process.pid}`;
const BOUND_SECONDS = 420;

interface RunnerRow { name: string; state: string; lastResult: string | undefined; tests: number | undefined; ready: string | undefined }

let dev: ChildProcess | undefined;
let output = '';
let exited: Promise<number | null> | undefined;

function startDev(): void {
  dev = spawn('make', ['--no-print-directory', 'dev'], {
    cwd: REPO,
    detached: true, // its own process group, so SIGINT reaches all of it as Ctrl-C in a terminal does
    env: { ...process.env, HESTIA_DEV_SECONDS: String(BOUND_SECONDS), HESTIA_DEV_CLUSTER: CLUSTER },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  dev.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  exited = new Promise((resolve) => dev!.on('exit', (code) => resolve(code)));
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; make dev printed:\n${output.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function printed(label: string): string | undefined {
  return output.match(new RegExp(`^\\s*${label}:\\s+(\\S+)`, 'm'))?.[1];
}

function runners(kubectl: string, kubeconfig: string): Map<string, RunnerRow> {
  const json = execFileSync(kubectl, ['--kubeconfig', kubeconfig, 'get', 'runners', '-A', '-o', 'json'], { encoding: 'utf8' });
  type Item = { metadata: { name: string }; status?: { state?: string; lastRun?: { result?: string; tests?: { tests?: number } }; conditions?: { type: string; status: string }[] } };
  const items = (JSON.parse(json) as { items: Item[] }).items;
  return new Map(items.map((r) => [r.metadata.name, {
    name: r.metadata.name,
    state: r.status?.state ?? '',
    lastResult: r.status?.lastRun?.result,
    tests: r.status?.lastRun?.tests?.tests,
    ready: r.status?.conditions?.find((c) => c.type === 'Ready')?.status,
  }]));
}

/** The live view's lines for one Runner (kubectl get runners -A --watch: NAMESPACE NAME STATE ...). */
const viewLines = (name: string): string[] => output.split('\n').filter((l) => l.split(/\s+/)[1] === name);

// If the test failed half-way: stop it as `kill` would, and delete its cluster whatever happened.
afterAll(async () => {
  if (dev && dev.exitCode === null && dev.signalCode === null) {
    process.kill(-dev.pid!, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  }
  execFileSync(`${REPO}test/cluster/down.sh`, [CLUSTER], { stdio: 'ignore' });
}, 90_000);

describe('make dev on a fresh clone', () => {
  it('starts a control plane, the operator and the samples, shows the promised runs, and stops everything on Ctrl-C', async () => {
    startDev();
    const kubeconfig = await until('make dev to print its KUBECONFIG', () => printed('KUBECONFIG'), 240_000);
    const kubectl = (await until('make dev to print its kubectl', () => printed('kubectl'), 10_000));
    await until('the live view to start', () => (output.includes('Watching Runners') ? true : undefined), 30_000);

    // README, "Set-up": my-generic-runner runs when its Deployment is ready, runner-2 runs after runner-1
    // succeeds, the failing sample fails, my-scheduled-runner runs at every minute; my-junit-runner's failed run
    // has the counts of the pytest report its log holds; the advisory sample fails but stays Ready, and the
    // Runner after it runs.
    const promised = (rows: Map<string, RunnerRow>) =>
      rows.get('my-generic-runner')?.lastResult === 'Succeeded' &&
      rows.get('my-junit-runner')?.lastResult === 'Failed' &&
      rows.get('my-junit-runner')?.tests === 6 &&
      rows.get('my-advisory-runner')?.lastResult === 'Failed' &&
      rows.get('my-advisory-runner')?.ready === 'True' &&
      rows.get('my-after-advisory-runner')?.lastResult === 'Succeeded' &&
      rows.get('runner-1')?.lastResult === 'Succeeded' &&
      rows.get('runner-2')?.lastResult === 'Succeeded' &&
      rows.get('my-failing-runner')?.state === 'Failed' &&
      rows.get('my-scheduled-runner')?.lastResult === 'Succeeded' &&
      rows.get('my-scheduled-runner')?.state === 'Scheduled';
    const rows = await until('the samples to reach the states the README promises', () => {
      const now = runners(kubectl, kubeconfig);
      return promised(now) ? now : undefined;
    }, 200_000);
    expect(rows.get('my-failing-runner')?.lastResult).toBe('Failed');

    // What the user watched: each of those states appeared in the live view.
    await until('the live view to show them', () => {
      const shows = (name: string, state: string) => viewLines(name).some((l) => l.split(/\s+/)[2] === state);
      return shows('my-generic-runner', 'Succeeded') && shows('runner-2', 'Succeeded') && shows('my-failing-runner', 'Failed') &&
        shows('my-scheduled-runner', 'Running') && shows('my-scheduled-runner', 'Scheduled') ? true : undefined;
    }, 30_000);
    expect(output).not.toMatch(/accessor error/); // kubectl wait's failure on a CRD without conditions

    // The sample Notification's CloudEvents reached the receiver make dev runs, which printed them beside the view.
    await until('the notifications of those runs to be printed', () => {
      const notices = output.split('\n').filter((l) => l.startsWith('notification  '));
      const told = (type: string, runner: string) => notices.some((l) => l.includes(`com.stakater.e2e.run.${type}`) && l.includes(`default/${runner}:`));
      return told('started', 'my-generic-runner') && told('succeeded', 'my-generic-runner') && told('failed', 'my-failing-runner') ? true : undefined;
    }, 30_000);
    expect(output).not.toMatch(/not a CloudEvent/);

    // Ctrl-C: the operator and the control plane stop; the cluster's directory is gone.
    process.kill(-dev!.pid!, 'SIGINT');
    await until('make dev to exit', () => (dev!.exitCode !== null || dev!.signalCode !== null ? true : undefined), 60_000);
    expect(output).toContain('make dev: stopped the operator and the control plane');
    expect(output).not.toMatch(/notification receiver did not start/);
    const cacheHome = process.env.XDG_CACHE_HOME ?? `${process.env.HOME}/.cache`;
    expect(existsSync(`${process.env.HESTIA_KWOK_WORKDIR ?? `${cacheHome}/hestia/kwok`}/clusters/${CLUSTER}`)).toBe(false);
  }, 480_000);
});

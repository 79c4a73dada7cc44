// `hestia wait`, `hestia trigger --wait` and `hestia runs` as a CI step runs them: the real CLI
// process (src/cli.ts, installed as kubectl-hestia) against the real control plane, one test per
// exit code.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { gate, type Gate } from './support/gate.ts';
import { hestiaIn, type CliResult } from './support/cli.ts';
import { operatorEnvironment } from './support/environment.ts';
import {
  apps, createDeployment, createRunner, ENABLE, jobsOf, patchRunner, runnerManifest, waitFor, waitForRunner,
} from './support/kube.ts';
import { startOperator } from './support/operator.ts';

const env = operatorEnvironment('cli-verdicts');
const gates: Gate[] = [];
afterAll(async () => {
  for (const g of gates) await g.remove();
});

type Result = CliResult;

/** Runs `hestia ARGS -n <ns>` to its end. */
const hestia = (...args: string[]): Promise<Result> => hestiaIn(env.ns, ...args);

/** Starts `hestia ARGS` (for a wait that something else must end): its stderr so far, and its result. */
function hestiaInBackground(...args: string[]): { stderr: () => string; result: Promise<Result> } {
  const child = spawn(process.execPath, ['src/cli.ts', ...args, '-n', env.ns], { env: process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return { stderr: () => stderr, result: new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))) };
}

describe('hestia wait', () => {
  it('exits 0 when the run of the current revision succeeded, naming its Job and trigger', async () => {
    await createRunner(runnerManifest(env.ns, 'passing', {}));
    const done = await waitForRunner(env.ns, 'passing', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    const r = await hestia('wait', 'passing');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Runner ${env.ns}/passing: the run succeeded`);
    expect(r.stdout).toContain(`Job:      ${done.status?.lastRun?.jobName}`);
    expect(r.stdout).toContain('Trigger:  first run');
  });

  it("exits 1 when it failed, printing the Job, the trigger and the failed container's termination message", async () => {
    const failing = runnerManifest(env.ns, 'failing', {}, {}, true);
    failing.spec.template.metadata!.annotations = { 'pod-container-running-failed.stage.kwok.x-k8s.io/exit-code': '3', 'pod-container-running-failed.stage.kwok.x-k8s.io/message': 'cart returned 502' };
    await createRunner(failing);
    // Waits through the run: started before the Runner has run at all.
    const r = await hestia('wait', 'failing', '--timeout=60s');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Runner ${env.ns}/failing: the run failed`);
    expect(r.stdout).toMatch(/Message: +BackoffLimitExceeded: .*container check in pod failing-\S+ exited with code 3 \(containerFailed\): cart returned 502/);
    expect(r.stdout).toContain('Trigger:  first run');
    const json = JSON.parse((await hestia('wait', 'failing', '-o', 'json')).stdout);
    expect(json).toMatchObject({ runner: `${env.ns}/failing`, outcome: 'failed', exitCode: 1, state: 'Failed', run: { result: 'Failed' } });
  });

  it('exits 2 when the run does not finish within --timeout', async () => {
    const g = gate();
    gates.push(g);
    await createRunner(g.hold(runnerManifest(env.ns, 'slow', {})));
    await waitForRunner(env.ns, 'slow', 'Running', (r) => r.status?.state === 'Running');
    const r = await hestia('wait', 'slow', '--timeout=2s');
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/Runner .*\/slow: timed out; still waiting: Job slow-\S+ is running \(first run\)/);
  });

  it.each([
    ['suspended', { suspend: true }, 'Suspended', `"suspend":false`],
    ['invalid', { schedule: '0 0 31 2 *' }, 'InvalidSpec', 'fix the field'],
  ])('exits 3 at once when the Runner cannot run (%s), saying what to fix', async (name, spec, reason, fix) => {
    await createRunner(runnerManifest(env.ns, name, spec));
    await waitForRunner(env.ns, name, 'seen by the operator', (x) => x.status?.state !== undefined);
    const started = Date.now();
    const r = await hestia('wait', name, '--timeout=5m');
    expect(r.code).toBe(3);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.stdout).toContain(`cannot run: ${reason}`);
    expect(r.stdout).toContain(fix);
  });

  it('exits 3 when an upstream failed, and 4 (with the name) when the Runner does not exist', async () => {
    await createRunner(runnerManifest(env.ns, 'bad-upstream', {}, { tier: 'bad' }, true));
    await createRunner(runnerManifest(env.ns, 'downstream', { runnerSelector: { matchLabels: { tier: 'bad' } } }));
    const r = await hestia('wait', 'downstream', '--timeout=60s');
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`cannot run: UpstreamFailed: the latest run of upstream Runner ${env.ns}/bad-upstream failed`);
    const missing = await hestia('wait', 'no-such-runner');
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`Runner ${env.ns}/no-such-runner not found`);
  });

  it("answers for the rollout just made, not the previous rollout's run, even when the operator lags behind", async () => {
    await createDeployment(env.ns, 'cart', { app: 'cart', ...ENABLE });
    await createRunner(runnerManifest(env.ns, 'cart-smoke', { workloadSelector: { matchLabels: { app: 'cart' } } }));
    const first = await waitForRunner(env.ns, 'cart-smoke', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    // The operator stopped: the status still shows the previous rollout's passing run. The new
    // rollout's pods wait for a node, so it is still in progress when the CLI looks.
    await env.operator.stop();
    const g = gate();
    gates.push(g);
    const d = await apps.readNamespacedDeployment({ namespace: env.ns, name: 'cart' });
    d.spec!.template.spec!.nodeSelector = { 'hestia.test/gate': g.label };
    await apps.replaceNamespacedDeployment({ namespace: env.ns, name: 'cart', body: d });
    const waiting = hestiaInBackground('wait', 'cart-smoke', '--timeout=90s', '-o', 'json');
    const behind = `the operator has not seen the change of Deployment ${env.ns}/cart yet`;
    await waitFor('hestia wait to notice the unreported rollout', async () => (await hestia('wait', 'cart-smoke', '--timeout=0')).stdout.includes(behind));
    env.operator = await startOperator();
    await g.open();
    const r = await waiting.result;
    expect(r.code).toBe(0);
    const verdict = JSON.parse(r.stdout);
    expect(verdict.run.jobName).not.toBe(first.status?.lastRun?.jobName);
    expect(verdict.run.trigger).toBe(`rollout of Deployment ${env.ns}/cart`);
  });

  it('--after-now waits for the next run that starts', async () => {
    const before = await waitForRunner(env.ns, 'passing', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    const waiting = hestiaInBackground('wait', 'passing', '--after-now', '--timeout=60s');
    // It says what it waits for once it has noted the latest run: a new one may start from then on.
    await waitFor('hestia wait --after-now to be waiting', () => waiting.stderr().includes('waiting: '));
    expect(waiting.stderr()).toContain(`waiting: a run after Job ${before.status!.lastRun!.jobName} to start`);
    await patchRunner(env.ns, 'passing', { metadata: { annotations: { 'runner.stakater.com/trigger': 'after-now' } } });
    const r = await waiting.result;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Trigger:  manual trigger "after-now"');
    expect(r.stdout).not.toContain(before.status!.lastRun!.jobName);
  });
});

describe('hestia trigger --wait', () => {
  it('requests one run and exits with its result: 0, then 1 for a failing check', async () => {
    const ok = await hestia('trigger', 'passing', '--wait', '--timeout=60s', '--value', 'ci-42');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Trigger:  manual trigger "ci-42"');
    const again = await hestia('trigger', 'passing', '--wait', '--value', 'ci-42');
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('runner.stakater.com/trigger is "ci-42" already, which requests nothing new: pass another --value');
    const bad = await hestia('trigger', 'failing', '--wait', '--timeout=60s');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/Trigger: +manual trigger "cli-/);
  });

  it('exits 3 at once on a suspended Runner', async () => {
    const r = await hestia('trigger', 'suspended', '--wait', '--timeout=5m');
    expect(r.code).toBe(3);
  });
});

describe('hestia runs', () => {
  it('lists every run of a Runner, newest first, with its number, start, duration, result, tests, trigger, Job and message', async () => {
    const jobs = (await jobsOf(env.ns, 'passing')).map((j) => j.metadata!.name!);
    const r = await hestia('runs', 'passing');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUN +START +DURATION +RESULT +TESTS +TRIGGER +JOB +MESSAGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['3', '2', '1']);
    expect(lines.slice(1).map((l) => l.match(/manual trigger "[^"]+"|first run/)?.[0])).toEqual(['manual trigger "ci-42"', 'manual trigger "after-now"', 'first run']);
    for (const job of jobs) expect(r.stdout).toContain(job);
    const json = JSON.parse((await hestia('runs', 'failing', '-o', 'json')).stdout) as { runs: { result: string; message: string }[] };
    expect(json.runs.map((x) => x.result)).toEqual(['Failed', 'Failed']);
    expect(json.runs[1]!.message).toContain('cart returned 502');
  });
});

describe('a Runner whose name is longer than a label value', () => {
  // 78 characters: its Jobs carry a shortened label value (src/runner/job.ts), and the CLI must select them by it.
  const long = 'checkout-service-end-to-end-smoke-test-against-the-staging-payment-gateway-eu1';

  it('`runs` lists its kept Job and `describe` shows it, exit 0', async () => {
    expect(long).toHaveLength(78);
    await createRunner(runnerManifest(env.ns, long, {}));
    const done = await waitForRunner(env.ns, long, 'Succeeded', (r) => r.status?.state === 'Succeeded');
    const job = done.status!.lastRun!.jobName;
    expect((await jobsOf(env.ns, long)).map((j) => j.metadata!.name)).toEqual([job]);

    const runs = await hestia('runs', long, '-o', 'json');
    expect(runs.stderr).toBe('');
    expect(runs.code).toBe(0);
    expect((JSON.parse(runs.stdout) as { runs: { job: string; jobKept: boolean }[] }).runs).toMatchObject([{ job, jobKept: true }]);

    const described = await hestia('describe', long);
    expect(described.stderr).toBe('');
    expect(described.code).toBe(0);
    expect(described.stdout).toContain(`Runner ${env.ns}/${long}`);
    expect(described.stdout).toMatch(new RegExp(`Jobs kept \\(newest first\\):\\n  ${job}  Succeeded  created `));
  });
});

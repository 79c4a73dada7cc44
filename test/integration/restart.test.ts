// SPEC §5 (snapshot), §6: the operator is killed while a Job runs; on restart the Runner's actor
// is restored from status.snapshot, still Running, and finishes with the same Job — no second Job.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  condition, core, createDeployment, createNamespace, createRunner, deleteNamespace, ENABLE, installCrd, jobsOf,
  runnerManifest, waitFor, waitForRunner,
} from './support/kube.ts';
import { operatorKubeConfig } from './support/identity.ts';

let ns: string;
let kubeconfigFile: string;
let proc: ChildProcess | undefined;
const gate = `gate-${process.pid}`;

/** The real operator process, as users run it. */
function startOperatorProcess(): ChildProcess {
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: { ...process.env, KUBECONFIG: kubeconfigFile, HESTIA_HEALTH_PORT: '0', HESTIA_METRICS_PORT: '0', HESTIA_LOG_LEVEL: process.env.HESTIA_TEST_LOG ?? 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('restart');
  const dir = mkdtempSync(join(tmpdir(), 'hestia-restart-'));
  kubeconfigFile = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigFile, (await operatorKubeConfig()).exportConfig());
});

afterAll(async () => {
  proc?.kill('SIGKILL');
  await deleteNamespace(ns);
  await core.deleteNode({ name: gate }).catch(() => undefined);
});

describe('operator restart', () => {
  it('resumes a Running Runner from its snapshot after SIGKILL, and finishes with the same Job', async () => {
    await createDeployment(ns, 'app', { app: 'restart-app', ...ENABLE });
    const runner = runnerManifest(ns, 'survivor', { workloadSelector: { matchLabels: { app: 'restart-app' } } });
    // The Job's pod can only run on a node that does not exist yet: it stays pending until the test opens the gate.
    runner.spec.template.spec!.nodeSelector = { 'hestia.test/gate': gate };
    await createRunner(runner);

    proc = startOperatorProcess();
    const running = await waitForRunner(ns, 'survivor', 'Running', (r) => r.status?.state === 'Running' && !!r.status.snapshot);
    const jobName = running.status!.lastRun!.jobName;
    await waitFor('the Job to exist', async () => (await jobsOf(ns, 'survivor')).length === 1);

    proc.kill('SIGKILL');
    await new Promise((resolve) => proc!.once('exit', resolve));
    proc = startOperatorProcess();

    // Open the gate: a kwok node with the label lets the pod run and complete.
    await core.createNode({ body: { metadata: { name: gate, labels: { 'hestia.test/gate': gate }, annotations: { 'kwok.x-k8s.io/node': 'fake' } } } });
    const done = await waitForRunner(ns, 'survivor', 'Succeeded', (r) => r.status?.state === 'Succeeded', 90_000);
    expect(done.status?.lastRun?.jobName).toBe(jobName);
    expect(condition(done, 'JobCompleted')).toMatchObject({ status: 'True', reason: 'Successful' });
    const jobs = await jobsOf(ns, 'survivor');
    expect(jobs.map((j) => j.metadata?.name)).toEqual([jobName]);
  });
});

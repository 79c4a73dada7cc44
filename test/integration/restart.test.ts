// SPEC §5 (snapshot), §6: the operator is killed while a Job runs; on restart the Runner's actor
// is restored from status.snapshot, still Running, and finishes with the same Job — no second Job.
// The same across an upgrade: snapshots written before the machine had groups (a bare state name as their value)
// are restored in their state, with their run, and stored in the new form.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runnerStateOf } from '../../machines/runner-snapshot.ts';
import { GROUP, PLURAL, VERSION } from '../../src/api/runner.ts';
import {
  condition, core, createDeployment, createNamespace, createRunner, custom, deleteNamespace, ENABLE, getRunner, installCrd, jobsOf,
  runnerManifest, waitFor, waitForRunner,
} from './support/kube.ts';
import { operatorKubeConfig } from './support/identity.ts';
import { operatorEntry } from './support/operator-entry.ts';

let ns: string;
let kubeconfigFile: string;
let proc: ChildProcess | undefined;
const gate = `gate-${process.pid}`;
const upgradeGate = `gate-upgrade-${process.pid}`;

/** Rewrites a Runner's status.snapshot as the machine without groups wrote it: its value the bare state name. */
async function writeSnapshotOfPreviousMachine(name: string): Promise<string> {
  const runner = await getRunner(ns, name);
  const snapshot = runner.status!.snapshot as Record<string, unknown>;
  const state = runnerStateOf(snapshot.value)!;
  const status = { ...runner.status, snapshot: { ...snapshot, value: state } };
  await custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name, body: { ...runner, status } });
  return state;
}

/** Kills the operator process (SIGKILL: no goodbye), if one runs, and waits until it is gone. */
async function stopOperatorProcess(): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc!.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
}

const openGate = (name: string) =>
  core.createNode({ body: { metadata: { name, labels: { 'hestia.test/gate': name }, annotations: { 'kwok.x-k8s.io/node': 'fake' } } } });

/** The real operator process, as users run it. */
function startOperatorProcess(): ChildProcess {
  const child = spawn(process.execPath, [operatorEntry()], {
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
  await core.deleteNode({ name: upgradeGate }).catch(() => undefined);
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

  it('resumes Runners whose snapshots the machine without groups wrote, in their state and with their run', async () => {
    await stopOperatorProcess();
    await createDeployment(ns, 'upgraded-app', { app: 'upgraded-app', ...ENABLE });
    const held = runnerManifest(ns, 'held', { workloadSelector: { matchLabels: { app: 'upgraded-app' } } });
    held.spec.template.spec!.nodeSelector = { 'hestia.test/gate': upgradeGate };
    await createRunner(held);
    await createRunner(runnerManifest(ns, 'finished', { workloadSelector: { matchLabels: { app: 'upgraded-app' } } }));

    proc = startOperatorProcess();
    const running = await waitForRunner(ns, 'held', 'Running', (r) => r.status?.state === 'Running' && !!r.status.snapshot);
    const finished = await waitForRunner(ns, 'finished', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    const [heldJob, finishedJob] = [running.status!.lastRun!.jobName, finished.status!.lastRun!.jobName];
    await stopOperatorProcess();

    // While the operator is down, the snapshots become what the previous version of the machine persisted.
    expect(await writeSnapshotOfPreviousMachine('held')).toBe('Running');
    expect(await writeSnapshotOfPreviousMachine('finished')).toBe('Succeeded');
    expect((await getRunner(ns, 'held')).status?.snapshot).toMatchObject({ value: 'Running' });

    proc = startOperatorProcess();
    // Restored in their states: the finished one stores its snapshot in the new form and runs nothing again.
    const stored = await waitForRunner(ns, 'finished', 'its snapshot stored in the new form', (r) =>
      typeof (r.status?.snapshot as { value?: unknown } | undefined)?.value === 'object');
    expect(stored.status?.state).toBe('Succeeded');
    expect((stored.status?.snapshot as { value: unknown }).value).toEqual({ atRest: 'Succeeded' });
    expect(stored.status?.lastRun?.jobName).toBe(finishedJob);
    // The running one finishes the run it had, with its Job.
    await openGate(upgradeGate);
    const done = await waitForRunner(ns, 'held', 'Succeeded', (r) => r.status?.state === 'Succeeded', 90_000);
    expect(done.status?.lastRun?.jobName).toBe(heldJob);
    expect((await jobsOf(ns, 'held')).map((j) => j.metadata?.name)).toEqual([heldJob]);
    expect((await jobsOf(ns, 'finished')).map((j) => j.metadata?.name)).toEqual([finishedJob]);
  });
});

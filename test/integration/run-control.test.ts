// SPEC §2.2, §6 and issue 4: invalid specs, stableStateTimeout, concurrencyPolicy, and
// `hestia describe` on a real control plane.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  apps, condition, core, createDeployment, createRunner, deploymentManifest, ENABLE, jobsOf, patchRunner, runnerManifest, stays, waitFor, waitForRunner,
} from './support/kube.ts';
import { gate, type Gate } from './support/gate.ts';
import { operatorEnvironment } from './support/environment.ts';

const env = operatorEnvironment('run-control');

const gates: Gate[] = [];

afterAll(async () => {
  for (const g of gates) await g.remove();
});

const events = async (name: string, reason: string) =>
  (await core.listNamespacedEvent({ namespace: env.ns, fieldSelector: `involvedObject.name=${name},reason=${reason}` })).items;
const trigger = (name: string, value: string) => patchRunner(env.ns, name, { metadata: { annotations: { 'runner.stakater.com/trigger': value } } });
const newGate = () => {
  const g = gate();
  gates.push(g);
  return g;
};

describe('bad input', () => {
  it('reports a spec the API server admits but the operator cannot use as Stalled/InvalidSpec naming the field, and recovers when fixed', async () => {
    await createRunner(runnerManifest(env.ns, 'feb-31', { schedule: '0 0 31 2 *' }));
    const r = await waitForRunner(env.ns, 'feb-31', 'InvalidSpec', (x) => condition(x, 'Stalled')?.reason === 'InvalidSpec');
    expect(r.status?.state).toBe('Invalid');
    expect(condition(r, 'Stalled')?.message).toContain('spec.schedule');
    expect(condition(r, 'Ready')?.status).toBe('False');
    await waitFor('an InvalidSpec Event', async () => (await events('feb-31', 'InvalidSpec')).length === 1);
    expect((await events('feb-31', 'InvalidSpec'))[0]!.message).toContain('spec.schedule');

    await patchRunner(env.ns, 'feb-31', { spec: { schedule: '0 0 28 2 *' } });
    const fixed = await waitForRunner(env.ns, 'feb-31', 'Scheduled', (x) => x.status?.state === 'Scheduled');
    expect(condition(fixed, 'Stalled')?.status).toBe('False');
  });
});

describe('stableStateTimeout', () => {
  it('makes a Runner whose workloads stay not ready Stalled/StableStateTimeout, with progressingSince', async () => {
    const stuck = deploymentManifest(env.ns, 'stuck', { app: 'stuck', ...ENABLE });
    stuck.spec!.template.spec!.nodeSelector = { 'hestia.test/none': 'none' };
    await apps.createNamespacedDeployment({ namespace: env.ns, body: stuck });
    await createRunner(runnerManifest(env.ns, 'impatient', { workloadSelector: { matchLabels: { app: 'stuck' } }, stableStateTimeout: '2s' }));
    await createRunner(runnerManifest(env.ns, 'patient', { workloadSelector: { matchLabels: { app: 'stuck' } }, stableStateTimeout: '0s' }));
    const r = await waitForRunner(env.ns, 'impatient', 'StableStateTimeout', (x) => condition(x, 'Stalled')?.reason === 'StableStateTimeout', 30_000);
    expect(r.status?.state).toBe('WaitingForWorkloads');
    expect(r.status?.progressingSince).toBeTruthy();
    expect(condition(r, 'Stalled')?.message).toContain(`Deployment ${env.ns}/stuck`);
    const p = await waitForRunner(env.ns, 'patient', 'waiting', (x) => x.status?.state === 'WaitingForWorkloads');
    expect(condition(p, 'Stalled')?.status).toBe('False');
  });
});

describe('concurrencyPolicy', () => {
  it('Forbid: triggers that arrive during a run are remembered and run once after it', async () => {
    const g = newGate();
    await createRunner(g.hold(runnerManifest(env.ns, 'forbid', {})));
    await waitForRunner(env.ns, 'forbid', 'Running', (x) => x.status?.state === 'Running');
    await trigger('forbid', 'a');
    await trigger('forbid', 'b');
    await stays('a second Job during the run', async () => (await jobsOf(env.ns, 'forbid')).length !== 1, 1500);
    await g.open();
    const done = await waitForRunner(env.ns, 'forbid', 'second run done', (x) => x.status?.state === 'Succeeded' && x.status.lastRun?.trigger === 'manual trigger "b"', 60_000);
    expect(done.status?.lastRun?.reason).toBe('Manual');
    expect(await jobsOf(env.ns, 'forbid')).toHaveLength(2);
  });

  it('Replace: a trigger during a run deletes the running Job and starts the new run', async () => {
    const g = newGate();
    await createRunner(g.hold(runnerManifest(env.ns, 'replace', { concurrencyPolicy: 'Replace' })));
    const first = await waitForRunner(env.ns, 'replace', 'Running', (x) => x.status?.state === 'Running');
    await trigger('replace', 'now');
    const second = await waitForRunner(env.ns, 'replace', 'running the new run', (x) => x.status?.state === 'Running' && x.status.lastRun?.jobName !== first.status?.lastRun?.jobName);
    await waitFor('the first Job to be deleted', async () => (await jobsOf(env.ns, 'replace')).every((j) => j.metadata?.name !== first.status?.lastRun?.jobName));
    await waitFor('a RunReplaced Event', async () => (await events('replace', 'RunReplaced')).length === 1);
    await g.open();
    const done = await waitForRunner(env.ns, 'replace', 'Succeeded', (x) => x.status?.state === 'Succeeded', 60_000);
    expect(done.status?.lastRun?.jobName).toBe(second.status?.lastRun?.jobName);
  });
});

describe('hestia describe', () => {
  it('prints the state, what the Runner waits for, and its last run', async () => {
    await createDeployment(env.ns, 'described', { app: 'described', ...ENABLE });
    await createRunner(runnerManifest(env.ns, 'explained', { workloadSelector: { matchLabels: { app: 'described' } } }));
    const r = await waitForRunner(env.ns, 'explained', 'Succeeded', (x) => x.status?.state === 'Succeeded');
    const { stdout } = await promisify(execFile)(process.execPath, ['src/cli.ts', 'describe', 'explained', '-n', env.ns], { env: process.env });
    expect(stdout).toContain(`Runner ${env.ns}/explained`);
    expect(stdout).toMatch(/State: +Succeeded/);
    expect(stdout).toContain(`ready      Deployment ${env.ns}/described`);
    expect(stdout).toContain(`Job ${r.status?.lastRun?.jobName}: Succeeded`);
    expect(stdout).toContain('triggered by first run');
  });
});

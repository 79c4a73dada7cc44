// SPEC §2.2, §3.4 and issue 4: scheduled Runners on a real control plane, with the operator's
// clock moved by the test so that ticks take seconds, not minutes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdjustableClock } from '../../src/time/clock.ts';
import type { Operator } from '../../src/operator/operator.ts';
import {
  apps, condition, core, createDeployment, createNamespace, createRunner, deleteNamespace, deploymentAvailable, ENABLE,
  installCrd, jobsOf, patchRunner, runnerManifest, stays, waitFor, waitForRunner,
} from './support/kube.ts';
import { startOperator } from './support/operator.ts';

let operator: Operator | undefined;
let ns: string;
// A fixed, far-away day so that ticks are exact: 2031-03-03T10:00:30Z.
const T0 = new Date('2031-03-03T10:00:30Z');
let clock: AdjustableClock;

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('schedule');
  clock = new AdjustableClock(T0);
  operator = await startOperator({ clock });
});

afterAll(async () => {
  await operator?.stop();
  await deleteNamespace(ns);
});

const minute = (m: number) => new Date(Date.UTC(2031, 2, 3, 10, m, 0)).toISOString();
const events = async (name: string, reason: string) =>
  (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name},reason=${reason}` })).items;

describe('scheduled Runners', () => {
  it('run at each tick while ready, skip a tick during a rollout visibly, and run the next one', async () => {
    await createDeployment(ns, 'web', { app: 'sched-web', ...ENABLE });
    await waitFor('web available', () => deploymentAvailable(ns, 'web'));
    await createRunner(runnerManifest(ns, 'every-minute', { schedule: '* * * * *', workloadSelector: { matchLabels: { app: 'sched-web' } } }));
    const scheduled = await waitForRunner(ns, 'every-minute', 'Scheduled with a next run', (r) => r.status?.state === 'Scheduled' && !!r.status.nextScheduleTime);
    expect(scheduled.status?.nextScheduleTime).toBe(minute(1));

    clock.set(new Date(minute(1)));
    const ran = await waitForRunner(ns, 'every-minute', 'ran the 10:01 tick', (r) => r.status?.lastRun?.result === 'Succeeded' && r.status.state === 'Scheduled');
    expect(ran.status?.lastRun).toMatchObject({ reason: 'Schedule', trigger: `schedule (tick ${minute(1)})` });
    expect(ran.status?.nextScheduleTime).toBe(minute(2));

    // A rollout whose new pods cannot start: the Deployment stays not ready across the next tick.
    const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'web' });
    d.spec!.template.spec!.nodeSelector = { 'hestia.test/none': 'none' };
    await apps.replaceNamespacedDeployment({ namespace: ns, name: 'web', body: d });
    await waitForRunner(ns, 'every-minute', 'WaitingForWorkloads', (r) => r.status?.state === 'WaitingForWorkloads');
    clock.set(new Date(minute(2)));
    const skipped = await waitForRunner(ns, 'every-minute', 'tick 10:02 skipped', (r) => (r.status?.message ?? '').includes(`tick ${minute(2)} was skipped`));
    expect(skipped.status?.lastScheduleTime).toBe(minute(2));
    await waitFor('a TickSkipped Event', async () => (await events('every-minute', 'TickSkipped')).length === 1);
    expect((await events('every-minute', 'TickSkipped'))[0]!.message).toContain('Deployment');
    expect(await jobsOf(ns, 'every-minute')).toHaveLength(1);

    // The rollout finishes (the bad selector is removed) — a rollout does not run a scheduled Runner...
    delete d.spec!.template.spec!.nodeSelector;
    const fresh = await apps.readNamespacedDeployment({ namespace: ns, name: 'web' });
    fresh.spec!.template = d.spec!.template;
    await apps.replaceNamespacedDeployment({ namespace: ns, name: 'web', body: fresh });
    await waitForRunner(ns, 'every-minute', 'Scheduled again', (r) => r.status?.state === 'Scheduled');
    await stays('a rollout runs a scheduled Runner', async () => (await jobsOf(ns, 'every-minute')).length !== 1, 1500);
    // ...the next tick does.
    clock.set(new Date(minute(3)));
    await waitFor('the 10:03 run', async () => (await jobsOf(ns, 'every-minute')).length === 2);
  });

  it('computes the next tick in spec.timeZone', async () => {
    await createRunner(runnerManifest(ns, 'tokyo', { schedule: '0 9 * * *', timeZone: 'Asia/Tokyo' }));
    await createRunner(runnerManifest(ns, 'utc', { schedule: '0 9 * * *' }));
    const tokyo = await waitForRunner(ns, 'tokyo', 'next run', (r) => !!r.status?.nextScheduleTime);
    const utc = await waitForRunner(ns, 'utc', 'next run', (r) => !!r.status?.nextScheduleTime);
    expect(tokyo.status?.nextScheduleTime).toBe('2031-03-04T00:00:00.000Z');
    expect(utc.status?.nextScheduleTime).toBe('2031-03-04T09:00:00.000Z');
  });

  it('runs one catch-up Job on start-up for ticks missed within startingDeadlineSeconds, and none outside it', async () => {
    await createRunner(runnerManifest(ns, 'catch-up', { schedule: '*/5 * * * *', startingDeadlineSeconds: 600 }));
    await createRunner(runnerManifest(ns, 'too-late', { schedule: '*/5 * * * *', startingDeadlineSeconds: 30 }));
    await waitForRunner(ns, 'catch-up', 'Scheduled', (r) => r.status?.state === 'Scheduled' && !!r.status.snapshot);
    await waitForRunner(ns, 'too-late', 'Scheduled', (r) => r.status?.state === 'Scheduled' && !!r.status.snapshot);
    await operator!.stop();

    // Down across the 10:05 and 10:10 ticks; back at 10:12 (7 min after 10:05, 2 min after 10:10).
    clock = new AdjustableClock(new Date(Date.UTC(2031, 2, 3, 10, 12, 0)));
    operator = await startOperator({ clock });
    const caught = await waitForRunner(ns, 'catch-up', 'caught up', (r) => r.status?.lastRun?.result === 'Succeeded');
    expect(caught.status?.lastRun).toMatchObject({ reason: 'Schedule', trigger: `schedule (tick ${minute(10)})` });
    const late = await waitForRunner(ns, 'too-late', 'skip reported', (r) => r.status?.lastScheduleTime === minute(10));
    expect(late.status?.lastRun).toBeUndefined();
    await waitFor('a TickSkipped Event for the missed tick', async () => (await events('too-late', 'TickSkipped')).length === 1);
    await stays('more than one catch-up Job', async () => (await jobsOf(ns, 'catch-up')).length !== 1 || (await jobsOf(ns, 'too-late')).length !== 0, 1500);
  });

  it('does not run while suspended; a manual trigger set meanwhile runs once on resume', async () => {
    await createRunner(runnerManifest(ns, 'paused', { schedule: '0 * * * *', suspend: true }));
    await waitForRunner(ns, 'paused', 'Suspended', (r) => r.status?.state === 'Suspended');
    await patchRunner(ns, 'paused', { metadata: { annotations: { 'runner.stakater.com/trigger': 'now' } } });
    await stays('a suspended Runner runs', async () => (await jobsOf(ns, 'paused')).length > 0, 1500);
    await patchRunner(ns, 'paused', { spec: { suspend: false } });
    const r = await waitForRunner(ns, 'paused', 'manual run done', (x) => x.status?.lastRun?.result === 'Succeeded');
    expect(r.status?.lastRun?.reason).toBe('Manual');
    expect(condition(r, 'Ready')?.status).toBe('True');
  });

  it('records every run on the Runner, and a verdict on its workload once per revision', async () => {
    await createDeployment(ns, 'steady', { app: 'sched-steady', ...ENABLE });
    await waitFor('steady available', () => deploymentAvailable(ns, 'steady'));
    await createRunner(runnerManifest(ns, 'repeats', { schedule: '* * * * *', workloadSelector: { matchLabels: { app: 'sched-steady' } } }));
    const runs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const due = await waitForRunner(ns, 'repeats', 'Scheduled with a next run', (r) => r.status?.state === 'Scheduled' && !!r.status.nextScheduleTime && !runs.includes(r.status.nextScheduleTime));
      const tick = due.status!.nextScheduleTime!;
      clock.set(new Date(tick));
      await waitForRunner(ns, 'repeats', `ran the ${tick} tick`, (r) => r.status?.lastRun?.trigger === `schedule (tick ${tick})` && r.status.lastRun.result === 'Succeeded');
      runs.push(tick);
    }
    await waitFor('a RunSucceeded Event per run', async () => (await events('repeats', 'RunSucceeded')).length === 2);
    await waitFor('the first verdict on the workload', async () => (await events('steady', 'CheckSucceeded')).length > 0);
    await stays('a second verdict on the workload for the same revision', async () => (await events('steady', 'CheckSucceeded')).length !== 1, 2000);
    const [told] = await events('steady', 'CheckSucceeded');
    expect(told!.message).toContain(`check ${ns}/repeats succeeded for this revision`);
  });
});

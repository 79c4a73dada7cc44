// The one scheduled test on the real clock: the SPEC §8.2 example, unchanged, runs at two
// consecutive minute ticks. Takes one to two minutes by nature; all other schedule tests move
// the operator's clock instead (schedule.test.ts).
import { readFileSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import type { Operator } from '../../src/operator.ts';
import { createDeployment, createNamespace, deploymentAvailable, createRunner, deleteNamespace, ENABLE, installCrd, jobsOf, waitFor, waitForRunner } from './support/kube.ts';
import { startOperator } from './support/operator.ts';

let operator: Operator;
let ns: string;

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('realtime');
  operator = await startOperator();
});

afterAll(async () => {
  await operator?.stop();
  await deleteNamespace(ns);
});

describe('SPEC §8.2 on the real clock', () => {
  it('runs my-scheduled-runner at two consecutive minute ticks', async () => {
    const sample = (loadAllYaml(readFileSync(new URL('../../deploy/samples/runner-scheduled.yaml', import.meta.url), 'utf8')) as Runner[])[0]!;
    expect(sample.spec.schedule).toBe('* * * * *');
    await createDeployment(ns, 'my-app', { app: 'my-app', ...ENABLE });
    await waitFor('my-app available', () => deploymentAvailable(ns, 'my-app'));
    await createRunner({ ...sample, metadata: { ...sample.metadata, namespace: ns } });

    await waitFor('two scheduled runs', async () => (await jobsOf(ns, 'my-scheduled-runner')).length >= 2, 150_000);
    const r = await waitForRunner(ns, 'my-scheduled-runner', 'second run done', (x) => x.status?.lastRun?.result === 'Succeeded' && x.status.state === 'Scheduled');
    const ticks = (await jobsOf(ns, 'my-scheduled-runner')).map((j) => j.metadata!.annotations!['runner.stakater.com/run-key']!.split(':schedule:')[1]!).sort();
    expect(new Date(ticks[1]!).getTime() - new Date(ticks[0]!).getTime()).toBe(60_000);
    expect(r.status?.lastRun?.reason).toBe('Schedule');
    const job = (await jobsOf(ns, 'my-scheduled-runner'))[0]!;
    expect(job.spec?.activeDeadlineSeconds).toBe(120);
  }, 200_000);
});

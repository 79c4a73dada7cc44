// The one scheduled test on the real clock: the SPEC §8.2 example, unchanged, runs at two
// consecutive minute ticks. Takes one to two minutes by nature; all other schedule tests move
// the operator's clock instead (schedule.test.ts).
import { readFileSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';

import { createDeployment, deploymentAvailable, createRunner, ENABLE, jobsOf, waitFor, waitForRunner } from './support/kube.ts';
import { operatorEnvironment } from './support/environment.ts';

const env = operatorEnvironment('realtime');

describe('SPEC §8.2 on the real clock', () => {
  it('runs my-scheduled-runner at two consecutive minute ticks', async () => {
    const sample = (loadAllYaml(readFileSync(new URL('../../deploy/samples/runner-scheduled.yaml', import.meta.url), 'utf8')) as Runner[])[0]!;
    expect(sample.spec.schedule).toBe('* * * * *');
    await createDeployment(env.ns, 'my-app', { app: 'my-app', ...ENABLE });
    await waitFor('my-app available', () => deploymentAvailable(env.ns, 'my-app'));
    await createRunner({ ...sample, metadata: { ...sample.metadata, namespace: env.ns } });

    await waitFor('two scheduled runs', async () => (await jobsOf(env.ns, 'my-scheduled-runner')).length >= 2, 150_000);
    const r = await waitForRunner(env.ns, 'my-scheduled-runner', 'second run done', (x) => x.status?.lastRun?.result === 'Succeeded' && x.status.state === 'Scheduled');
    const ticks = (await jobsOf(env.ns, 'my-scheduled-runner')).map((j) => j.metadata!.annotations!['runner.stakater.com/run-key']!.split(':schedule:')[1]!).sort();
    expect(new Date(ticks[1]!).getTime() - new Date(ticks[0]!).getTime()).toBe(60_000);
    expect(r.status?.lastRun?.reason).toBe('Schedule');
    const job = (await jobsOf(env.ns, 'my-scheduled-runner'))[0]!;
    expect(job.spec?.activeDeadlineSeconds).toBe(120);
  }, 200_000);
});

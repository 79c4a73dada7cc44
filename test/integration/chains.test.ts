// SPEC §3.5: chains of Runners, fan-in, failures upstream, and dependency cycles.
import { describe, expect, it } from 'vitest';
import {
  condition, createDeployment, createRunner, deleteRunner, ENABLE, jobsOf, patchRunner, runnerManifest, stays, waitFor, waitForRunner,
} from './support/kube.ts';
import { operatorEnvironment } from './support/environment.ts';

const env = operatorEnvironment('chains');

const succeeded = (name: string) => waitForRunner(env.ns, name, 'Succeeded', (r) => r.status?.state === 'Succeeded');

describe('chains', () => {
  it('runs runner-2 once after runner-1 succeeds (SPEC §8.3), and again after runner-1 runs again', async () => {
    await createDeployment(env.ns, 'runner-1-app', { app: 'runner-1-app', ...ENABLE });
    await createRunner(runnerManifest(env.ns, 'runner-1', { workloadSelector: { matchLabels: { app: 'runner-1-app' } } }, { app: 'runner-1', sequence: 'runner-sequence' }));
    await createRunner(runnerManifest(env.ns, 'runner-2', { runnerSelector: { matchLabels: { app: 'runner-1' } } }, { sequence: 'runner-sequence' }));
    const r2 = await succeeded('runner-2');
    const r1 = await succeeded('runner-1');
    expect(r2.status?.lastRun?.trigger).toBe('first run');
    expect(new Date(r2.status!.lastRun!.startTime).getTime()).toBeGreaterThanOrEqual(new Date(r1.status!.lastRun!.completionTime!).getTime());
    expect(r2.status?.watchedResources).toEqual([{ name: 'runner-1', namespace: env.ns, kind: 'Runner', ready: true, message: 'latest run succeeded' }]);
    expect(await jobsOf(env.ns, 'runner-2')).toHaveLength(1);

    await patchRunner(env.ns, 'runner-1', { metadata: { annotations: { 'runner.stakater.com/trigger': 'again' } } });
    await waitFor('runner-2 to run a second time', async () => (await jobsOf(env.ns, 'runner-2')).length === 2);
    const again = await succeeded('runner-2');
    expect(again.status?.lastRun?.trigger).toBe(`new run of upstream Runner ${env.ns}/runner-1`);
    await stays('runner-2 runs a third time', async () => (await jobsOf(env.ns, 'runner-2')).length !== 2, 2000);
  });

  it('fans in: runs once after all three upstreams succeed', async () => {
    for (const n of ['a', 'b', 'c']) {
      await createDeployment(env.ns, `up-${n}`, { app: `up-${n}`, ...ENABLE });
      await createRunner(runnerManifest(env.ns, `up-${n}`, { workloadSelector: { matchLabels: { app: `up-${n}` } } }, { stage: 'fan' }));
    }
    await createRunner(runnerManifest(env.ns, 'fan-in', { runnerSelector: { matchLabels: { stage: 'fan' } } }));
    const done = await succeeded('fan-in');
    expect(done.status?.watchedResources?.map((w) => w.name)).toEqual(['up-a', 'up-b', 'up-c']);
    await stays('fan-in runs more than once', async () => (await jobsOf(env.ns, 'fan-in')).length !== 1, 2000);
  });

  it('is blocked by a failed upstream, with a message naming it', async () => {
    await createDeployment(env.ns, 'flaky', { app: 'flaky', ...ENABLE });
    await createRunner(runnerManifest(env.ns, 'flaky-check', { workloadSelector: { matchLabels: { app: 'flaky' } } }, { stage: 'flaky' }, true));
    await createRunner(runnerManifest(env.ns, 'after-flaky', { runnerSelector: { matchLabels: { stage: 'flaky' } } }));
    const blocked = await waitForRunner(env.ns, 'after-flaky', 'blocked by the failed upstream', (r) => r.status?.state === 'WaitingForUpstream' && (r.status?.message ?? '').includes('failed'));
    expect(blocked.status?.message).toContain(`${env.ns}/flaky-check`);
    expect(await jobsOf(env.ns, 'after-flaky')).toHaveLength(0);
  });
});

describe('dependency cycles', () => {
  const stalledCycle = (name: string) =>
    waitForRunner(env.ns, name, 'Stalled/DependencyCycle', (r) => condition(r, 'Stalled')?.status === 'True' && condition(r, 'Stalled')?.reason === 'DependencyCycle');

  it('reports a Runner that selects itself, and runs nothing', async () => {
    await createRunner(runnerManifest(env.ns, 'narcissus', { runnerSelector: { matchLabels: { me: 'narcissus' } } }, { me: 'narcissus' }));
    const r = await stalledCycle('narcissus');
    expect(r.status?.state).toBe('Stalled');
    expect(condition(r, 'Stalled')?.message).toContain(`${env.ns}/narcissus`);
    expect(await jobsOf(env.ns, 'narcissus')).toHaveLength(0);
  });

  it('reports every member of a three-Runner loop, naming the loop; breaking it recovers', async () => {
    await createRunner(runnerManifest(env.ns, 'loop-a', { runnerSelector: { matchLabels: { loop: 'c' } } }, { loop: 'a' }));
    await createRunner(runnerManifest(env.ns, 'loop-b', { runnerSelector: { matchLabels: { loop: 'a' } } }, { loop: 'b' }));
    await createRunner(runnerManifest(env.ns, 'loop-c', { runnerSelector: { matchLabels: { loop: 'b' } } }, { loop: 'c' }));
    for (const name of ['loop-a', 'loop-b', 'loop-c']) {
      const r = await stalledCycle(name);
      for (const member of ['loop-a', 'loop-b', 'loop-c']) expect(condition(r, 'Stalled')?.message).toContain(`${env.ns}/${member}`);
    }
    for (const name of ['loop-a', 'loop-b', 'loop-c']) expect(await jobsOf(env.ns, name)).toHaveLength(0);

    // loop-a now depends on nothing: it runs, then b, then c.
    await patchRunner(env.ns, 'loop-a', { spec: { runnerSelector: null } });
    for (const name of ['loop-a', 'loop-b', 'loop-c']) {
      const r = await succeeded(name);
      expect(condition(r, 'Stalled')?.status).toBe('False');
    }
  });

  it('forgets a deleted upstream', async () => {
    await deleteRunner(env.ns, 'narcissus');
    await createRunner(runnerManifest(env.ns, 'orphan', { runnerSelector: { matchLabels: { app: 'nobody' } } }));
    const r = await waitForRunner(env.ns, 'orphan', 'WaitingForUpstream', (x) => x.status?.state === 'WaitingForUpstream');
    expect(r.status?.message).toBe('no Runner matches spec.runnerSelector');
  });
});

// `kubectl hestia logs RUNNER` as a person runs it: the real CLI process (src/cli.ts) against the real control
// plane, reading the logs kwok serves for the Runner's pods (support/pod-behaviour.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP } from '../../src/api/runner.ts';
import { hestiaIn, type CliResult } from './support/cli.ts';
import { operatorEnvironment } from './support/environment.ts';
import { batch, core, createRunner, FAIL_LABEL, jobsOf, patchRunner, runnerManifest, waitFor, waitForRunner } from './support/kube.ts';
import { POD_BEHAVIOUR, servePodLogs, startFlakyAgent } from './support/pod-behaviour.ts';
import { grant, kubeConfigAs } from './support/users.ts';

const env = operatorEnvironment('cli-logs');
const LOG = 'check started\nGET /cart 200\nGET /checkout 200\nassertions: 12 passed\ncheck done\n';
const dir = mkdtempSync(join(tmpdir(), 'hestia-cli-logs-'));
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const file = join(dir, 'check.log');
  writeFileSync(file, LOG);
  cleanups.push(await servePodLogs(env.ns, file));
  cleanups.push(startFlakyAgent(env.ns));
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

type Result = CliResult;

/** Runs `hestia ARGS -n <ns>` to its end. */
const hestia = (...args: string[]): Promise<Result> => hestiaIn(env.ns, ...args);

const podsOf = async (job: V1Job): Promise<V1Pod[]> =>
  (await core.listNamespacedPod({ namespace: env.ns, labelSelector: `batch.kubernetes.io/controller-uid=${job.metadata!.uid}` })).items;

const jobNamed = async (runner: string, name: string): Promise<V1Job> => {
  const job = (await jobsOf(env.ns, runner)).find((j) => j.metadata!.name === name);
  if (!job) throw new Error(`no Job ${name} of Runner ${env.ns}/${runner}`);
  return job;
};

const runNumberOf = (job: V1Job) => Number(job.metadata!.annotations!['runner.stakater.com/run-key']!.split(':')[0]);

/** Waits for the Runner's latest run, other than `after`, to have finished as `state`; its Job's name. */
async function finishedRun(name: string, state: 'Succeeded' | 'Failed', after?: string): Promise<string> {
  const r = await waitForRunner(env.ns, name, `${state} after ${after ?? 'nothing'}`, (x) => x.status?.state === state && x.status.lastRun?.jobName !== after && x.status.lastRun?.result === state, 90_000);
  return r.status!.lastRun!.jobName;
}

describe('hestia logs', () => {
  it("prints the latest run's log as the container wrote it, and --tail its last lines", async () => {
    await createRunner(runnerManifest(env.ns, 'plain', {}));
    await finishedRun('plain', 'Succeeded');
    const r = await hestia('logs', 'plain');
    expect(r).toEqual({ code: 0, stdout: LOG, stderr: '' });
    const tail = await hestia('logs', 'plain', '--tail', '2');
    expect(tail).toEqual({ code: 0, stdout: 'assertions: 12 passed\ncheck done\n', stderr: '' });
  });

  describe('a Runner with two runs of a pod with two containers: run 1 failed, run 2 passed', () => {
    let job1: V1Job;
    let job2: V1Job;
    beforeAll(async () => {
      const pair = runnerManifest(env.ns, 'pair', {}, {}, true);
      pair.spec.template.spec!.containers.push({ name: 'report', image: 'busybox', command: ['sh', '-c', 'echo report'] });
      await createRunner(pair);
      const first = await finishedRun('pair', 'Failed');
      // A changed template is a new revision: run 2, which passes.
      await patchRunner(env.ns, 'pair', { spec: { template: { metadata: { labels: { [Object.keys(FAIL_LABEL)[0]!]: null } } } } });
      const second = await finishedRun('pair', 'Succeeded', first);
      [job1, job2] = [await jobNamed('pair', first), await jobNamed('pair', second)];
      expect([runNumberOf(job1), runNumberOf(job2)]).toEqual([1, 2]);
    });

    it('labels each container of the latest run, and --container prints one alone', async () => {
      const [pod] = await podsOf(job2);
      const latest = await hestia('logs', 'pair');
      expect(latest.code).toBe(0);
      expect(latest.stdout).toBe(`==> pod ${pod!.metadata!.name}, container check (exited 0) <==\n${LOG}\n==> pod ${pod!.metadata!.name}, container report (exited 0) <==\n${LOG}`);
      expect(await hestia('logs', 'pair', '-c', 'report')).toEqual({ code: 0, stdout: LOG, stderr: '' });
      const wrong = await hestia('logs', 'pair', '--container', 'chek');
      expect(wrong.code).toBe(4);
      expect(wrong.stderr).toContain(`hestia logs: Job ${job2.metadata!.name} has no container "chek": its pods have check, report`);
    });

    it('--run N prints an earlier run and --job a Job by name', async () => {
      const [pod] = await podsOf(job1);
      const run1 = await hestia('logs', 'pair', '--run', '1');
      expect(run1.code).toBe(0);
      expect(run1.stdout).toMatch(new RegExp(`^==> pod ${pod!.metadata!.name}, container check \\(exited 1( \\(\\w+\\))?\\) <==\n${LOG}\n==> pod ${pod!.metadata!.name}, container report `));
      expect(run1.stdout).not.toContain(job2.metadata!.name);
      expect(await hestia('logs', 'pair', '--job', job1.metadata!.name!)).toEqual(run1);
      expect(await hestia('logs', 'pair', '--run', '1', '-c', 'check')).toEqual({ code: 0, stdout: LOG, stderr: '' });
    });

    it('a run number that never was, or a Job that is none of its, exits 4 naming it', async () => {
      const never = await hestia('logs', 'pair', '--run', '7');
      expect(never.code).toBe(4);
      expect(never.stderr).toContain(`Runner ${env.ns}/pair has no run 7: its runs are numbered 1 to 2`);
      const noJob = await hestia('logs', 'pair', '--job', 'pair-nothing');
      expect(noJob.code).toBe(4);
      expect(noJob.stderr).toContain(`Runner ${env.ns}/pair has no Job pair-nothing`);
    });
  });

  it("labels a retried Job's attempts, oldest first, each with how its pod ended", async () => {
    const flaky = runnerManifest(env.ns, 'flaky', { backoffLimit: 1 });
    flaky.spec.template.metadata = { labels: { ...POD_BEHAVIOUR.failsFirstAttempt.labels }, annotations: { ...POD_BEHAVIOUR.failsFirstAttempt.annotations } };
    await createRunner(flaky);
    const job = await finishedRun('flaky', 'Succeeded');
    const pods = (await podsOf(await jobNamed('flaky', job))).sort((a, b) => new Date(a.metadata!.creationTimestamp!).getTime() - new Date(b.metadata!.creationTimestamp!).getTime());
    expect(pods).toHaveLength(2);
    const r = await hestia('logs', 'flaky');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `==> attempt 1 of 2: pod ${pods[0]!.metadata!.name} (Failed: container check exited 1) <==\n${LOG}\n` +
        `==> attempt 2 of 2: pod ${pods[1]!.metadata!.name} (Succeeded) <==\n${LOG}`,
    );
  });

  it('-f follows a running pod and returns once its container has ended', async () => {
    const slow = runnerManifest(env.ns, 'slow', {}, {}, true);
    // The container runs for 10 to 11 s (kwok reads these as Go durations), then fails.
    slow.spec.template.metadata!.annotations = { 'pod-container-running-failed.stage.kwok.x-k8s.io/delay': '10s', 'pod-container-running-failed.stage.kwok.x-k8s.io/jitter-delay': '11s' };
    await createRunner(slow);
    const running = await waitForRunner(env.ns, 'slow', 'Running', (x) => x.status?.state === 'Running');
    const job = await waitFor('the Job of slow', () => jobNamed('slow', running.status!.lastRun!.jobName).catch(() => undefined));
    const pod = await waitFor('its pod to run', async () => (await podsOf(job)).find((p) => p.status?.phase === 'Running'));

    const child = spawn(process.execPath, ['src/cli.ts', 'logs', 'slow', '-f', '-n', env.ns], { env: process.env });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const closed = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`hestia logs -f did not return within 45 s; printed: ${stdout}`));
      }, 45_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c ?? -1);
      });
    });
    closed.catch(() => undefined);
    let code: number;
    try {
      // The log arrives while the container still runs: it is streamed, not read once at the end.
      await waitFor('the log to be streamed', () => stdout === LOG, 20_000);
      expect((await core.readNamespacedPod({ namespace: env.ns, name: pod.metadata!.name! })).status?.phase).toBe('Running');
      code = await closed;
    } finally {
      child.kill();
    }
    const returned = Date.now();
    expect(code).toBe(0);
    expect(stdout).toBe(LOG);
    const after = await core.readNamespacedPod({ namespace: env.ns, name: pod.metadata!.name! });
    expect(after.status?.phase).toBe('Failed');
    // It returned after the container ended (finishedAt is to the second), and soon after.
    const ended = new Date(after.status!.containerStatuses![0]!.state!.terminated!.finishedAt!).getTime();
    expect(returned).toBeGreaterThanOrEqual(ended - 1000);
    expect(returned - ended).toBeLessThan(15_000);
  });

  it("exits 1 when the run's Job is gone, printing what the Runner still knows and where to look", async () => {
    await createRunner(runnerManifest(env.ns, 'pruned', {}));
    const job = await finishedRun('pruned', 'Succeeded');
    await batch.deleteNamespacedJob({ namespace: env.ns, name: job, propagationPolicy: 'Background' });
    await waitFor('the Job to be gone', async () => !(await jobsOf(env.ns, 'pruned')).some((j) => j.metadata!.name === job));
    const r = await hestia('logs', 'pruned');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Job ${job} (run 1 of Runner ${env.ns}/pruned) is no longer kept, and its pods' logs went with it`);
    expect(r.stderr).toMatch(new RegExp(`What the Runner still knows about it:\\n  .*START.*\\n  .*Succeeded .*first run +${job} \\(deleted\\)`));
    expect(r.stderr).toContain(`kubectl hestia runs pruned -n ${env.ns}`);
  });

  it('refuses plainly a user without get on pods/log, naming the permission', async () => {
    const user = 'log-reader-without-logs';
    await grant(env.ns, user, 'cli-logs', [
      { apiGroups: [GROUP], resources: ['runners'], verbs: ['get'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] },
      { apiGroups: [''], resources: ['pods', 'events'], verbs: ['list'] },
    ]);
    const kubeconfig = join(dir, `${user}.kubeconfig`);
    writeFileSync(kubeconfig, kubeConfigAs(user).exportConfig());
    const r = await hestia('logs', 'plain', '--kubeconfig', kubeconfig);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^hestia: not allowed to read the log of pod ${env.ns}/plain-\\S+ \\(403\\): your user needs get on pods/log in namespace ${env.ns} \\(kubectl auth can-i get pods --subresource=log -n ${env.ns}\\)\\n$`));
  });

  it('exits 4 naming a Runner that does not exist', async () => {
    const r = await hestia('logs', 'no-such-runner');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`Runner ${env.ns}/no-such-runner not found`);
  });
});

// Time from a Deployment becoming ready (SPEC §3.2) to its Runner's Job existing, with 5, 105 and
// 311 Runners present — the figure SPEC §9 gives for the original operator (about 10 ms, 8 s and
// 29 s). Runs the operator as its own process against the real control plane; both moments are
// observed by this process's watches, so watch delivery counts on both sides alike.
//
//   test/cluster/with-cluster.sh node bench/time-to-job.ts      (make bench)
import { spawn } from 'node:child_process';
import { AppsV1Api, KubeConfig, type V1Deployment, type V1Job } from '@kubernetes/client-node';
import { pino } from 'pino';
import { KubeClient } from '../src/k8s/client.ts';
import { Informer } from '../src/k8s/informer.ts';
import { connectionOf } from '../src/k8s/kubeconfig.ts';
import { readinessOf } from '../src/readiness.ts';
import {
  createNamespace, createRunner, deploymentAvailable, deploymentManifest, ENABLE, installCrd, rollOut, runnerManifest, waitFor, waitForRunner,
} from '../test/integration/support/kube.ts';

const SIZES = [5, 105, 311];
const ROLLOUTS = 5;

const kc = new KubeConfig();
kc.loadFromDefault();
const log = pino({ level: 'silent' });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await installCrd();
  const ns = await createNamespace('bench');
  const operator = spawn(process.execPath, ['src/main.ts'], {
    env: { ...process.env, HESTIA_HEALTH_PORT: '0', HESTIA_METRICS_PORT: '0', HESTIA_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    const readyAt = new Map<string, number>(); // Deployment generation → when it was first seen ready
    const jobAt = new Map<string, number>(); // Job name → when it was first seen
    const client = new KubeClient(await connectionOf(kc));
    const deployments = new Informer<V1Deployment>(client, { apiVersion: 'apps/v1', kind: 'Deployment', path: `/apis/apps/v1/namespaces/${ns}/deployments` }, log);
    const jobs = new Informer<V1Job>(client, { apiVersion: 'batch/v1', kind: 'Job', path: `/apis/batch/v1/namespaces/${ns}/jobs` }, log);
    deployments.onChange((_, d) => {
      const key = String(d.metadata?.generation);
      if (readinessOf('Deployment', d).ready && !readyAt.has(key)) readyAt.set(key, performance.now());
    });
    jobs.onChange((_, j) => {
      if (!jobAt.has(j.metadata!.name!)) jobAt.set(j.metadata!.name!, performance.now());
    });
    await Promise.all([deployments.start(), jobs.start()]);

    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: ns, body: deploymentManifest(ns, 'target', { app: 'target', ...ENABLE }, 2) });
    await createRunner(runnerManifest(ns, 'watcher', { workloadSelector: { matchLabels: { app: 'target' } }, successfulRunsHistoryLimit: 100 }));
    await waitForRunner(ns, 'watcher', 'first run', (r) => r.status?.state === 'Succeeded', 120_000);

    let present = 1;
    let version = 0;
    const rows: string[] = [];
    for (const size of SIZES) {
      for (; present < size; present++) {
        await createRunner(runnerManifest(ns, `unrelated-${present}`, { workloadSelector: { matchLabels: { app: `nothing-${present}` } } }));
      }
      await waitForRunner(ns, `unrelated-${present - 1}`, 'seen', (r) => r.status?.state === 'WaitingForWorkloads', 120_000);
      const samples: number[] = [];
      for (let i = 0; i < ROLLOUTS; i++) {
        const jobsBefore = jobAt.size;
        await rollOut(ns, 'target', `bench-${++version}`);
        await waitFor('the rollout', () => deploymentAvailable(ns, 'target'), 120_000);
        await waitFor('the Job', () => jobAt.size > jobsBefore, 120_000);
        const generation = String((await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name: 'target' })).metadata?.generation);
        const job = [...jobAt.values()].sort((a, b) => b - a)[0]!;
        samples.push(job - readyAt.get(generation)!);
        await waitForRunner(ns, 'watcher', 'run done', (r) => r.status?.state === 'Succeeded', 120_000);
      }
      rows.push(`${String(size).padStart(5)} Runners: median ${median(samples).toFixed(1)} ms from ready to Job (samples: ${samples.map((s) => s.toFixed(1)).join(', ')})`);
      console.log(rows.at(-1));
    }
    await Promise.all([deployments.stop(), jobs.stop()]);
    const first = Number(rows[0]!.match(/median ([\d.]+)/)![1]);
    const last = Number(rows.at(-1)!.match(/median ([\d.]+)/)![1]);
    console.log(`ratio ${SIZES.at(-1)} : ${SIZES[0]} Runners = ${(last / first).toFixed(2)} (the original operator: 29 s : 10 ms ≈ 2900)`);
  } finally {
    operator.kill('SIGTERM');
  }
  process.exit(0);
}

await main();

// The population a benchmark measures: N Runners, each selecting its own enabled Deployment with 0
// replicas (ready as soon as the Deployment controller has seen it), created with a bounded number
// of requests in flight; and the rollouts that trigger them.
import type { KubeClient } from '../src/k8s/client.ts';
import { ApiError } from '../src/k8s/client.ts';

export const BENCH_LABEL = 'hestia.bench/member';

export const deploymentName = (i: number) => `d-${i}`;
export const runnerName = (i: number) => `r-${i}`;

/** Runs `task` for every index with at most `width` in flight. */
export async function pool(indexes: Iterable<number>, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  const it = indexes[Symbol.iterator]();
  const worker = async () => {
    for (let next = it.next(); !next.done; next = it.next()) await task(next.value);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

export const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);

async function createOnce(client: KubeClient, path: string, body: unknown): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.create(path, body);
      return;
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) return;
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}

export function deployment(ns: string, i: number, version = 'v0') {
  const name = deploymentName(i);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { app: name, 'runner.stakater.com/enable': 'true', [BENCH_LABEL]: 'true' } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'busybox', env: [{ name: 'VERSION', value: version }] }] } },
    },
  };
}

export function runner(ns: string, i: number, spec: Record<string, unknown> = { workloadSelector: { matchLabels: { app: deploymentName(i) } } }) {
  return {
    apiVersion: 'e2e.stakater.com/v1alpha1',
    kind: 'Runner',
    metadata: { name: runnerName(i), namespace: ns, labels: { [BENCH_LABEL]: 'true' } },
    spec: {
      ...spec,
      // Keep one Job per Runner, so that N Runners come with N Jobs, as in a real cluster.
      successfulRunsHistoryLimit: 1,
      template: { spec: { containers: [{ name: 'check', image: 'busybox', command: ['true'] }], restartPolicy: 'Never' } },
    },
  };
}

export async function createDeployments(client: KubeClient, ns: string, indexes: number[]): Promise<void> {
  await pool(indexes, 32, (i) => createOnce(client, `/apis/apps/v1/namespaces/${ns}/deployments`, deployment(ns, i)));
}

export async function createRunners(client: KubeClient, ns: string, indexes: number[], spec?: (i: number) => Record<string, unknown>): Promise<void> {
  await pool(indexes, 32, (i) => createOnce(client, `/apis/e2e.stakater.com/v1alpha1/namespaces/${ns}/runners`, runner(ns, i, spec?.(i))));
}

/** A rollout: a new pod template (0 replicas, so it is complete as soon as the controller sees it). */
export async function rollOut(client: KubeClient, ns: string, i: number, version: string): Promise<void> {
  await client.patch(
    `/apis/apps/v1/namespaces/${ns}/deployments/${deploymentName(i)}`,
    { spec: { template: { spec: { containers: [{ name: 'app', image: 'busybox', env: [{ name: 'VERSION', value: version }] }] } } } },
    'application/merge-patch+json',
  );
}

interface RunnerList { items: { metadata: { name: string }; status?: { state?: string; lastRun?: { result?: string; revision?: string } } }[]; metadata: { continue?: string } }

/** Runners of the population by state, read in pages (the bench's own reads, not the operator's). */
export async function runnerStates(client: KubeClient, ns: string): Promise<Map<string, { state: string; result: string }>> {
  const out = new Map<string, { state: string; result: string }>();
  let token: string | undefined;
  do {
    const page = await client.get<RunnerList>(`/apis/e2e.stakater.com/v1alpha1/namespaces/${ns}/runners`, { limit: 1000, continue: token });
    for (const r of page.items) out.set(r.metadata.name, { state: r.status?.state ?? '', result: r.status?.lastRun?.result ?? '' });
    token = page.metadata.continue || undefined;
  } while (token);
  return out;
}

/** Waits until `count` Runners of the namespace are in `state`; returns the time it took. */
export async function waitForStates(client: KubeClient, ns: string, count: number, state: string, timeoutMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    const states = await runnerStates(client, ns);
    const n = [...states.values()].filter((s) => s.state === state).length;
    if (n >= count) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out: ${n} of ${count} Runners ${state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

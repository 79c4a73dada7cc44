// The measurements of one size in one run: trigger latency and requests per trigger, requests
// while idle, a restart, the same rollouts under the floor, and the cron storm. Each returns plain
// numbers for bench/report.ts.
import { writeFileSync } from 'node:fs';
import { KubeClient } from '../src/k8s/client.ts';
import { fromKubeconfigFile } from '../src/k8s/kubeconfig.ts';
import { OPERATOR_USER, operatorKubeConfig } from '../test/integration/support/identity.ts';
import { installCrd } from '../test/integration/support/kube.ts';
import { AuditLog, countByKind, isWatch, isWrite, median, percentile, triggerLatencies, type TriggerLatency } from './audit-log.ts';
import { createDeployments, deploymentName, pool, range, rollOut, runnerName, waitForStates } from './population.ts';
import { cpuSeconds, heapAfterGcMiB, rssMiB, startNode, stop, waitReady, type Measured } from './processes.ts';

export interface Context {
  admin: KubeClient;
  audit: AuditLog;
  ns: string;
  /** The operator's user name in the audit log. */
  user: string;
  /** Environment of the operator and floor processes (KUBECONFIG of the operator's ServiceAccount). */
  env: NodeJS.ProcessEnv;
  /** The operator's entry point: this checkout's src/main.ts, or another's (to compare versions). */
  operatorMain: string;
}

/**
 * The frame of a benchmark run on the control plane of test/cluster/with-cluster.sh: the admin client, the CRD, the
 * namespace `bench`, and a kubeconfig of the operator's ServiceAccount for the processes measured.
 */
export async function benchContext(operatorEnv: Record<string, string>, operatorMain: string): Promise<Context> {
  const admin = new KubeClient(await fromKubeconfigFile(process.env.KUBECONFIG!));
  await installCrd();
  const ns = 'bench';
  await admin.create('/api/v1/namespaces', { metadata: { name: ns } });
  const kubeconfig = `${process.env.HESTIA_AUDIT_LOG!.replace(/audit\.log$/, '')}operator-kubeconfig.yaml`;
  writeFileSync(kubeconfig, (await operatorKubeConfig()).exportConfig());
  return { admin, audit: new AuditLog(process.env.HESTIA_AUDIT_LOG!), ns, user: OPERATOR_USER, env: { KUBECONFIG: kubeconfig, ...operatorEnv }, operatorMain };
}

export interface Footprint {
  rssMiB: number;
  heapAfterGcMiB: number;
}

export interface LatencyResult {
  triggers: number;
  p50Ms: number;
  p99Ms: number;
  /** The five slowest triggers, slowest first: which Job, and when, to look for in the logs. */
  slowest: TriggerLatency[];
  requestsPerTrigger: number;
  requests: Record<string, number>;
  cpuSecondsPer1000: number;
}

/** The operator's log level in a benchmark: warnings only, unless BENCH_OPERATOR_LOG_LEVEL says otherwise. */
const OPERATOR_LOG_LEVEL = process.env.BENCH_OPERATOR_LOG_LEVEL ?? 'warn';

export async function startOperator(ctx: Context): Promise<Measured> {
  const op = await startNode(ctx.operatorMain, { ...ctx.env, HESTIA_LOG_LEVEL: OPERATOR_LOG_LEVEL });
  await waitReady(op, 300_000);
  return op;
}

/** Waits until `user` has sent no request but watches and lease reads for `quietMs`. */
export async function quiet(ctx: Context, quietMs = 3000, timeoutMs = 600_000): Promise<void> {
  const start = Date.now();
  let last = -1;
  let since = Date.now();
  for (;;) {
    // Lease renewals go on while all is quiet (leader election, the member Leases of sharing replicas).
    const n = ctx.audit.by(ctx.user, start - 1000).filter((r) => !isWatch(r) && r.resource !== 'leases').length;
    if (n !== last) [last, since] = [n, Date.now()];
    else if (Date.now() - since >= quietMs) return;
    if (Date.now() - start > timeoutMs) throw new Error('the operator did not go quiet');
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function footprint(op: Measured): Promise<Footprint> {
  const rss = rssMiB(op.proc.pid!);
  return { rssMiB: rss, heapAfterGcMiB: await heapAfterGcMiB(op) };
}

/** Deployment of a Job: `r-<i>-<hash>` for the operator, `floor-d-<i>-<generation>` for the floor. */
export function deploymentOfJob(job: string): string | null {
  const m = job.match(/^(?:r-(\d+)-[0-9a-f]+|floor-d-(\d+)-\d+)$/);
  return m ? deploymentName(Number(m[1] ?? m[2])) : null;
}

/** Whether what Deployment i triggered has finished (its Runner is no longer Running, or the floor's Jobs are done). */
export type Finished = (i: number) => Promise<boolean>;

/**
 * `triggers` rollouts of the first min(size, 100) Deployments, at most 10 at a time, each waiting
 * for its Job; latency from the audit log. `jobs(i)` counts the Jobs made for Deployment i so far.
 * A Deployment rolled out again (fewer than 100 of them) is rolled out only once its previous run
 * has finished: a rollout during a run waits for it (concurrencyPolicy Forbid), which is not latency.
 */
export async function rollouts(ctx: Context, who: { user: string; pid: number }, size: number, triggers: number, version: string, jobsFor: (i: number) => Promise<number>, finished: Finished): Promise<LatencyResult> {
  const targets = range(0, Math.min(size, 100));
  const plan = range(0, triggers).map((k) => targets[k % targets.length]!);
  const from = Date.now();
  const cpu0 = cpuSeconds(who.pid);
  for (let wave = 0; wave < plan.length; wave += 10) {
    const batch = [...new Set(plan.slice(wave, wave + 10))];
    await pool(batch, batch.length, async (i) => {
      if (wave >= targets.length) await until(`the run for ${deploymentName(i)} to finish`, () => finished(i));
      const before = await jobsFor(i);
      await rollOut(ctx.admin, ctx.ns, i, `${version}-${wave}`);
      const deadline = Date.now() + 120_000;
      while ((await jobsFor(i)) <= before) {
        if (Date.now() > deadline) throw new Error(`no Job for ${deploymentName(i)} within 120 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  }
  await new Promise((r) => setTimeout(r, 2000)); // the writes that follow a Job (status, Events) belong to the trigger
  const to = Date.now();
  const cpu = cpuSeconds(who.pid) - cpu0;
  const measured = triggerLatencies(ctx.audit, who.user, ctx.ns, from, to, deploymentOfJob);
  const latencies = measured.map((t) => t.ms);
  const requests = ctx.audit.by(who.user, from, to).filter((r) => !isWatch(r));
  return {
    triggers: plan.length,
    p50Ms: median(latencies),
    p99Ms: percentile(latencies, 99),
    slowest: [...measured].sort((a, b) => b.ms - a.ms).slice(0, 5),
    requestsPerTrigger: requests.length / plan.length,
    requests: countByKind(requests),
    cpuSecondsPer1000: (cpu / plan.length) * 1000,
  };
}

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 120_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * The operator's runs: Runner r-i's last run is the newest Job the operator created for Deployment i, and it has
 * ended. Not "the Runner is not Running": read between the Job's create and the status write that follows it, that
 * is still the previous run's end, and the next rollout would then wait for a run in progress (concurrencyPolicy
 * Forbid) inside the measured latency.
 */
export const runnerFinished = (ctx: Context): Finished => async (i) => {
  const newest = jobCreatesFor(ctx, ctx.user, i).at(-1);
  const runner = await ctx.admin.get<{ status?: { lastRun?: { jobName?: string; completionTime?: string } } }>(`/apis/e2e.stakater.com/v1alpha1/namespaces/${ctx.ns}/runners/${runnerName(i)}`);
  const last = runner.status?.lastRun;
  return newest === undefined || (last?.jobName === newest.name && last.completionTime !== undefined);
};

/** The floor's runs: every Job it made for Deployment i has completed. */
const floorFinished = (ctx: Context): Finished => async (i) => {
  const jobs = await ctx.admin.get<{ items: { status?: { succeeded?: number; failed?: number } }[] }>(`/apis/batch/v1/namespaces/${ctx.ns}/jobs`, { labelSelector: `hestia.bench/floor-of=${deploymentName(i)}` });
  return jobs.items.every((j) => (j.status?.succeeded ?? 0) + (j.status?.failed ?? 0) > 0);
};

/** Requests, and the CPU of process `pid`, while nothing changes, over `seconds`, scaled to a minute. */
export async function idle(ctx: Context, pid: number, seconds: number): Promise<{ perMinute: number; watchesPerMinute: number; cpuSecondsPerMinute: number; requests: Record<string, number> }> {
  const from = Date.now();
  const cpu0 = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000)); // the measured window itself
  const cpu = cpuSeconds(pid) - cpu0;
  const all = ctx.audit.by(ctx.user, from, Date.now());
  const scale = 60 / seconds;
  return { perMinute: all.filter((r) => !isWatch(r)).length * scale, watchesPerMinute: all.filter(isWatch).length * scale, cpuSecondsPerMinute: cpu * scale, requests: countByKind(all) };
}

/** SIGKILL, a new start: how long until ready, the largest RSS on the way, and what it wrote. */
export async function restart(ctx: Context, op: Measured): Promise<{ next: Measured; readyMs: number; peakRssMiB: number; writes: number; jobsCreated: number }> {
  await stop(op, 'SIGKILL');
  const from = Date.now();
  const next = await startNode(ctx.operatorMain, { ...ctx.env, HESTIA_LOG_LEVEL: OPERATOR_LOG_LEVEL });
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(next.proc.pid!));
    } catch {
      /* not started yet */
    }
  }, 50);
  const readyMs = await waitReady(next, 300_000);
  await quiet(ctx);
  clearInterval(sampler);
  const written = ctx.audit.by(ctx.user, from).filter(isWrite);
  return { next, readyMs, peakRssMiB: peak, writes: written.length, jobsCreated: written.filter((r) => r.resource === 'jobs' && r.verb === 'create').length };
}

/** Jobs in the namespace by Deployment index, counted from the audit log's creates by `user`. */
export function jobCounter(ctx: Context, user: string): (i: number) => Promise<number> {
  return async (i) => jobCreatesFor(ctx, user, i).length;
}

/** The Jobs `user` created for Deployment i, oldest first, from the audit log. */
export function jobCreatesFor(ctx: Context, user: string, i: number) {
  return ctx.audit.catchUp().jobCreates.filter((r) => r.user === user && r.namespace === ctx.ns && r.code < 300 && deploymentOfJob(r.name) === deploymentName(i));
}

/** The same rollouts with the floor in the operator's place (the operator stopped meanwhile); then its first runs. */
export async function floor(ctx: Context, size: number, triggers: number, version: string): Promise<LatencyResult & Footprint & { firstRunsS: number }> {
  const f = await startNode('bench/floor.ts', { ...ctx.env, FLOOR_NAMESPACE: ctx.ns });
  await waitReady(f, 120_000);
  const result = await rollouts(ctx, { user: ctx.user, pid: f.proc.pid! }, size, triggers, version, jobCounter(ctx, ctx.user), floorFinished(ctx));
  const print = await footprint(f);
  await stop(f);
  return { ...result, ...print, firstRunsS: await floorFirstRuns(ctx, size) };
}

/**
 * The floor's first runs: `count` new Deployments created in a namespace of their own with a floor watching it, and
 * the seconds until each has a Job that succeeded — the same Deployments and Jobs the operator's first runs make, by a
 * process that does nothing else: how long the control plane's controllers take for them at all.
 */
const FLOOR_FIRST_BASE = 1_000_000;

async function floorFirstRuns(ctx: Context, count: number): Promise<number> {
  const ns = `${ctx.ns}-first-${count}`;
  await ctx.admin.create('/api/v1/namespaces', { metadata: { name: ns } });
  const f = await startNode('bench/floor.ts', { ...ctx.env, FLOOR_NAMESPACE: ns });
  try {
    await waitReady(f, 120_000);
    const created = Date.now();
    // Indexes no Runner's selector names (Runner r-i selects app=d-i in any namespace): the operator, started again
    // after the floor, must see nothing new in them.
    await createDeployments(ctx.admin, ns, range(FLOOR_FIRST_BASE, FLOOR_FIRST_BASE + count));
    // The floor's Jobs are deleted 60 s after they finish (ttlSecondsAfterFinished): those seen succeeded are
    // remembered, or a first run longer than a minute would never see all of them at once.
    const succeeded = new Set<string>();
    await until(`the floor's ${count} first Jobs to succeed`, async () => {
      const jobs = await ctx.admin.get<{ items: { metadata: { name: string }; status?: { succeeded?: number } }[] }>(`/apis/batch/v1/namespaces/${ns}/jobs`);
      for (const j of jobs.items) if ((j.status?.succeeded ?? 0) > 0) succeeded.add(j.metadata.name);
      return succeeded.size >= count;
    }, 1_800_000, 500);
    return (Date.now() - created) / 1000;
  } finally {
    await stop(f);
    await ctx.admin.delete(`/api/v1/namespaces/${ns}`);
  }
}

export interface StormResult { runners: number; jobs: number; p50Ms: number; p99Ms: number; maxMs: number; floorP50Ms: number; floorP99Ms: number }

/** How late after `tick` each of these Job creates arrived. */
function lateness(creates: { received: number }[], tick: number) {
  const late = creates.map((r) => r.received - tick);
  return { p50Ms: median(late), p99Ms: percentile(late, 99), maxMs: Math.max(...late) };
}

/** The floor of a storm: `count` Jobs created at one moment as fast as one process can (64 at once), nothing else. */
async function stormFloor(ctx: Context, count: number): Promise<{ p50Ms: number; p99Ms: number }> {
  const ns = `${ctx.ns}-storm-floor`;
  await ctx.admin.create('/api/v1/namespaces', { metadata: { name: ns } });
  const tick = Date.now();
  await pool(range(0, count), 64, (i) =>
    ctx.admin.create(`/apis/batch/v1/namespaces/${ns}/jobs`, { metadata: { name: `floor-${i}` }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }));
  const result = lateness(ctx.audit.catchUp().jobCreates.filter((r) => r.namespace === ns), tick);
  await ctx.admin.delete(`/api/v1/namespaces/${ns}`);
  return result;
}

/**
 * 1,000 scheduled Runners on one cron tick: how late after the tick each Job's create arrives; then the floor's.
 * The Runners' one tick is a minute chosen far enough ahead for all of them to be created and Scheduled before it
 * (a schedule of every minute would let a tick fall while they are created, and the storm would start half-made).
 */
export async function cronStorm(ctx: Context, count: number): Promise<StormResult> {
  const ns = `${ctx.ns}-cron`;
  await ctx.admin.create('/api/v1/namespaces', { metadata: { name: ns } });
  const tick = Math.ceil((Date.now() + 90_000 + count * 40) / 60_000) * 60_000;
  const at = new Date(tick);
  const schedule = `${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
  await pool(range(0, count), 32, (i) =>
    ctx.admin.create(`/apis/e2e.stakater.com/v1alpha1/namespaces/${ns}/runners`, {
      apiVersion: 'e2e.stakater.com/v1alpha1',
      kind: 'Runner',
      metadata: { name: `cron-${i}`, namespace: ns },
      spec: { schedule, timeZone: 'UTC', successfulRunsHistoryLimit: 1, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    }));
  const armedBy = tick - 5_000;
  await waitForStates(ctx.admin, ns, count, 'Scheduled', Math.max(0, armedBy - Date.now())).catch((err: Error) => {
    throw new Error(`the storm's ${count} Runners were not all Scheduled 5 s before their tick at ${at.toISOString()}: ${err.message}`);
  });
  // Long enough for every create of a large storm (5,000: 100 s).
  const windowMs = Math.max(20_000, count * 20);
  await new Promise((r) => setTimeout(r, tick - Date.now() + windowMs));
  const creates = ctx.audit.by(ctx.user, tick - 1000, tick + windowMs).filter((r) => r.verb === 'create' && r.resource === 'jobs' && r.namespace === ns);
  await ctx.admin.delete(`/api/v1/namespaces/${ns}`); // (its Runners tick no more)
  const floorFigures = await stormFloor(ctx, count);
  return { runners: count, jobs: creates.length, ...lateness(creates, tick), floorP50Ms: floorFigures.p50Ms, floorP99Ms: floorFigures.p99Ms };
}

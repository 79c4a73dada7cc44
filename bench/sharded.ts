// Replicas that share the Runners, measured beside one replica on the same control plane: N Runners each selecting its
// own enabled Deployment (as bench/run.ts). First one replica alone with the first C of them (C = min(N, 5,000) unless
// --compare says otherwise: one replica is sized for 5,000, BENCHMARKS.md); then the other N − C are created (in
// namespaces of 1,000) and R
// replicas with HESTIA_SHARDING act on all N. Read off: each replica's resident memory (settled, and its peak from
// the first start on) and heap after a full collection, how long the replicas took to take their slots up and to run
// the new Runners' first runs, the trigger latency of the same rollouts under one replica and under R, and the
// hand-over after a SIGKILL — the replica that owns most of the rolled-out Runners killed, those Runners rolled out at
// once, and the time from the kill until each has its Job (made by the replica that took it over).
//
//   test/cluster/with-cluster.sh node bench/sharded.ts --runners 2000 --replicas 4 --out .cache/bench/sharded-2000x4.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { assignSlots, slotOf } from '../src/shard/ring.ts';
import { handoverPhases } from './audit-log.ts';
import { OPERATOR_NAMESPACE } from '../test/integration/support/identity.ts';
import { createDeployments, createRunners, range, rollOut, runnerName, waitForStates } from './population.ts';
import { heapSnapshot, rssMiB, stop, type Measured } from './processes.ts';
import { benchContext, footprint, jobCounter, jobCreatesFor, quiet, rollouts, runnerFinished, startOperator } from './scenarios.ts';

const { values } = parseArgs({
  options: {
    runners: { type: 'string', default: '2000' },
    replicas: { type: 'string', default: '4' },
    compare: { type: 'string' },
    triggers: { type: 'string', default: '100' },
    out: { type: 'string', default: '.cache/bench/sharded.json' },
    /**
     * A directory: a heap snapshot of one replica alone and of each replica that shares the Runners, once settled. Each
     * pauses its replica about 10 s at 20,000 Runners, past the renew deadline: the hand-over figure is then not one.
     */
    'heap-snapshots': { type: 'string' },
  },
});
const size = Number(values.runners);
const count = Number(values.replicas);
const compare = Math.min(size, Number(values.compare ?? 5000));
const triggers = Number(values.triggers);
const log = (...args: unknown[]) => console.log(`[sharded ${new Date().toISOString().slice(11, 19)}]`, ...args);

const ctx = await benchContext({}, 'dist/src/main.js');
const { admin, ns } = ctx;

/**
 * The Runners created after the first C, in namespaces of NAMESPACE_SIZE each (`bench-1`, `bench-2`, …): Kubernetes'
 * Deployment, ReplicaSet and Job controllers read every object of a namespace at each sync, so 20,000 in one namespace
 * would measure those controllers (a few Jobs a second here), not the operator. Real clusters spread them too.
 */
const NAMESPACE_SIZE = 1000;
function namespacesOf(indexes: number[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const i of indexes) {
    const namespace = `${ns}-${Math.floor((i - indexes[0]!) / NAMESPACE_SIZE) + 1}`;
    out.set(namespace, [...(out.get(namespace) ?? []), i]);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');

log(`creating ${compare} Deployments and Runners under one replica`);
const one = await startOperator(ctx);
const created = Date.now();
await createDeployments(admin, ns, range(0, compare));
await createRunners(admin, ns, range(0, compare));
await waitForStates(admin, ns, compare, 'Succeeded', 3_600_000);
const oneFirstRunsS = (Date.now() - created) / 1000;
await quiet(ctx);
const single = await footprint(one);
const snapshots = values['heap-snapshots'];
if (snapshots) {
  mkdirSync(snapshots, { recursive: true });
  await heapSnapshot(one, `${snapshots}/one-${compare}.heapsnapshot`);
}
const singleLatency = await rollouts(ctx, { user: ctx.user, pid: one.proc.pid! }, compare, triggers, 'one', jobCounter(ctx, ctx.user), runnerFinished(ctx));
await quiet(ctx);
log(`one replica, ${compare} Runners: RSS ${single.rssMiB.toFixed(0)} MiB, heap after GC ${single.heapAfterGcMiB.toFixed(1)} MiB; trigger latency p50 ${singleLatency.p50Ms.toFixed(1)}, p99 ${singleLatency.p99Ms.toFixed(1)} ms`);
await stop(one);

log(`${count} replicas that share the Runners; then ${size - compare} more Runners`);
const identities = range(0, count).map((i) => `replica-${i}`);
const shardEnv = (identity: string) => ({ HESTIA_SHARDING: 'true', POD_NAMESPACE: OPERATOR_NAMESPACE, POD_NAME: identity, HESTIA_LEASE_NAME: 'bench-ring' });
const startedAt = Date.now();
const replicas = new Map<string, Measured>();
const peaks = new Map<string, number>();
const sampler = setInterval(() => {
  for (const [identity, r] of replicas) {
    try {
      peaks.set(identity, Math.max(peaks.get(identity) ?? 0, rssMiB(r.proc.pid!)));
    } catch {
      /* exited (the hand-over's kill) */
    }
  }
}, 200);
const exits = new Map<string, number | null>();
/**
 * Until the hand-over is measured, a replica that stops by itself — its member Lease not renewed within the renew
 * deadline, when the API server did not answer in time, after which it must stop — is started again, as its
 * Deployment would start its pod again; each restart is said, and counted in the result. From the hand-over on, a
 * replica that stops ends the run (allRunning).
 */
const restarts: { identity: string; code: number | null; afterS: number }[] = [];
let restarting = true;
const launching = new Set<Promise<void>>();
const launch = (identity: string): Promise<void> => {
  const started = startOperator({ ...ctx, env: { ...ctx.env, ...shardEnv(identity) } }).then((replica) => {
    replica.proc.once('exit', (code) => {
      if (!restarting) return void exits.set(identity, code);
      restarts.push({ identity, code, afterS: Math.round((Date.now() - startedAt) / 1000) });
      log(`${identity} exited with code ${code} (its log above says why); starting it again, as its Deployment would`);
      void launch(identity);
    });
    replicas.set(identity, replica);
  });
  launching.add(started);
  return started.finally(() => launching.delete(started));
};
for (const identity of identities) await launch(identity);
/** Until every replica started again is running. */
const allLaunched = async () => {
  while (launching.size > 0) await Promise.all(launching);
};
/** From the hand-over on, figures are read only while all the replicas run: one that stopped ends the run. */
const allRunning = (when: string) => {
  const [stopped] = exits;
  if (stopped) throw new Error(`${stopped[0]} exited with code ${stopped[1]} ${when}; its log above says why`);
};
// Taken up: every replica's adoption reads done, and the replicas quiet.
await quiet(ctx, 5_000);
const takenUpS = (Date.now() - startedAt) / 1000;
const moreAt = Date.now();
const more = namespacesOf(range(compare, size));
for (const namespace of more.keys()) await admin.create('/api/v1/namespaces', { metadata: { name: namespace } });
for (const [namespace, indexes] of more) {
  await createDeployments(admin, namespace, indexes);
  await createRunners(admin, namespace, indexes);
}
for (const [namespace, indexes] of more) await waitForStates(admin, namespace, indexes.length, 'Succeeded', 3_600_000);
const shardedFirstRunsS = (Date.now() - moreAt) / 1000;
await allLaunched();
await quiet(ctx, 5_000);
const each = [];
for (const r of replicas.values()) each.push(await footprint(r));
if (snapshots) for (const [identity, r] of replicas) await heapSnapshot(r, `${snapshots}/${identity}-${size}x${count}.heapsnapshot`);
const shardedLatency = await rollouts(ctx, { user: ctx.user, pid: replicas.get(identities[0]!)!.proc.pid! }, size, triggers, 'sharded', jobCounter(ctx, ctx.user), runnerFinished(ctx));
await quiet(ctx, 5_000);
clearInterval(sampler);
const peakRssMiB = identities.map((identity) => peaks.get(identity) ?? 0);
log(`${count} replicas, ${size} Runners: RSS ${mib(each.map((f) => f.rssMiB))} MiB (peak ${mib(peakRssMiB)}), heap after GC ${each.map((f) => f.heapAfterGcMiB.toFixed(1)).join(', ')} MiB; took their slots up in ${takenUpS.toFixed(1)} s, ${size - compare} first runs in ${shardedFirstRunsS.toFixed(0)} s; trigger latency p50 ${shardedLatency.p50Ms.toFixed(1)}, p99 ${shardedLatency.p99Ms.toFixed(1)} ms`);

// The hand-over: whose Runners are which, from the ring the replicas compute (src/shard/ring.ts).
const targets = range(0, Math.min(size, triggers));
const uids = new Map<number, string>();
for (const i of targets) uids.set(i, (await admin.get<{ metadata: { uid: string } }>(`/apis/e2e.stakater.com/v1alpha1/namespaces/${ns}/runners/${runnerName(i)}`)).metadata.uid);
const owners = assignSlots(identities);
const ownerOf = (i: number) => owners[slotOf(uids.get(i)!)]!;
const victim = [...identities].sort((a, b) => targets.filter((i) => ownerOf(i) === b).length - targets.filter((i) => ownerOf(i) === a).length)[0]!;
const orphans = targets.filter((i) => ownerOf(i) === victim);
const before = new Map(orphans.map((i) => [i, jobCreatesFor(ctx, ctx.user, i).length]));
await allLaunched();
restarting = false;
allRunning('while the rollouts were measured');
await stop(replicas.get(victim)!, 'SIGKILL');
const killedAt = Date.now();
replicas.delete(victim);
await Promise.all(orphans.map((i) => rollOut(admin, ns, i, 'handover')));
const handoverMs: number[] = [];
for (const i of orphans) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const job = jobCreatesFor(ctx, ctx.user, i)[before.get(i)!];
    if (job) {
      handoverMs.push(job.received - killedAt);
      break;
    }
    if (Date.now() > deadline) throw new Error(`no Job for ${runnerName(i)} within 300 s of the kill of ${victim}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const phases = handoverPhases(ctx.audit.by(ctx.user, killedAt), killedAt, killedAt + Math.max(...handoverMs));
const seconds = (ms: number | undefined) => ((ms ?? Number.NaN) / 1000).toFixed(1);
log(`SIGKILL of ${victim}: its ${orphans.length} rolled-out Runners had their Jobs ${seconds(median(handoverMs))} s (median) and ${seconds(Math.max(...handoverMs))} s (last) after the kill; slots taken ${seconds(phases?.noticedMs)} s, Jobs listed ${seconds(phases?.jobsListedMs)} s, Runners read ${seconds(phases?.runnersReadMs)} s, ${phases?.statusWrites ?? 0} status writes before the last Job`);
for (const r of replicas.values()) await stop(r);

const result = {
  at: new Date().toISOString(),
  runners: size,
  replicas: count,
  compare,
  // The control plane's feature gates (test/cluster/up.sh): with ShardedListAndWatch a hand-over reads its Runners in
  // LISTs narrowed by shard, without it one GET each.
  featureGates: process.env.HESTIA_KUBE_FEATURE_GATES ?? '',
  // Replicas that stopped by themselves before the hand-over and were started again (seconds after the replicas began).
  restarts,
  one: {
    runners: compare,
    firstRunsS: oneFirstRunsS,
    rssMiB: single.rssMiB,
    heapAfterGcMiB: single.heapAfterGcMiB,
    latencyP50Ms: singleLatency.p50Ms,
    latencyP99Ms: singleLatency.p99Ms,
    requestsPerTrigger: singleLatency.requestsPerTrigger,
  },
  sharded: {
    rssMiB: each.map((f) => f.rssMiB),
    peakRssMiB,
    heapAfterGcMiB: each.map((f) => f.heapAfterGcMiB),
    medianRssMiB: median(each.map((f) => f.rssMiB)),
    takenUpS,
    firstRunsS: shardedFirstRunsS,
    latencyP50Ms: shardedLatency.p50Ms,
    latencyP99Ms: shardedLatency.p99Ms,
    requestsPerTrigger: shardedLatency.requestsPerTrigger,
  },
  handover: { killed: victim, runners: orphans.length, medianMs: median(handoverMs), maxMs: Math.max(...handoverMs), ...(phases ? { phases } : {}) },
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
log(`wrote ${values.out}`);
process.exit(0);

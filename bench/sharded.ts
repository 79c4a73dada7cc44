// Replicas that share the Runners, measured beside one replica on the same control plane and the same Runners: N
// Runners each selecting its own enabled Deployment (as bench/run.ts), first under one operator, then under R
// replicas with HESTIA_SHARDING — each replica's resident memory and heap after a full collection once settled, how
// long the replicas took to take their slots up, and the trigger latency of the same rollouts under each.
//
//   test/cluster/with-cluster.sh node bench/sharded.ts --runners 2000 --replicas 4 --out .cache/bench/sharded-2000x4.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { OPERATOR_NAMESPACE } from '../test/integration/support/identity.ts';
import { createDeployments, createRunners, range, waitForStates } from './population.ts';
import { stop, type Measured } from './processes.ts';
import { benchContext, footprint, jobCounter, quiet, rollouts, runnerFinished, startOperator } from './scenarios.ts';

const { values } = parseArgs({
  options: {
    runners: { type: 'string', default: '2000' },
    replicas: { type: 'string', default: '4' },
    triggers: { type: 'string', default: '100' },
    out: { type: 'string', default: '.cache/bench/sharded.json' },
  },
});
const size = Number(values.runners);
const count = Number(values.replicas);
const triggers = Number(values.triggers);
const log = (...args: unknown[]) => console.log(`[sharded ${new Date().toISOString().slice(11, 19)}]`, ...args);

const ctx = await benchContext({}, 'dist/src/main.js');
const { admin, ns } = ctx;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

log(`creating ${size} Deployments and Runners under one operator`);
const one = await startOperator(ctx);
const created = Date.now();
await createDeployments(admin, ns, range(0, size));
await createRunners(admin, ns, range(0, size));
await waitForStates(admin, ns, size, 'Succeeded', 3_600_000);
const firstRunsS = (Date.now() - created) / 1000;
await quiet(ctx);
const single = await footprint(one);
const singleLatency = await rollouts(ctx, { user: ctx.user, pid: one.proc.pid! }, size, triggers, 'one', jobCounter(ctx, ctx.user), runnerFinished(ctx));
await quiet(ctx);
log(`one replica: RSS ${single.rssMiB.toFixed(0)} MiB, heap after GC ${single.heapAfterGcMiB.toFixed(1)} MiB; trigger latency p50 ${singleLatency.p50Ms.toFixed(1)}, p99 ${singleLatency.p99Ms.toFixed(1)} ms`);
await stop(one);

log(`${count} replicas that share the Runners`);
const shardEnv = (i: number) => ({ HESTIA_SHARDING: 'true', POD_NAMESPACE: OPERATOR_NAMESPACE, POD_NAME: `replica-${i}`, HESTIA_LEASE_NAME: 'bench-ring' });
const startedAt = Date.now();
const replicas: Measured[] = [];
for (let i = 0; i < count; i++) replicas.push(await startOperator({ ...ctx, env: { ...ctx.env, ...shardEnv(i) } }));
// Taken up: every replica's adoption reads done, and the replicas quiet.
await quiet(ctx, 5_000);
const takenUpS = (Date.now() - startedAt) / 1000;
const each = [];
for (const r of replicas) each.push(await footprint(r));
const shardedLatency = await rollouts(ctx, { user: ctx.user, pid: replicas[0]!.proc.pid! }, size, triggers, 'sharded', jobCounter(ctx, ctx.user), runnerFinished(ctx));
log(`${count} replicas: RSS ${each.map((f) => f.rssMiB.toFixed(0)).join(', ')} MiB, heap after GC ${each.map((f) => f.heapAfterGcMiB.toFixed(1)).join(', ')} MiB; took their slots up in ${takenUpS.toFixed(1)} s; trigger latency p50 ${shardedLatency.p50Ms.toFixed(1)}, p99 ${shardedLatency.p99Ms.toFixed(1)} ms`);
for (const r of replicas) await stop(r);

const result = {
  at: new Date().toISOString(),
  runners: size,
  replicas: count,
  firstRunsS,
  one: { rssMiB: single.rssMiB, heapAfterGcMiB: single.heapAfterGcMiB, latencyP50Ms: singleLatency.p50Ms, latencyP99Ms: singleLatency.p99Ms, requestsPerTrigger: singleLatency.requestsPerTrigger },
  sharded: {
    rssMiB: each.map((f) => f.rssMiB),
    heapAfterGcMiB: each.map((f) => f.heapAfterGcMiB),
    medianRssMiB: median(each.map((f) => f.rssMiB)),
    takenUpS,
    latencyP50Ms: shardedLatency.p50Ms,
    latencyP99Ms: shardedLatency.p99Ms,
    requestsPerTrigger: shardedLatency.requestsPerTrigger,
  },
};
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
log(`wrote ${values.out}`);
process.exit(0);

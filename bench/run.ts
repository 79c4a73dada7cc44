// One benchmark run on a fresh control plane (started by test/cluster/with-cluster.sh): for each
// size, N Runners each selecting its own enabled Deployment, with N Jobs; then trigger latency and
// requests per trigger, requests while idle, a restart, the floor, and once the cron storm.
// Writes the run's figures as JSON; bench/report.ts turns runs into BENCHMARKS.md.
//
//   test/cluster/with-cluster.sh node bench/run.ts --sizes 10,100,1000 --cron 1000 --out .cache/bench/small-1.json
//   ... --sizes 1000 --floor false --cpu-profile /tmp/prof   (where the operator's CPU goes during the rollouts)
//   ... --sizes '' --cron 5000 --out .cache/bench/storm-1.json   (the storm alone)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDeployments, createRunners, range, waitForStates } from './population.ts';
import { cpuProfile, stop } from './processes.ts';
import { benchContext, cronStorm, floor, footprint, idle, jobCounter, quiet, restart, rollouts, runnerFinished, startOperator } from './scenarios.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,100,1000' },
    triggers: { type: 'string', default: '100' },
    idle: { type: 'string', default: '20' },
    cron: { type: 'string', default: '0' },
    /** false: skip the floor (runs that only compare operators). */
    floor: { type: 'string', default: 'true' },
    out: { type: 'string', default: '.cache/bench/run.json' },
    /** Another checkout whose operator to measure instead (its src/main.ts), e.g. an earlier commit. */
    'operator-dir': { type: 'string', default: '.' },
    /** Extra environment for the operator, e.g. HESTIA_V8_DEFAULTS=true. */
    'operator-env': { type: 'string', multiple: true, default: [] },
    /** The operator's entry point within operator-dir: as it ships, dist/src/main.js (make build), else src/main.ts. */
    'operator-main': { type: 'string', default: '' },
    // A directory: the operator's CPU profile of each size's rollouts is written there (rollouts-N.cpuprofile).
    'cpu-profile': { type: 'string' },
    /** The commit the other checkout is of, for the report. */
    'operator-commit': { type: 'string', default: '' },
  },
});
// --sizes '' measures no population, only the storm (--cron N).
const sizes = values.sizes === '' ? [] : values.sizes.split(',').map(Number);
const triggers = Number(values.triggers);
const log = (...args: unknown[]) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);

const operatorEnv = Object.fromEntries(values['operator-env'].map((kv) => kv.split('=', 2) as [string, string]));
const operatorMain = join(values['operator-dir'], values['operator-main'] || (existsSync(join(values['operator-dir'], 'dist/src/main.js')) ? 'dist/src/main.js' : 'src/main.ts'));
const ctx = await benchContext(operatorEnv, operatorMain);
const { admin, ns } = ctx;

const results: Record<string, unknown>[] = [];
let op = await startOperator(ctx);
let present = 0;
try {
  for (const size of sizes) {
    log(`size ${size}: creating ${size - present} Deployments and Runners`);
    const created = Date.now();
    await createDeployments(admin, ns, range(present, size));
    await createRunners(admin, ns, range(present, size));
    const settleMs = (await waitForStates(admin, ns, size, 'Succeeded', 1_800_000)) + 0;
    const firstRunsS = (Date.now() - created) / 1000;
    present = size;
    await quiet(ctx);
    const settled = await footprint(op);
    log(`size ${size}: settled in ${firstRunsS.toFixed(1)} s; RSS ${settled.rssMiB.toFixed(0)} MiB, heap after GC ${settled.heapAfterGcMiB.toFixed(1)} MiB`);

    const profiling = values['cpu-profile'] ? await cpuProfile(op) : null;
    const latency = await rollouts(ctx, { user: ctx.user, pid: op.proc.pid! }, size, triggers, `s${size}`, jobCounter(ctx, ctx.user), runnerFinished(ctx));
    if (profiling) await profiling.stop(join(values['cpu-profile']!, `rollouts-${size}.cpuprofile`));
    await quiet(ctx);
    log(`size ${size}: latency p50 ${latency.p50Ms.toFixed(1)} ms, p99 ${latency.p99Ms.toFixed(1)} ms; ${latency.requestsPerTrigger.toFixed(2)} requests per trigger`);
    const idleResult = await idle(ctx, op.proc.pid!, Number(values.idle));
    log(`size ${size}: idle ${idleResult.perMinute} requests/min (watches ${idleResult.watchesPerMinute}/min), ${idleResult.cpuSecondsPerMinute.toFixed(2)} CPU s/min`);
    const afterLoad = await footprint(op);

    const restarted = await restart(ctx, op);
    op = restarted.next;
    const afterRestart = await footprint(op);
    log(`size ${size}: restart ready in ${restarted.readyMs.toFixed(0)} ms, peak RSS ${restarted.peakRssMiB.toFixed(0)} MiB, ${restarted.writes} writes`);

    let floorResult = null;
    if (values.floor === 'true') {
      await stop(op);
      floorResult = await floor(ctx, size, triggers, `f${size}`);
      log(`size ${size}: floor p50 ${floorResult.p50Ms.toFixed(1)} ms, p99 ${floorResult.p99Ms.toFixed(1)} ms, RSS ${floorResult.rssMiB.toFixed(0)} MiB; first runs ${floorResult.firstRunsS.toFixed(1)} s`);
      // The operator comes back to the floor's rollouts: new revisions, so those Runners run once more.
      op = await startOperator(ctx);
      await waitForStates(admin, ns, size, 'Succeeded', 1_800_000);
      await quiet(ctx);
    }

    results.push({ size, settleMs, firstRunsS, settled, afterLoad, latency, idle: idleResult, restart: { readyMs: restarted.readyMs, peakRssMiB: restarted.peakRssMiB, writes: restarted.writes, jobsCreated: restarted.jobsCreated, ...afterRestart }, floor: floorResult });
  }
  const cronCount = Number(values.cron);
  const cron = cronCount > 0 ? await cronStorm(ctx, cronCount) : null;
  if (cron) log(`cron storm: ${cron.jobs} of ${cron.runners} Jobs; lateness p50 ${cron.p50Ms.toFixed(0)} ms, p99 ${cron.p99Ms.toFixed(0)} ms`);
  mkdirSync(dirname(values.out), { recursive: true });
  const operator = { dir: values['operator-dir'], env: operatorEnv, ...(values['operator-commit'] ? { commit: values['operator-commit'] } : {}) };
  writeFileSync(values.out, JSON.stringify({ date: new Date().toISOString(), node: process.version, operator, sizes: results, cron }, null, 2));
  log(`wrote ${values.out}`);
} finally {
  await stop(op);
}
process.exit(0);

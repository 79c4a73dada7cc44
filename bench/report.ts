// Turns benchmark runs (.cache/bench/*.json, from bench/run.ts) into bench/results.json and
// BENCHMARKS.md: for each size the median of the runs, with the floor beside each figure. Sizes
// not measured this time keep their figures from bench/results.json, with their date.
//
//   node bench/report.ts            (make bench and make bench-full end with it)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { median } from './audit-log.ts';

interface SizeRun {
  size: number;
  firstRunsS: number;
  settled: { rssMiB: number; heapAfterGcMiB: number };
  afterLoad: { rssMiB: number; heapAfterGcMiB: number };
  latency: { triggers: number; p50Ms: number; p99Ms: number; requestsPerTrigger: number; requests: Record<string, number>; cpuSecondsPer1000: number };
  idle: { perMinute: number; watchesPerMinute: number; cpuSecondsPerMinute?: number; requests: Record<string, number> };
  restart: { readyMs: number; peakRssMiB: number; writes: number; jobsCreated: number; rssMiB: number; heapAfterGcMiB: number };
  floor: { p50Ms: number; p99Ms: number; requestsPerTrigger: number; cpuSecondsPer1000: number; rssMiB: number; heapAfterGcMiB: number; firstRunsS?: number } | null;
}
interface Run {
  date: string;
  node: string;
  /** The operator measured: this checkout (dir '.') with its defaults, or a variant to compare with. */
  operator?: { dir: string; env: Record<string, string>; commit?: string };
  sizes: SizeRun[];
  cron: { runners: number; jobs: number; p50Ms: number; p99Ms: number; maxMs: number; floorP50Ms: number; floorP99Ms: number } | null;
  /** From the file name: `small-1.json` → small; a variant's runs are named after it (`before-1.json`). */
  label: string;
}

/** One run of bench/sharded.ts. */
interface ShardedRun {
  at: string;
  runners: number;
  replicas: number;
  one: { runners: number; rssMiB: number; heapAfterGcMiB: number; latencyP50Ms: number; latencyP99Ms: number };
  sharded: { rssMiB: number[]; peakRssMiB?: number[]; heapAfterGcMiB: number[]; takenUpS: number; firstRunsS?: number; latencyP50Ms: number; latencyP99Ms: number; requestsPerTrigger: number };
  handover?: { runners: number; medianMs: number; maxMs: number; phases?: { noticedMs: number; jobsListedMs: number; runnersReadMs: number } };
  /** The control plane's feature gates (absent: runs before they were recorded, on a server as Kubernetes ships it). */
  featureGates?: string;
  /** Replicas that stopped by themselves before the hand-over (a renew deadline missed) and were started again. */
  restarts?: { identity: string }[];
}

/** Whether the run's API server narrowed a LIST by shard (KEP-5866), which a hand-over reads its Runners with. */
const shardedListsIn = (r: ShardedRun): boolean => (r.featureGates ?? '').split(',').includes('ShardedListAndWatch=true');

const SHARDED_LISTS = '+sharded-lists';

/** A run's shape, and the key of its figures: `20000x4`, or `20000x4+sharded-lists` on a server with the alpha gate. */
const shapeOf = (r: ShardedRun): string => `${r.runners}x${r.replicas}${shardedListsIn(r) ? SHARDED_LISTS : ''}`;

type Figures = Record<string, number>;
type BySize = Record<string, { date: string; runs: number; figures: Figures }>;
interface Results {
  sizes: BySize;
  cron: { date: string; runs: number; figures: Figures } | null;
  /** The storm of 5,000 scheduled Runners (make bench-full). */
  storm5000?: { date: string; runs: number; figures: Figures } | null;
  /** Replicas that share the Runners, by `<Runners>x<replicas>` (make bench-sharded; bench-full: 20,000 over 4). */
  sharded?: Record<string, { date: string; runs: number; figures: Figures }>;
  /** Other operators measured the same way, to compare with (e.g. the previous release, V8's heap defaults). */
  variants?: Record<string, { operator: { dir: string; env: Record<string, string>; commit?: string }; sizes: BySize; cron?: { date: string; runs: number; figures: Figures } | null }>;
}

const RESULTS = 'bench/results.json';
/** How many runs a figure is of: the median of several, or one run's. */
const runsOf = (runs: number) => (runs === 1 ? 'one run' : `median of ${runs} runs`);
const files = existsSync('.cache/bench') ? readdirSync('.cache/bench').filter((f) => f.endsWith('.json')) : [];
/** Replicas that share the Runners (bench/sharded.ts, `sharded-<N>x<R>.json` and `sharded-<N>x<R>-<k>.json`). */
const isSharded = (f: string) => f.startsWith('sharded-');
const all: Run[] = files.filter((f) => !isSharded(f)).map((f) => ({ ...(JSON.parse(readFileSync(`.cache/bench/${f}`, 'utf8')) as Run), label: f.replace(/-\d+\.json$/, '') }));
const shardedRuns: ShardedRun[] = files.filter(isSharded).map((f) => JSON.parse(readFileSync(`.cache/bench/${f}`, 'utf8')) as ShardedRun);
if (all.length === 0 && shardedRuns.length === 0) throw new Error('no runs in .cache/bench: run make bench first');
const isVariant = (r: Run) => (r.operator?.dir ?? '.') !== '.' || Object.keys(r.operator?.env ?? {}).length > 0;
const runs = all.filter((r) => !isVariant(r));
const previous: Results = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Results) : { sizes: {}, cron: null };

const figuresOf = (s: SizeRun): Figures => ({
  latencyP50Ms: s.latency.p50Ms,
  latencyP99Ms: s.latency.p99Ms,
  floorP50Ms: s.floor?.p50Ms ?? Number.NaN,
  floorP99Ms: s.floor?.p99Ms ?? Number.NaN,
  requestsPerTrigger: s.latency.requestsPerTrigger,
  floorRequestsPerTrigger: s.floor?.requestsPerTrigger ?? Number.NaN,
  idleRequestsPerMinute: s.idle.perMinute,
  idleWatchOpensPerMinute: s.idle.watchesPerMinute,
  idleCpuSecondsPerMinute: s.idle.cpuSecondsPerMinute ?? Number.NaN,
  firstRunsS: s.firstRunsS,
  restartReadyMs: s.restart.readyMs,
  restartWrites: s.restart.writes,
  restartJobsCreated: s.restart.jobsCreated,
  restartPeakRssMiB: s.restart.peakRssMiB,
  rssSettledMiB: s.settled.rssMiB,
  rssAfterLoadMiB: s.afterLoad.rssMiB,
  rssAfterRestartMiB: s.restart.rssMiB,
  heapAfterGcMiB: s.afterLoad.heapAfterGcMiB,
  floorRssMiB: s.floor?.rssMiB ?? Number.NaN,
  cpuSecondsPer1000Triggers: s.latency.cpuSecondsPer1000,
  floorCpuSecondsPer1000Triggers: s.floor?.cpuSecondsPer1000 ?? Number.NaN,
  floorFirstRunsS: s.floor?.firstRunsS ?? Number.NaN,
});

const medianOf = (all: Figures[]): Figures => Object.fromEntries(Object.keys(all[0]!).map((k) => [k, median(all.map((f) => f[k]!))]));

function bySize(of: Run[], into: BySize): BySize {
  for (const size of new Set(of.flatMap((r) => r.sizes.map((s) => s.size)))) {
    const samples = of.flatMap((r) => r.sizes.filter((s) => s.size === size).map((s) => ({ date: r.date, figures: figuresOf(s) })));
    into[String(size)] = { date: samples.map((o) => o.date).sort().at(-1)!.slice(0, 10), runs: samples.length, figures: medianOf(samples.map((o) => o.figures)) };
  }
  return into;
}

const stormsOf = (runners: number) => runs.filter((r) => r.cron?.runners === runners).map((r) => ({ date: r.date, figures: r.cron! as unknown as Figures }));
const storm = (of: { date: string; figures: Figures }[]) => ({ date: of.map((c) => c.date).sort().at(-1)!.slice(0, 10), runs: of.length, figures: medianOf(of.map((c) => c.figures)) });
const results: Results = { sizes: bySize(runs, { ...previous.sizes }), cron: previous.cron, variants: { ...previous.variants } };
for (const label of new Set(all.filter(isVariant).map((r) => r.label))) {
  const of = all.filter((r) => r.label === label);
  const storms = of.filter((r) => r.cron?.runners === 1000).map((r) => ({ date: r.date, figures: r.cron! as unknown as Figures }));
  results.variants![label] = { operator: of[0]!.operator!, sizes: bySize(of, { ...previous.variants?.[label]?.sizes }), cron: storms.length > 0 ? storm(storms) : (previous.variants?.[label]?.cron ?? null) };
}
const crons = stormsOf(1000);
if (crons.length > 0) results.cron = storm(crons);
results.storm5000 = stormsOf(5000).length > 0 ? storm(stormsOf(5000)) : (previous.storm5000 ?? null);
// Each replica's figure is the largest of the replicas' (a limit must hold for every one), then the median of the runs.
const shardedFiguresOf = (r: ShardedRun): Figures => ({
  runners: r.runners,
  replicas: r.replicas,
  oneRunners: r.one.runners,
  oneRssMiB: r.one.rssMiB,
  oneHeapAfterGcMiB: r.one.heapAfterGcMiB,
  oneLatencyP50Ms: r.one.latencyP50Ms,
  oneLatencyP99Ms: r.one.latencyP99Ms,
  maxRssMiB: Math.max(...r.sharded.rssMiB),
  minRssMiB: Math.min(...r.sharded.rssMiB),
  maxPeakRssMiB: r.sharded.peakRssMiB ? Math.max(...r.sharded.peakRssMiB) : Number.NaN,
  maxHeapAfterGcMiB: Math.max(...r.sharded.heapAfterGcMiB),
  takenUpS: r.sharded.takenUpS,
  firstRunsS: r.sharded.firstRunsS ?? Number.NaN,
  latencyP50Ms: r.sharded.latencyP50Ms,
  latencyP99Ms: r.sharded.latencyP99Ms,
  requestsPerTrigger: r.sharded.requestsPerTrigger,
  handoverRunners: r.handover?.runners ?? Number.NaN,
  handoverMedianMs: r.handover?.medianMs ?? Number.NaN,
  handoverMaxMs: r.handover?.maxMs ?? Number.NaN,
  handoverNoticedMs: r.handover?.phases?.noticedMs ?? Number.NaN,
  handoverJobsListedMs: r.handover?.phases?.jobsListedMs ?? Number.NaN,
  handoverRunnersReadMs: r.handover?.phases?.runnersReadMs ?? Number.NaN,
  restarts: r.restarts?.length ?? 0,
});
results.sharded = { ...previous.sharded };
for (const shape of new Set(shardedRuns.map(shapeOf))) {
  const of = shardedRuns.filter((r) => shapeOf(r) === shape);
  results.sharded[shape] = { date: of.map((r) => r.at).sort().at(-1)!.slice(0, 10), runs: of.length, figures: medianOf(of.map(shardedFiguresOf)) };
}
writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');

// ---- BENCHMARKS.md ---------------------------------------------------------------------------

const ordered = Object.entries(results.sizes).sort(([a], [b]) => Number(a) - Number(b));
// A figure not measured: absent, or NaN (which bench/results.json keeps as null).
const missing = (v: number | null | undefined): v is null | undefined => v === undefined || v === null || Number.isNaN(v);
const ms = (v: number | null | undefined) => (missing(v) ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
const n = (v: number | null | undefined, digits = 0) => (missing(v) ? '–' : v.toFixed(digits));
const mib = (v: number | null | undefined) => (missing(v) ? '–' : `${v.toFixed(0)} MiB`);
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: string[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const f = (size: string) => results.sizes[size]!.figures;
const small = results.sizes['10']?.figures.requestsPerTrigger;

/** The member Leases' duration the replicas ran with (HESTIA_LEASE_SECONDS' default, docs/operate.md). */
const MEMBER_LEASE_S = 15;

/** The sizes the targets of a lean run are judged at. */
const LEAN_SIZES = ['1000', '5000'];
const finite = (x: number | undefined): boolean => x !== undefined && Number.isFinite(x);
/** "9.2 s vs 2.0 s (4.60×)": a figure beside the floor's, and their ratio. */
const ratio = (ours: number | undefined, floor: number | undefined, unit = ''): string =>
  finite(ours) && finite(floor) ? `${n(ours, 1)}${unit} vs ${n(floor, 1)}${unit} (${(ours! / floor!).toFixed(2)}×)` : finite(ours) ? `${n(ours, 1)}${unit} (no floor)` : '–';

const md = `# Benchmarks

Figures from the project's own control plane (test/cluster: kube-apiserver, kube-controller-manager and etcd built
from source, pods simulated by kwok), on the 2-core machine the tests run on, shared with other work: read the
ratios and the floor beside each figure, not the absolute times. Each size has N Runners, each selecting its own
enabled Deployment (0 replicas), and so N Jobs. Every figure is the **median of the runs** (3 per size unless "Dates of the figures" says fewer), each on a fresh
control plane. Reproduce with:

\`\`\`sh
make bench         # 10, 100 and 1,000 Runners, 3 runs, and the cron storm (about 30 min here: each storm waits for a tick a few minutes ahead)
make bench-full    # 5,000 Runners, 3 runs (about 40 min), then make bench-limit
make bench-limit   # 10,000 Runners, one run, without the floor (memory at the shipped limit)
make bench-compare # the "Before and after" table
\`\`\`

Both write \`bench/results.json\` (machine-readable) and this page (\`node bench/report.ts\`).
**The floor** is \`bench/floor.ts\`: a process that only watches Deployments and creates a Job when one becomes
available — no state machine, status or Events — run in the operator's place on the same control plane, with the
same rollouts, in the same run.

## Trigger latency

From the completion of the Deployment controller's status write that makes a Deployment available to the
arrival of the Job's create, both read off the API server's audit log (100 rollouts per size, 10 at a time). That
write is the Deployment's latest status write to arrive before the create; a create that arrives before its cause
is stamped complete (the server sends the watch event first) counts as 0 ms. Runs before 2026-12-03 13:00 UTC (the rows
dated 2026-11-27 below) took the latest write *completed* before the create instead, and so blamed on the operator the time a Deployment
controller took to retry a status write that met a conflict.

${table(['Runners', 'p50', 'p99', 'floor p50', 'floor p99', 'p99 / floor p99'], ordered.map(([size]) => [
  size, ms(f(size).latencyP50Ms), ms(f(size).latencyP99Ms), ms(f(size).floorP50Ms), ms(f(size).floorP99Ms), n(missing(f(size).floorP99Ms) ? undefined : f(size).latencyP99Ms! / f(size).floorP99Ms!, 2),
]))}

## API requests

Per trigger: every request the operator sent while the rollouts ran, divided by the rollouts (Job create,
status writes, Events). Idle: requests in 20 quiet seconds, scaled to a minute (watches re-open every 5–10 minutes).

${table(['Runners', 'per trigger', 'floor per trigger', 'ratio to 10 Runners', 'idle per minute', 'watch re-opens per minute'], ordered.map(([size]) => [
  size, n(f(size).requestsPerTrigger, 2), n(f(size).floorRequestsPerTrigger, 2), small ? n(f(size).requestsPerTrigger! / small, 2) : '–', n(f(size).idleRequestsPerMinute, 1), n(f(size).idleWatchOpensPerMinute, 1),
]))}

## Restart

The operator killed with SIGKILL and started again under the same Runners: time from its start to \`/readyz\`
(caches in sync, actors restored from their snapshots), the largest resident memory on the way, and what it
wrote afterwards until it went quiet.

${table(['Runners', 'ready after', 'writes', 'Jobs created', 'peak RSS'], ordered.map(([size]) => [
  size, ms(f(size).restartReadyMs), n(f(size).restartWrites), n(f(size).restartJobsCreated), `${n(f(size).restartPeakRssMiB)} MiB`,
]))}

## Footprint

Resident memory (from /proc) when the first runs are done, after the rollouts, and after the restart; heap in
use after a full collection (through the inspector); CPU seconds per 1,000 triggers, and per minute while idle. The operator as it ships,
\`node dist/src/main.js\` with its own defaults (sizes measured before 2026-12-03 ran \`node src/main.ts\`).

${table(['Runners', 'RSS settled', 'RSS after load', 'RSS after restart', 'heap after GC', 'floor RSS', 'CPU s / 1,000 triggers', 'floor CPU s / 1,000', 'idle CPU s / minute'], ordered.map(([size]) => [
  size, `${n(f(size).rssSettledMiB)} MiB`, `${n(f(size).rssAfterLoadMiB)} MiB`, `${n(f(size).rssAfterRestartMiB)} MiB`, `${n(f(size).heapAfterGcMiB, 1)} MiB`, mib(f(size).floorRssMiB), n(f(size).cpuSecondsPer1000Triggers, 1), n(f(size).floorCpuSecondsPer1000Triggers, 1), n(f(size).idleCpuSecondsPerMinute, 2),
]))}

First runs: time from creating the Runners and Deployments to every Runner \`Succeeded\`; beside it, the floor's
first runs — the same number of new Deployments, each given its Job by the floor, until every Job has succeeded:
how long the control plane's Deployment and Job controllers take for them at all.
${ordered.map(([size]) => `${size}: ${n(f(size).firstRunsS, 1)} s${Number.isFinite(f(size).floorFirstRunsS) ? ` (floor ${n(f(size).floorFirstRunsS, 1)} s)` : ''}`).join('; ')}.

## Cron storm

${results.cron ? `${n(results.cron.figures.runners)} scheduled Runners (nothing to wait for; one schedule, whose one tick that day is a minute chosen for all of them to be Scheduled before it) on one tick: ${n(results.cron.figures.jobs)} Jobs;
lateness of each Job's create after the tick p50 ${ms(results.cron.figures.p50Ms)}, p99 ${ms(results.cron.figures.p99Ms)}, max ${ms(results.cron.figures.maxMs)}.
The floor of a storm on the same control plane — the same number of Jobs created at one moment by a process that does
nothing else, 64 at once — p50 ${ms(results.cron.figures.floorP50Ms)}, p99 ${ms(results.cron.figures.floorP99Ms)}: how fast this API server takes a thousand Jobs at all
(${runsOf(results.cron.runs)}, ${results.cron.date}).` : 'Not measured yet.'}
${results.storm5000 ? `The storm of ${n(results.storm5000.figures.runners)} (\`make bench-full\`, or alone: \`bench/run.ts --sizes '' --cron 5000\`): ${n(results.storm5000.figures.jobs)} Jobs, lateness p50 ${ms(results.storm5000.figures.p50Ms)}, p99 ${ms(results.storm5000.figures.p99Ms)}, max ${ms(results.storm5000.figures.maxMs)}; the floor's p50 ${ms(results.storm5000.figures.floorP50Ms)}, p99 ${ms(results.storm5000.figures.floorP99Ms)} (${runsOf(results.storm5000.runs)}, ${results.storm5000.date}).` : 'The storm of 5,000 (`make bench-full`): not measured yet.'}

Dates of the figures: ${ordered.map(([size, s]) => `${size}: ${s.date} (${s.runs} ${s.runs === 1 ? 'run' : 'runs'})`).join('; ')}.
${shardedSection()}${targetsSection()}${compareSection()}`;


/** The targets the operator is held to (issue: lean at scale), each judged from the figures above. */
function targetsSection(): string {
  const at = (size: string) => results.sizes[size]?.figures;
  const big = at('5000');
  const small = at('10');
  const limit = at('10000');
  const cron = results.cron?.figures;
  const storm5000 = results.storm5000?.figures;
  const sharded20k = results.sharded?.['20000x4']?.figures;
  const sharded20kLists = results.sharded?.[`20000x4${SHARDED_LISTS}`]?.figures;
  const judged = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : '**missed**');
  const rows: string[][] = [
    ['RSS ≤ 256 MiB at 5,000 Runners (settled, and at the peak of a restart)', `${mib(big?.rssSettledMiB)}, ${mib(big?.restartPeakRssMiB)}`, judged(big && Math.max(big.rssSettledMiB!, big.restartPeakRssMiB!) <= 256)],
    ['the shipped 512Mi limit holds 10,000 Runners', `peak ${mib(limit?.restartPeakRssMiB)}`, judged(limit && Math.max(limit.rssSettledMiB!, limit.restartPeakRssMiB!) < 512)],
    ['trigger latency p99 < 100 ms at 5,000', ms(big?.latencyP99Ms), judged(big && big.latencyP99Ms! < 100)],
    ['… and within 2× of the floor\'s p99', `${ms(big?.latencyP99Ms)} vs ${ms(big?.floorP99Ms)}`, judged(big && big.latencyP99Ms! <= 2 * big.floorP99Ms!)],
    ['requests per trigger at 5,000 ≤ 1.2× those at 10', `${n(big?.requestsPerTrigger, 2)} vs ${n(small?.requestsPerTrigger, 2)}`, judged(big && small && big.requestsPerTrigger! <= 1.2 * small.requestsPerTrigger!)],
    ['idle: no request but watch re-opens (5,000)', `${n(big?.idleRequestsPerMinute, 1)} per minute`, judged(big && big.idleRequestsPerMinute === 0)],
    ['restart at 5,000: ready < 10 s, 0 writes, 0 Jobs', `${ms(big?.restartReadyMs)}, ${n(big?.restartWrites)}, ${n(big?.restartJobsCreated)}`, judged(big && big.restartReadyMs! < 10_000 && big.restartWrites === 0 && big.restartJobsCreated === 0)],
    ['cron storm of 1,000: lateness p99 < 2 s', `${ms(cron?.p99Ms)} (floor ${ms(cron?.floorP99Ms)})`, judged(cron && cron.p99Ms! < 2000)],
    ['… and ≤ 1.3× the floor\'s storm p99', ratio(cron?.p99Ms, cron?.floorP99Ms, ' ms'), judged(cron && cron.p99Ms! <= 1.3 * cron.floorP99Ms!)],
    ['cron storm of 5,000 measured', storm5000 ? `p99 ${ms(storm5000.p99Ms)} (floor ${ms(storm5000.floorP99Ms)})` : '–', judged(storm5000 ? true : undefined)],
    ...LEAN_SIZES.flatMap((size) => {
      const s = at(size);
      return [
        [`requests per trigger ≤ 4 at ${size} (Job create included)`, n(s?.requestsPerTrigger, 2), judged(s && s.requestsPerTrigger! <= 4)],
        [`CPU per 1,000 triggers ≤ 2.5× the floor's at ${size}`, ratio(s?.cpuSecondsPer1000Triggers, s?.floorCpuSecondsPer1000Triggers, ' s'), judged(s && finite(s.floorCpuSecondsPer1000Triggers) && s.cpuSecondsPer1000Triggers! <= 2.5 * s.floorCpuSecondsPer1000Triggers!)],
        [`trigger latency p99 ≤ 1.2× the floor's p99 at ${size}`, ratio(s?.latencyP99Ms, s?.floorP99Ms, ' ms'), judged(s && finite(s.floorP99Ms) && s.latencyP99Ms! <= 1.2 * s.floorP99Ms!)],
        [`first runs of ${size} beside the floor's`, ratio(s?.firstRunsS, s?.floorFirstRunsS, ' s'), finite(s?.floorFirstRunsS) ? 'measured' : 'not measured'],
      ];
    }),
    ['RSS at 10 Runners ≤ 90 MiB (settled)', mib(small?.rssSettledMiB), judged(small && small.rssSettledMiB! <= 90)],
    ['every replica ≤ 200 MiB at 20,000 Runners over 4 (settled)', sharded20k ? `${mib(sharded20k.maxRssMiB)} (peak ${mib(sharded20k.maxPeakRssMiB)})` : '–', judged(sharded20k && sharded20k.maxRssMiB! <= 200)],
    ...([
      ['', sharded20k],
      [', where the API server narrows a LIST by shard', sharded20kLists],
    ] as const).map(([where, f]) => [
      `a killed replica's Runners run again within the lease duration + 5 s (${MEMBER_LEASE_S + 5} s), 20,000 over 4${where}`,
      f ? ms(f.handoverMaxMs) : '–',
      judged(f && finite(f.handoverMaxMs) && f.handoverMaxMs! <= (MEMBER_LEASE_S + 5) * 1000),
    ]),
  ];
  const bounds = [
    big && big.latencyP99Ms! >= 100 && big.floorP99Ms! >= 100 ? `at 5,000 Runners the floor's own p99 is ${ms(big.floorP99Ms)}` : '',
    cron && cron.p99Ms! >= 2000 && cron.floorP99Ms! >= 0.9 * 2000 ? `the floor's storm — 1,000 Job creates at once and nothing else — has a p99 of ${ms(cron.floorP99Ms)} by itself` : '',
  ].filter(Boolean);
  // Sizes measured on different days are judged together: each size says when it was measured.
  const byDate = new Map<string, string[]>();
  for (const [size, { date }] of Object.entries(results.sizes)) byDate.set(date, [...(byDate.get(date) ?? []), Number(size).toLocaleString('en-US')]);
  const dates = [...byDate].sort(([a], [b]) => b.localeCompare(a)).map(([date, sizes]) => `${sizes.join(', ')} Runners on ${date}`);
  const stormDate = results.cron ? `; the storm of 1,000 on ${results.cron.date}` : '';
  return `
## Targets

${table(['target', 'measured', ''], rows)}

Measured: ${dates.join('; ')}${stormDate}.
${bounds.length ? `\nWhere the control plane itself is near or past a target: ${bounds.join('; ')}. What was changed for the targets, and what is left: [docs/scale.md](docs/scale.md).\n` : ''}`;
}

function shardedSection(): string {
  const shapes = Object.entries(results.sharded ?? {}).sort(([, a], [, b]) => a.figures.runners! - b.figures.runners!);
  if (shapes.length === 0) return '';
  const rows = shapes.map(([shape, { date, runs, figures: s }]) => [
    `${n(s.runners)} over ${n(s.replicas)}${shape.endsWith(SHARDED_LISTS) ? ', sharded lists' : ''}`,
    `${runs} (${date})${s.restarts ? `, ${n(s.restarts)} replica restarts` : ''}`,
    `${n(s.minRssMiB)}–${mib(s.maxRssMiB)}`,
    mib(s.maxPeakRssMiB),
    `${n(s.maxHeapAfterGcMiB, 1)} MiB`,
    `${mib(s.oneRssMiB)}, ${n(s.oneHeapAfterGcMiB, 1)} MiB (${n(s.oneRunners)})`,
    `${ms(s.latencyP50Ms)} / ${ms(s.latencyP99Ms)}`,
    `${ms(s.oneLatencyP50Ms)} / ${ms(s.oneLatencyP99Ms)}`,
    `${ms(s.handoverMedianMs)} / ${ms(s.handoverMaxMs)} (${n(s.handoverRunners)})`,
    `${ms(s.handoverNoticedMs)}, ${ms(s.handoverJobsListedMs)}, ${ms(s.handoverRunnersReadMs)}`,
    `${n(s.takenUpS, 1)} s`,
    `${n(s.firstRunsS)} s (${n(s.runners! - s.oneRunners!)})`,
  ]);
  return `
## Several replicas

\`make bench-sharded\` (\`SHARDED_RUNNERS\`, \`SHARDED_REPLICAS\`; \`make bench-full\` runs 20,000 over 4): one replica
alone with the first Runners (at most 5,000, the size one replica is sized for), then the rest created and the
replicas (\`HESTIA_SHARDING=true\`, member Leases of ${MEMBER_LEASE_S} s) acting on all of them, on one control plane in one run. Resident memory of
each replica once quiet (lowest–highest of the replicas), its peak from its start on (the highest replica's), heap
after a full collection (the highest); trigger latency p50 / p99 of the same rollouts under the replicas and under
the one; the hand-over: the replica that owns most of the rolled-out Runners SIGKILLed, those Runners rolled out at
once, and the time from the kill until each has its Job, median / last (how many), and where it went (from the API
server's audit log: when the survivors first listed the Jobs of the slots they took up; when the last of those
lists and the last fresh read of a Runner taken up were answered); "sharded lists": on a control plane with
Kubernetes' alpha gate \`ShardedListAndWatch\`, where those reads are a few LISTs narrowed by shard, not a GET each; how long the replicas took to take
their slots up, and the first runs of the Runners created after them. A replica that stops by itself before the
hand-over (its member Lease not renewed in time: the API server did not answer) is started again, as its Deployment
would, and the restarts are counted beside the runs. What holds a replica's memory, what bounds the
hand-over and the first runs, and what is left: [docs/operate.md](docs/operate.md), "Several replicas".

${table(['Runners', 'runs (date)', 'RSS per replica', 'peak RSS', 'heap after GC', 'one replica: RSS, heap (Runners)', 'latency p50 / p99', 'one replica p50 / p99', 'hand-over after SIGKILL', 'hand-over: slots taken, Jobs listed, Runners read', 'slots taken up', 'first runs'], rows)}
`;
}

function compareSection(): string {
  const variants = Object.entries(results.variants ?? {});
  if (variants.length === 0) return '';
  const rows: string[][] = [];
  for (const [name, v] of variants) {
    for (const [size, s] of Object.entries(v.sizes)) {
      const ours = results.sizes[size]?.figures;
      const them = s.figures;
      const pair = (k: string, unit = '', digits = 0) => `${n(them[k], digits)}${unit} → ${n(ours?.[k], digits)}${unit}`;
      const storms = v.cron && results.cron ? `${ms(v.cron.figures.p99Ms)} → ${ms(results.cron.figures.p99Ms)}` : '–';
      rows.push([name, size, `${s.runs} (${s.date})`, pair('rssSettledMiB', ' MiB'), pair('restartPeakRssMiB', ' MiB'), pair('heapAfterGcMiB', ' MiB', 1), pair('restartWrites'), pair('requestsPerTrigger', '', 2), `${ms(them.latencyP99Ms)} → ${ms(ours?.latencyP99Ms)}`, pair('cpuSecondsPer1000Triggers', ' s', 1), storms]);
    }
  }
  const described = variants.map(([name, v]) => `\`${name}\`: the operator of ${v.operator.commit ? `commit ${v.operator.commit}` : `\`${v.operator.dir}\``}${Object.keys(v.operator.env).length ? ` with ${Object.entries(v.operator.env).map(([k, val]) => `\`${k}=${val}\``).join(' ')}` : ''}`).join('; ');
  return `
## Before and after

The same runs with another operator in this one's place (${described}), against this operator's figures above at
the same size: \`make bench-compare\`, which unpacks and installs the commit \`BEFORE\` of the Makefile in
\`.cache/bench/before\` (\`previous-release\`, c47ef12, is the release before the work on scale, measured then; the
commit before the work on a lean run is \`before-lean\`). Each row gives the other operator's figure, then this one's.
A row of another day than this operator's figures compares across days, when the shared machine may have been more
or less busy: timings compare best within one day. The three rows' latency was read by the earlier rule (Trigger
latency, above), this operator's by the present one: that column does not compare, the others do.

${table(['compared with', 'Runners', 'runs (date)', 'RSS settled', 'restart peak RSS', 'heap after GC', 'restart writes', 'requests per trigger', 'latency p99', 'CPU s / 1,000 triggers', 'cron storm p99'], rows)}
`;
}

writeFileSync('BENCHMARKS.md', md);
console.log(`wrote ${RESULTS} and BENCHMARKS.md from ${runs.length} runs`);

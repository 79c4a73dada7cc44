// Issue 21 (gap 6): Runners created while the operator starts — from before its process starts until
// after it logged "operator started" — and while leadership changes hands (the leader SIGKILLed or
// stopped by SIGTERM, Runners created until the new leader has started). Some name a Flux HelmRelease in
// `spec.resources` (a CustomResourceDefinition the test installs), so that start-up also waits for that
// kind to be looked up and listed. Every Runner must get its status and its run — from the operator that
// was starting when it was created, not from a later restart — and none may run twice.
//
// The replicas reach the API server across a network with some latency each way (the test's TCP proxy),
// as a pod reaches a managed control plane: each round trip of the start-up then takes its real time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorKubeConfig } from '../integration/support/identity.ts';
import { createRunner, ENABLE, getRunner, runnerManifest, waitFor } from '../integration/support/kube.ts';
import { apiVersionOf, createObject, grantRead, HELM_RELEASE, installKind, revokeRead, setStatus, uninstallKind } from '../integration/support/foreign-kinds.ts';
import { apiServerAddress } from './support/control-plane.ts';
import { awaitConvergence } from './support/convergence.ts';
import { chaosEnvironment } from './support/environment.ts';
import { bySize, recordFigures } from './support/figures.ts';
import { KEEP_EVERY_JOB } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { leaseHolder, readLease, timeOf } from './support/lease.ts';
import { countEventRuns, offCounts, totals } from './support/ledger.ts';
import { kubeconfigFile, leaderElectionEnv, OperatorProcess } from './support/operator-process.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

type Stop = 'SIGTERM' | 'SIGKILL';

const env = chaosEnvironment('chaos-start');
const size = bySize<{ handOvers: Stop[]; releases: number }>({
  reduced: { handOvers: ['SIGKILL'], releases: 3 },
  full: { handOvers: ['SIGKILL', 'SIGTERM', 'SIGKILL', 'SIGTERM'], releases: 10 },
});
const LEASE = `chaos-start-${process.pid}`;
/** One way, between the replicas and the API server. */
const LATENCY_MS = 40;
/** Between two Runners while an operator starts (a burst), and while none does (a trickle). */
const BURST_GAP_MS = 100;
const TRICKLE_GAP_MS = 1_000;
/** Runners go on being created this long after "operator started". */
const AFTER_START_MS = 1_500;
/** An operator that has started serves a new Runner's first run within this. */
const RUN_LIMIT_MS = 60_000;
/** Every third Runner waits for a HelmRelease through spec.resources. */
const WITH_RESOURCES_EVERY = 3;

interface Created {
  name: string;
  at: number;
  withResources: boolean;
  /** What the operator was doing when it was created. */
  phase: string;
}

/** Creates Runners one after another, at the pace the test sets, until stopped. */
class RunnerCreator {
  readonly created: Created[] = [];
  phase = 'before the first process';
  private gapMs = BURST_GAP_MS;
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly done: Promise<void>;
  private readonly namespace: string;

  constructor(namespace: string) {
    this.namespace = namespace;
    this.done = this.run();
  }

  /** From now on one Runner every `gapMs` (a pause under way is cut short). */
  pace(gapMs: number, phase: string): void {
    this.gapMs = gapMs;
    this.phase = phase;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.done;
  }

  private async run(): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      const began = Date.now();
      const name = `start-${n}`;
      const withResources = n % WITH_RESOURCES_EVERY === 0;
      const release = `release-${n % size.releases}`;
      const spec = withResources
        ? { ...KEEP_EVERY_JOB, resources: [{ apiVersion: apiVersionOf(HELM_RELEASE), kind: 'HelmRelease', selector: { matchLabels: { app: release, fleet: this.namespace } } }] }
        : KEEP_EVERY_JOB;
      const phase = this.phase;
      await createRunner(runnerManifest(this.namespace, name, spec));
      this.created.push({ name, at: began, withResources, phase });
      // Pacing the load, not waiting for anything: the next Runner comes `gapMs` after this one began.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, began + this.gapMs - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

let proxy: TcpProxy | undefined;
let book: JobBook | undefined;
let creator: RunnerCreator | undefined;
const replicas = new Map<string, OperatorProcess>();

beforeAll(async () => {
  await installKind(HELM_RELEASE);
  await grantRead(HELM_RELEASE);
  // Installed and reported ready by Flux, for the generation it has: a Runner naming one runs at once.
  for (let i = 0; i < size.releases; i++) {
    await createObject(HELM_RELEASE, env.ns, `release-${i}`, { app: `release-${i}`, fleet: env.ns, ...ENABLE });
    await setStatus(HELM_RELEASE, env.ns, `release-${i}`, { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1, message: 'released' }] });
  }
  proxy = await TcpProxy.start(apiServerAddress(), { latencyMs: LATENCY_MS });
}, 120_000);

afterAll(async () => {
  await creator?.stop();
  book?.stop();
  for (const r of replicas.values()) await r.close();
  await proxy?.close();
  await revokeRead(HELM_RELEASE);
  await uninstallKind(HELM_RELEASE);
});

async function replica(identity: string): Promise<OperatorProcess> {
  const existing = replicas.get(identity);
  if (existing) return existing;
  const kubeconfig = kubeconfigFile(await operatorKubeConfig(), `start-${identity}`, proxy!.url);
  // The shipped timing (15 s / 10 s / 2 s); restarted when it exits by itself, as its pod would be.
  const created = new OperatorProcess({ name: `start-${identity}`, kubeconfig, env: leaderElectionEnv(identity, LEASE), restartOnExit: true });
  replicas.set(identity, created);
  return created;
}

const startedLines = (r: OperatorProcess) => r.logLines('"operator started"').length;

/** Waits until `r` logs "operator started" once more than `before` times; when it did. */
async function started(r: OperatorProcess, before: number, what: string): Promise<number> {
  await waitFor(what, () => startedLines(r) > before, 120_000);
  return Date.now();
}

/** Runners already found without a run (one later restart may still run them: they stay counted). */
const reported = new Set<string>();

/** The Runners created so far that have no Job after up to `timeoutMs`, with what their status says; each told once. */
async function withoutRun(timeoutMs: number): Promise<string[]> {
  const created = creator!.created.filter((c) => !reported.has(c.name));
  const pending = () => created.filter((c) => book!.of(c.name).length === 0);
  await waitFor('a run of every Runner created so far', () => pending().length === 0, timeoutMs).catch(() => undefined);
  return Promise.all(pending().map(async (c) => {
    reported.add(c.name);
    const state = (await getRunner(env.ns, c.name).catch(() => undefined))?.status?.state ?? 'no status';
    return `${c.name} (${c.withResources ? 'spec.resources, ' : ''}created ${c.phase}): ${state}`;
  }));
}

interface HandOver {
  stop: Stop;
  from: string;
  to: string;
  /** Runners created from the stop until the new leader's "operator started" (and AFTER_START_MS more). */
  runnersCreated: number;
  /** Stop → the new leader holds the Lease → it has started. */
  takeoverMs: number;
  startMs: number;
}

describe('Runners created while the operator starts and while leadership changes hands', () => {
  it('every Runner gets its status and its run from the operator starting meanwhile, none twice', async () => {
    book = new JobBook(env.ns);
    await book.start();
    const notRun: string[] = [];

    // Before the process starts, and on through its start-up: a trickle while Node loads the code, a burst from
    // the moment the process runs ("starting") until after "operator started".
    creator = new RunnerCreator(env.ns);
    await waitFor('Runners created before the operator starts', () => creator!.created.length >= 5, 30_000);
    const first = await replica('hestia-0');
    creator.pace(TRICKLE_GAP_MS, 'while hestia-0 loaded');
    const spawnedAt = Date.now();
    await first.start();
    await waitFor('hestia-0 to run', () => first.logLines('"msg":"starting"').length > 0, 60_000);
    creator.pace(BURST_GAP_MS, 'while hestia-0 started');
    const firstStartedAt = await started(first, 0, 'hestia-0 to start');
    await new Promise((r) => setTimeout(r, AFTER_START_MS)); // keep creating a little after the start: pacing, not a wait
    creator.pace(TRICKLE_GAP_MS, 'after hestia-0 started');
    await (await replica('hestia-1')).start();
    notRun.push(...(await withoutRun(RUN_LIMIT_MS)));

    const handOvers: HandOver[] = [];
    for (const stop of size.handOvers) {
      const from = (await leaseHolder(LEASE))!;
      const to = from === 'hestia-0' ? 'hestia-1' : 'hestia-0';
      const next = await replica(to);
      const previous = await replica(from);
      const before = creator.created.length;
      const startsBefore = startedLines(next);
      const stoppedAt = Date.now();
      creator.pace(TRICKLE_GAP_MS, `while ${from} held the Lease, stopped`);
      await (stop === 'SIGTERM' ? previous.terminate() : previous.kill());
      // The standby can take the Lease once it is released (a clean stop may release it) or has expired (a
      // SIGKILLed leader's expires a lease duration after its last renewal): burst from a second before either.
      await waitFor(`${from}'s Lease to be released, or about to expire`, async () => {
        const lease = (await readLease(LEASE))?.spec;
        if (lease?.holderIdentity !== from) return true;
        return Date.now() >= timeOf(lease.renewTime) + (lease.leaseDurationSeconds ?? 0) * 1000 - 1_000;
      }, 60_000);
      creator.pace(BURST_GAP_MS, `while ${to} took the Lease and started`);
      await waitFor(`${to} to take the Lease`, async () => (await leaseHolder(LEASE)) === to, 60_000);
      const acquiredAt = Math.max(stoppedAt, timeOf((await readLease(LEASE))?.spec?.acquireTime));
      const startedAt = await started(next, startsBefore, `${to} to start`);
      await new Promise((r) => setTimeout(r, AFTER_START_MS));
      creator.pace(TRICKLE_GAP_MS, `after ${to} started`);
      handOvers.push({ stop, from, to, runnersCreated: creator.created.length - before, takeoverMs: acquiredAt - stoppedAt, startMs: startedAt - acquiredAt });
      await previous.start();
      notRun.push(...(await withoutRun(RUN_LIMIT_MS)));
    }
    await creator.stop();
    notRun.push(...(await withoutRun(RUN_LIMIT_MS)));

    const runners = creator.created;
    const expected = new Map(runners.map((c) => [c.name, 1]));
    const unconverged = await awaitConvergence(env.ns, runners.map((c) => ({ name: c.name, scheduled: false })), () => listJobs(env.ns));
    const counts = countEventRuns(await listJobs(env.ns), expected);
    const sum = totals(counts);
    const during = (from: number, to: number) => runners.filter((c) => c.at >= from && c.at <= to).length;
    recordFigures('runners-during-start', {
      runners: runners.length,
      withResources: runners.filter((c) => c.withResources).length,
      createdBeforeFirstProcess: runners.filter((c) => c.at < spawnedAt).length,
      createdDuringFirstStart: during(spawnedAt, firstStartedAt),
      firstStartSeconds: (firstStartedAt - spawnedAt) / 1000,
      handOvers: handOvers.map(({ stop, runnersCreated, takeoverMs, startMs }) => ({ stop, runnersCreated, takeoverSeconds: takeoverMs / 1000, startSeconds: startMs / 1000 })),
      runsChecked: sum.jobs,
      runsExpected: sum.expected,
      duplicates: sum.duplicates,
      missed: sum.missed,
      runnersOff: offCounts(counts),
      withoutRunWithin60s: notRun.length,
      unconverged: unconverged.length,
      latencyMs: LATENCY_MS,
      // Exits of a replica the test did not stop (a Lease lost: on a starved machine, the renew deadline can pass).
      selfExits: [...replicas.values()].reduce((n, r) => n + r.selfExits, 0),
      operatorLogs: [...replicas.values()].map((r) => r.logFile),
    });

    expect(notRun, `Runners without a run ${RUN_LIMIT_MS / 1000} s after the operator started`).toEqual([]);
    expect(offCounts(counts), 'Runners with duplicate or missed runs').toEqual([]);
    expect(unconverged, 'Runners whose status does not match their Jobs').toEqual([]);
  }, 1_200_000);
});

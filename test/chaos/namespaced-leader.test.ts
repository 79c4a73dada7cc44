// Issue 21 (gap 1): the operator namespace-scoped over many namespaces, as users run it — installed
// with the Helm chart's `namespaces` (a Role in each, nothing cluster-wide), two replicas with leader
// election at the chart's timing, the ServiceAccount's token as its only credential — while Runners in
// every namespace are triggered (manual triggers and rollouts), and leadership handed over in the middle
// (the leader stopped by SIGTERM, as a rolling update does, or SIGKILLed, as a crash does).
//
// Namespace-scoped, the operator holds about five watches per namespace (Runners, Jobs, Deployments,
// StatefulSets, DaemonSets), each on a connection for minutes. The leader must keep its Lease all the
// same — the API server is healthy, so no "lost the Lease" in any replica's log — and every Runner gets
// its status and its runs, none twice (counted from the Jobs).
import { spawnSync } from 'node:child_process';
import { loadAllYaml, type KubernetesObject, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteNamespace, installCrd, waitFor } from '../integration/support/kube.ts';
import { serviceAccountToken, tokenOnlyKubeconfig } from '../integration/support/tokens.ts';
import { toolPath } from '../support/tools.ts';
import { awaitConvergence } from './support/convergence.ts';
import { controlPlaneWorks, restartControlPlane } from './support/control-plane.ts';
import { bySize, recordFigures } from './support/figures.ts';
import { Fleet, type DriverOutcome, type FleetPlan } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { leaseHolder, readLease, timeOf } from './support/lease.ts';
import { countEventRuns, offCounts, totals, type RunnerCount } from './support/ledger.ts';
import { OperatorProcess } from './support/operator-process.ts';

type Stop = 'SIGTERM' | 'SIGKILL';

// Per namespace: one Runner triggered by hand, one by rollouts of its own Deployment.
const size = bySize<{ namespaces: number; plan: FleetPlan; handOvers: Stop[] }>({
  reduced: {
    namespaces: 30,
    plan: { manual: { runners: 1, triggers: 2 }, rollout: { runners: 1, rollouts: 1 }, chain: { pairs: 0, triggers: 0 }, scheduled: { runners: 0 } },
    handOvers: ['SIGKILL'],
  },
  full: {
    namespaces: 60,
    plan: { manual: { runners: 2, triggers: 4 }, rollout: { runners: 1, rollouts: 3 }, chain: { pairs: 1, triggers: 2 }, scheduled: { runners: 0 } },
    handOvers: ['SIGTERM', 'SIGKILL', 'SIGTERM', 'SIGKILL'],
  },
});

/** The chart's Lease name for this release (templates/deployment.yaml: the release's full name). */
const RELEASE = 'hestia';
const LOST_LEASE = 'lost the Lease';
/** From becoming leader to acting (/readyz): lists and watches of every namespace. */
const START_LIMIT_MS = 60_000;

const kubectl = process.env.HESTIA_KUBECTL!;
let releaseNamespace = '';
const namespaces: string[] = [];
let kubeconfig = '';
let chartEnv: Record<string, string> = {};
const replicas = new Map<string, OperatorProcess>();
const books = new Map<string, JobBook>();

function sh(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * The operator container's environment as the chart renders it (the values; the pod's own fields, its name and
 * namespace, are the replica's), less the ports: each replica gets ports of its own on this machine.
 */
function chartContainerEnv(manifests: string): Record<string, string> {
  const deployment = (loadAllYaml(manifests) as KubernetesObject[]).find((o) => o?.kind === 'Deployment') as V1Deployment;
  const env = deployment.spec!.template.spec!.containers[0]!.env ?? [];
  const { HESTIA_HEALTH_PORT: _health, HESTIA_METRICS_PORT: _metrics, ...rest } = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
  return rest;
}

beforeAll(async () => {
  const installed = () => installCrd().then(() => true);
  await waitFor('the API server', installed, 30_000).catch(() => restartControlPlane().then(() => waitFor('the API server', installed, 60_000)));
  releaseNamespace = await createNamespace('chaos-scoped-hestia');
  await controlPlaneWorks(releaseNamespace, 60_000).catch(() => restartControlPlane().then(() => controlPlaneWorks(releaseNamespace)));
  for (let i = 0; i < size.namespaces; i++) namespaces.push(await createNamespace(`chaos-scoped-${i}`));
  // The chart as a user installs it for these namespaces (the Runner CRD is already installed).
  const manifests = sh(toolPath('helm'), ['template', RELEASE, 'charts/hestia', '--namespace', releaseNamespace, '--set', `namespaces={${namespaces.join(',')}}`]);
  sh(kubectl, ['apply', '-f', '-'], manifests);
  chartEnv = chartContainerEnv(manifests);
  kubeconfig = tokenOnlyKubeconfig(await serviceAccountToken(releaseNamespace, RELEASE), RELEASE);
}, 300_000);

afterAll(async () => {
  for (const book of books.values()) book.stop();
  for (const r of replicas.values()) await r.close();
  await Promise.all([releaseNamespace, ...namespaces].filter(Boolean).map((ns) => deleteNamespace(ns)));
});

/** A replica as the chart's Deployment runs it: its environment, the pod's name as identity; restarted when it exits. */
function replica(identity: string): OperatorProcess {
  const existing = replicas.get(identity);
  if (existing) return existing;
  const created = new OperatorProcess({
    name: `scoped-${identity}`,
    kubeconfig,
    env: { ...chartEnv, POD_NAMESPACE: releaseNamespace, POD_NAME: identity },
    restartOnExit: true,
  });
  replicas.set(identity, created);
  return created;
}

/** Every line of any replica's log saying it lost the Lease. */
const leaseLosses = () => [...replicas.values()].flatMap((r) => r.logLines(LOST_LEASE).map((line) => `${r.name}: ${line}`));

/**
 * Waits for `what`, failing at once — with the log line — when a replica loses its Lease meanwhile: with the API
 * server healthy that is the fault under test, and waiting on would only hide it behind a timeout.
 */
async function whileLeaseHeld(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const failIfLost = () => {
    const lost = leaseLosses();
    if (lost.length > 0) throw new LeaseLost(lost);
  };
  await waitFor(what, async () => leaseLosses().length > 0 || (await probe()), timeoutMs).catch((err: unknown) => {
    failIfLost();
    throw err;
  });
  failIfLost();
}

class LeaseLost extends Error {
  constructor(lines: string[]) {
    super(`a replica lost the Lease while the API server was healthy:\n${lines.slice(0, 5).join('\n')}`);
    this.name = 'LeaseLost';
  }
}

interface HandOver {
  stop: Stop;
  from: string;
  to: string;
  jobsBefore: number;
  /** From stopping the leader until the other replica held the Lease. */
  takeoverMs: number;
  /** From holding the Lease until it acted (/readyz). */
  startMs: number;
}

const jobsSeen = () => [...books.values()].reduce((n, b) => n + b.count(), 0);

describe(`namespace-scoped over ${size.namespaces} namespaces, two replicas with leader election`, () => {
  it('the leader keeps its Lease; every Runner gets its status and its runs, none twice, across a hand-over', async () => {
    const fleets = namespaces.map((ns) => new Fleet(ns, size.plan));
    await Promise.all(fleets.map((f) => f.create()));
    for (const ns of namespaces) {
      const book = new JobBook(ns);
      books.set(ns, book);
      await book.start();
    }
    const lease = chartEnv.HESTIA_LEASE_NAME!;

    await replica('hestia-0').start();
    await whileLeaseHeld('hestia-0 to lead', async () => (await leaseHolder(lease, releaseNamespace)) === 'hestia-0', 60_000);
    const becameLeader = Date.now();
    await replica('hestia-1').start();
    await whileLeaseHeld('hestia-0 to act (/readyz) in every namespace', () => replica('hestia-0').ready(), START_LIMIT_MS);
    const firstStartMs = Date.now() - becameLeader;

    // Drivers in every namespace; the hand-overs fall at even shares of the planned runs. With several, the first
    // falls among the Runners' first runs — as an upgrade right after many Runners were applied — the others among
    // the triggered ones.
    const planned = fleets.reduce((n, f) => n + f.plannedEventRuns, 0);
    let driven = false;
    const driving = Promise.all(fleets.map((f) => f.drive(books.get(f.namespace)!))).finally(() => (driven = true));
    const handOvers: HandOver[] = [];
    for (const [i, stop] of size.handOvers.entries()) {
      const at = Math.floor((planned * (i + 1)) / (size.handOvers.length + 1));
      await whileLeaseHeld(`${at} of ${planned} runs`, async () => driven || jobsSeen() >= at, 300_000);
      const from = (await leaseHolder(lease, releaseNamespace))!;
      const to = from === 'hestia-0' ? 'hestia-1' : 'hestia-0';
      expect(replica(to).running, `${to} stands by`).toBe(true);
      const jobsBefore = jobsSeen();
      const stoppedAt = Date.now();
      await (stop === 'SIGTERM' ? replica(from).terminate() : replica(from).kill());
      await whileLeaseHeld(`${to} to take the Lease`, async () => (await leaseHolder(lease, releaseNamespace)) === to, 60_000);
      const acquiredAt = Math.max(stoppedAt, timeOf((await readLease(lease, releaseNamespace))?.spec?.acquireTime));
      await whileLeaseHeld(`${to} to act (/readyz) in every namespace`, () => replica(to).ready(), START_LIMIT_MS);
      handOvers.push({ stop, from, to, jobsBefore, takeoverMs: acquiredAt - stoppedAt, startMs: Date.now() - acquiredAt });
      // The stopped replica comes back as the standby, as its pod would.
      await replica(from).start();
    }
    await whileLeaseHeld('every driver to finish', async () => driven, 1_800_000);
    const outcomes: DriverOutcome[] = await driving;

    // Faults over: statuses catch up with the Jobs (every namespace at once); then count, namespace by namespace.
    const perNamespace = await Promise.all(fleets.map(async (fleet, i) => {
      const ns = fleet.namespace;
      const { expected, timedOut } = outcomes[i]!;
      const runners = [...expected.keys()].map((name) => ({ name, scheduled: false }));
      const unconverged = await awaitConvergence(ns, runners, () => listJobs(ns), 60_000);
      const counts = countEventRuns(await listJobs(ns), expected);
      return {
        timedOut: timedOut.map((t) => `${ns}/${t}`),
        unconverged: unconverged.map((u) => `${ns}/${u}`),
        counts: counts.map((c): RunnerCount => ({ ...c, runner: `${ns}/${c.runner}` })),
      };
    }));
    const counts = perNamespace.flatMap((n) => n.counts);
    const unconverged = perNamespace.flatMap((n) => n.unconverged);
    const timedOut = perNamespace.flatMap((n) => n.timedOut);
    const sum = totals(counts);
    const lost = leaseLosses();
    const selfExits = [...replicas.values()].reduce((n, r) => n + r.selfExits, 0);
    recordFigures('namespaced-leader', {
      namespaces: size.namespaces,
      runners: sum.runners,
      handOvers: handOvers.map(({ stop, takeoverMs, startMs, jobsBefore }) => ({ stop, takeoverSeconds: takeoverMs / 1000, startSeconds: startMs / 1000, jobsBefore })),
      firstStartSeconds: firstStartMs / 1000,
      runsChecked: sum.jobs,
      runsExpected: sum.expected,
      duplicates: sum.duplicates,
      missed: sum.missed,
      runnersOff: offCounts(counts),
      runsNeverStarted: timedOut.length,
      unconverged: unconverged.length,
      leaseLosses: lost.length,
      selfExits,
      leaseTiming: { seconds: chartEnv.HESTIA_LEASE_SECONDS },
      operatorLogs: [...replicas.values()].map((r) => r.logFile),
    });

    expect(lost, 'replicas that lost the Lease').toEqual([]);
    expect(selfExits, 'replicas that exited by themselves').toBe(0);
    expect(timedOut, 'runs that never started').toEqual([]);
    expect(offCounts(counts), 'Runners with duplicate or missed runs').toEqual([]);
    expect(sum.jobs).toBeGreaterThanOrEqual(planned);
    expect(unconverged, 'Runners whose status does not match their Jobs').toEqual([]);
  }, 1_800_000);
});

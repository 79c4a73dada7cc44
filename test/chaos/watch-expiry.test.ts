// SPEC §6, issue 15: watch expiry. The operator's connections stall without a word (as when the
// server behind a load balancer dies), etcd is compacted to its current revision and the API server
// restarted, so its watch cache begins after the compaction. When the operator's watches give up on
// the silence and resume from their last resourceVersion they get 410 Gone, re-list, and act on
// everything that changed while they were blind — once each.
import { afterAll, describe, expect, it } from 'vitest';
import { createRunner, deleteRunner, runnerManifest, waitFor } from '../integration/support/kube.ts';
import { operatorKubeConfig } from '../integration/support/identity.ts';
import { apiServerAddress, compactEtcd, restartControlPlane } from './support/control-plane.ts';
import { awaitConvergence } from './support/convergence.ts';
import { chaosEnvironment } from './support/environment.ts';
import { recordFigures } from './support/figures.ts';
import { Fleet, KEEP_EVERY_JOB } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { countEventRuns, offCounts, totals } from './support/ledger.ts';
import { kubeconfigFile, OperatorProcess } from './support/operator-process.ts';
import { TcpProxy } from './support/tcp-proxy.ts';
import { firstWatchAnswer, operatorWatchesSince } from './support/watch-replay.ts';

const env = chaosEnvironment('chaos-watch-expiry');
const plan = { manual: { runners: 3, triggers: 1 }, rollout: { runners: 2, rollouts: 1 }, chain: { pairs: 1, triggers: 1 }, scheduled: { runners: 0 } };

let proxy: TcpProxy | undefined;
let operator: OperatorProcess | undefined;
let book: JobBook | undefined;

afterAll(async () => {
  book?.stop();
  await operator?.close();
  await proxy?.close();
});

describe('watches that resume from a compacted resourceVersion', () => {
  it('get 410 Gone; the operator re-lists and runs everything that changed meanwhile, once', async () => {
    proxy = await TcpProxy.start(apiServerAddress());
    // Leader election off: while the operator is blind, nothing but its watches uses its connections.
    operator = new OperatorProcess({ name: 'watch-expiry', kubeconfig: kubeconfigFile(await operatorKubeConfig(), 'watch-expiry-proxy', proxy.url) });
    const fleet = new Fleet(env.ns, plan);
    await fleet.create();
    await createRunner(runnerManifest(env.ns, 'doomed', KEEP_EVERY_JOB));
    book = new JobBook(env.ns);
    await book.start();
    await operator.start();
    // Every first run, then quiet.
    const firsts = [...fleet.manualRunners, ...fleet.rolloutRunners, ...fleet.chainPairs.flat(), 'doomed'];
    for (const name of firsts) expect(await book.reach(name, 1, 120_000), `first run of ${name}`).toBe(true);
    expect(await awaitConvergence(env.ns, firsts.map((name) => ({ name, scheduled: false })), () => listJobs(env.ns))).toEqual([]);

    proxy.stallOpenConnections();
    const stalledAt = Date.now();
    const compactedAt = await compactEtcd();
    const { upAt } = await restartControlPlane();
    // While the operator is blind: the second half of every driver's plan, a Runner deleted, one created.
    await deleteRunner(env.ns, 'doomed');
    await createRunner(runnerManifest(env.ns, 'newcomer', KEEP_EVERY_JOB));
    const outcome = await fleet.drive(book);
    expect(await book.reach('newcomer', 1, 180_000), 'the first run of the Runner created meanwhile').toBe(true);

    // The operator's watches resumed from a resourceVersion the restarted API server cannot serve
    // (its watch cache starts after it, and etcd holds no history up to it); asked again, each is 410.
    const resumed = operatorWatchesSince(upAt).filter((w) => w.resourceVersion <= compactedAt);
    const answers = await Promise.all(resumed.map((w) => firstWatchAnswer(w.path, w.resourceVersion)));
    const expected = new Map([...outcome.expected, ['newcomer', 1]]);
    const unconverged = await awaitConvergence(env.ns, [...expected.keys()].map((name) => ({ name, scheduled: false })), () => listJobs(env.ns));
    const counts = countEventRuns(await listJobs(env.ns), expected);
    const sum = totals(counts);
    recordFigures('watch-expiry', {
      compactedAtRevision: compactedAt,
      watchesResumedFromCompactedRevision: resumed.length,
      resumedWatchPaths: [...new Set(resumed.map((w) => w.path))].sort(),
      replayedAnswers: answers,
      blindSeconds: (Math.max(...resumed.map((w) => w.at), stalledAt) - stalledAt) / 1000,
      runsChecked: sum.jobs,
      runsExpected: sum.expected,
      duplicates: sum.duplicates,
      missed: sum.missed,
      runnersOff: offCounts(counts),
      operatorExits: operator.exits.length,
      unconverged: unconverged.length,
    });

    expect(resumed.length, 'watches resumed from a resourceVersion etcd no longer has').toBeGreaterThan(0);
    expect(answers.every((a) => a.type === 'ERROR' && a.code === 410), `answers: ${JSON.stringify(answers)}`).toBe(true);
    expect(operator.exits, 'the operator recovered without exiting').toEqual([]);
    expect(outcome.timedOut, 'runs that never started').toEqual([]);
    expect(offCounts(counts), 'Runners with duplicate or missed runs').toEqual([]);
    expect(unconverged, 'Runners whose status does not match their Jobs').toEqual([]);
    await waitFor('the deleted Runner to be gone with its Jobs', async () => (await listJobs(env.ns)).every((j) => !j.metadata?.name?.startsWith('doomed-')), 60_000);
  }, 600_000);
});

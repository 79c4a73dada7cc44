// SPEC §6, issue 15: conflicting writes to Runners' status by another client. Whatever another
// client writes there — a stale copy, an empty status (as a restore from a backup leaves it) — the
// operator writes its own status back, keeps running each trigger once, and a restart resumes from
// the truth rather than from what the other client wrote.
import type { RunnerStatus } from '../../src/api/runner.ts';
import { ANNOTATION_TRIGGER } from '../../src/api/runner.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunner, getRunner, patchRunner, runnerManifest, stays, waitFor, waitForRunner } from '../integration/support/kube.ts';
import { awaitConvergence, statusMismatch } from './support/convergence.ts';
import { chaosEnvironment } from './support/environment.ts';
import { bySize, recordFigures } from './support/figures.ts';
import { Fleet, KEEP_EVERY_JOB, type FleetPlan } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { chaosSeed, seededRandom } from './support/killer.ts';
import { countEventRuns, offCounts, totals } from './support/ledger.ts';
import { leaderElectionEnv, OperatorProcess } from './support/operator-process.ts';
import { overwriteStatus, RivalStatusWriter } from './support/rival-writer.ts';

const env = chaosEnvironment('chaos-status');
const plan = bySize<FleetPlan>({
  reduced: { manual: { runners: 3, triggers: 5 }, rollout: { runners: 1, rollouts: 3 }, chain: { pairs: 2, triggers: 5 }, scheduled: { runners: 0 } },
  full: { manual: { runners: 6, triggers: 15 }, rollout: { runners: 3, rollouts: 8 }, chain: { pairs: 5, triggers: 15 }, scheduled: { runners: 0 } },
});
/** How long the operator may take to put its own status back. */
const CONVERGE_MS = 30_000;

let operator: OperatorProcess;
let book: JobBook;
let rival: RivalStatusWriter | undefined;

beforeAll(async () => {
  book = new JobBook(env.ns);
  await book.start();
  operator = new OperatorProcess({ name: 'status-conflicts', kubeconfig: env.kubeconfig, env: leaderElectionEnv('hestia-0', `chaos-status-${process.pid}`) });
  await operator.start();
});

afterAll(async () => {
  await rival?.stop();
  book?.stop();
  await operator?.close();
});

/** A Runner that has run once for its creation and once for trigger "t1", at rest. */
async function runnerThatRanTwice(name: string): Promise<void> {
  await createRunner(runnerManifest(env.ns, name, KEEP_EVERY_JOB));
  expect(await book.reach(name, 1, 60_000)).toBe(true);
  await waitForRunner(env.ns, name, 'its first run succeeded', (r) => r.status?.state === 'Succeeded');
  await patchRunner(env.ns, name, { metadata: { annotations: { [ANNOTATION_TRIGGER]: 't1' } } });
  expect(await book.reach(name, 2, 60_000)).toBe(true);
  await waitFor(`${name} to be at rest after t1`, async () => statusMismatch(await getRunner(env.ns, name), await listJobs(env.ns), false) === null);
}

describe("another client writing Runners' status", () => {
  it('is overwritten by the operator: an emptied or stale status tells the latest run again', async () => {
    await runnerThatRanTwice('overwritten');
    const truth = (await getRunner(env.ns, 'overwritten')).status!;
    const converged = async () => statusMismatch(await getRunner(env.ns, 'overwritten'), await listJobs(env.ns), false) === null;

    await overwriteStatus(await getRunner(env.ns, 'overwritten'), {});
    await waitFor('the operator to write its status back over an empty one', converged, CONVERGE_MS);

    const stale: RunnerStatus = { ...truth, state: 'Failed', lastRun: { ...truth.lastRun!, result: 'Failed' } };
    await overwriteStatus(await getRunner(env.ns, 'overwritten'), stale);
    await waitFor('the operator to write its status back over a wrong one', converged, CONVERGE_MS);
    expect(book.of('overwritten'), 'no run caused by the overwrites').toHaveLength(2);
  });

  it('runs nothing twice when it restarts after another client emptied a status', async () => {
    await runnerThatRanTwice('emptied');
    await overwriteStatus(await getRunner(env.ns, 'emptied'), {});
    await operator.kill();
    await operator.start();
    await waitFor('the restarted operator to be ready', () => operator.ready(), 120_000);
    // Nothing is due: a Job now would run trigger t1 (or the first run) a second time.
    await stays('a third Job of "emptied"', () => book.of('emptied').length > 2, 10_000);
  });

  it("does not run a downstream Runner again when another client puts back its upstream's older status", async () => {
    const fleet = { fleet: env.ns };
    await createRunner(runnerManifest(env.ns, 'upstream', KEEP_EVERY_JOB, { chain: 'stale-upstream', ...fleet }));
    await createRunner(runnerManifest(env.ns, 'downstream', { ...KEEP_EVERY_JOB, runnerSelector: { matchLabels: { chain: 'stale-upstream', ...fleet } } }));
    const atRest = (name: string) => async () => statusMismatch(await getRunner(env.ns, name), await listJobs(env.ns), false) === null;
    expect(await book.reach('downstream', 1, 60_000)).toBe(true);
    await waitFor('the chain to be at rest', async () => (await atRest('upstream')()) && (await atRest('downstream')()));
    const older = (await getRunner(env.ns, 'upstream')).status!;
    await patchRunner(env.ns, 'upstream', { metadata: { annotations: { [ANNOTATION_TRIGGER]: 't1' } } });
    expect(await book.reach('downstream', 2, 60_000)).toBe(true);
    await waitFor('the chain to be at rest after t1', async () => (await atRest('upstream')()) && (await atRest('downstream')()));

    await overwriteStatus(await getRunner(env.ns, 'upstream'), older);
    // The upstream ran twice, the downstream once after each: nothing new is due.
    await stays('a third run of the downstream Runner', () => book.of('downstream').length > 2, 10_000);
  });

  it('loses no run and runs none twice while another client keeps writing stale statuses', async () => {
    const seed = chaosSeed();
    const fleet = new Fleet(env.ns, plan);
    await fleet.create();
    const names = [...fleet.manualRunners, ...fleet.rolloutRunners, ...fleet.chainPairs.flat()];
    rival = new RivalStatusWriter(env.ns, names, seededRandom(seed));
    rival.start();
    const outcome = await fleet.drive(book);
    await rival.stop();

    const runners = [...outcome.expected.keys()].map((name) => ({ name, scheduled: false }));
    const unconverged = await awaitConvergence(env.ns, runners, () => listJobs(env.ns), CONVERGE_MS);
    const counts = countEventRuns(await listJobs(env.ns), outcome.expected);
    const sum = totals(counts);
    recordFigures('status-conflicts', {
      seed,
      rivalWritesAccepted: rival.accepted,
      rivalWritesConflicted: rival.conflicts,
      runsChecked: sum.jobs,
      runsExpected: sum.expected,
      duplicates: sum.duplicates,
      missed: sum.missed,
      runnersOff: offCounts(counts),
      unconverged,
    });

    expect(rival.accepted, 'the other client did write').toBeGreaterThan(0);
    expect(outcome.timedOut, 'runs that never started').toEqual([]);
    expect(offCounts(counts), 'Runners with duplicate or missed runs').toEqual([]);
    expect(unconverged, 'Runners whose status still does not match their Jobs').toEqual([]);
  }, 1_200_000);
});

// SPEC §6, issue 15: conflicting writes to Runners' status by another client while runs are
// triggered (test/chaos/support/rival-writer.ts: stale copies and empty statuses). The operator
// converges — every status tells the latest run again — and nothing runs twice or is lost, also
// across a restart right after (which resumes from status.snapshot: it must be the operator's own).
import { afterAll, describe, expect, it } from 'vitest';
import { stays, waitFor } from '../integration/support/kube.ts';
import { awaitConvergence } from './support/convergence.ts';
import { chaosEnvironment } from './support/environment.ts';
import { bySize, recordFigures } from './support/figures.ts';
import { Fleet, type FleetPlan } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { chaosSeed, seededRandom } from './support/killer.ts';
import { countEventRuns, offCounts, totals } from './support/ledger.ts';
import { leaderElectionEnv, OperatorProcess } from './support/operator-process.ts';
import { RivalStatusWriter } from './support/rival-writer.ts';

const env = chaosEnvironment('chaos-status');
const plan = bySize<FleetPlan>({
  reduced: { manual: { runners: 3, triggers: 5 }, rollout: { runners: 1, rollouts: 3 }, chain: { pairs: 2, triggers: 5 }, scheduled: { runners: 0 } },
  full: { manual: { runners: 6, triggers: 15 }, rollout: { runners: 3, rollouts: 8 }, chain: { pairs: 5, triggers: 15 }, scheduled: { runners: 0 } },
});

let operator: OperatorProcess | undefined;
let book: JobBook | undefined;
let rival: RivalStatusWriter | undefined;

afterAll(async () => {
  await rival?.stop();
  book?.stop();
  await operator?.close();
});

describe("another client writing Runners' status", () => {
  it('does not make the operator lose a run or run one twice; the statuses converge', async () => {
    const seed = chaosSeed();
    const fleet = new Fleet(env.ns, plan);
    await fleet.create();
    book = new JobBook(env.ns);
    await book.start();
    operator = new OperatorProcess({ name: 'status-conflicts', kubeconfig: env.kubeconfig, env: leaderElectionEnv('hestia-0', `chaos-status-${process.pid}`) });
    await operator.start();
    const names = [...fleet.manualRunners, ...fleet.rolloutRunners, ...fleet.chainPairs.flat()];

    rival = new RivalStatusWriter(env.ns, names, seededRandom(seed));
    rival.start();
    const outcome = await fleet.drive(book);
    await rival.stop();

    const runners = [...outcome.expected.keys()].map((name) => ({ name, scheduled: false }));
    const unconverged = await awaitConvergence(env.ns, runners, () => listJobs(env.ns), 60_000);

    // A restart now resumes every Runner from status.snapshot: it must be the operator's, not the rival's.
    await operator.kill();
    await operator.start();
    await waitFor('the restarted operator to be ready', () => operator!.ready(), 120_000);
    // Nothing is due: for 10 s after the restart no Job may appear (one would be a run twice).
    const jobsBefore = book.count();
    const jobsAfterRestart = await stays('a Job to appear', () => book!.count() !== jobsBefore, 10_000).then(() => 0, () => book!.count() - jobsBefore);

    const jobs = await listJobs(env.ns);
    const counts = countEventRuns(jobs, outcome.expected);
    const sum = totals(counts);
    recordFigures('status-conflicts', {
      seed,
      rivalWritesAccepted: rival.accepted,
      rivalWritesConflicted: rival.conflicts,
      runsChecked: jobs.length,
      runsExpected: sum.expected,
      duplicates: sum.duplicates,
      missed: sum.missed,
      runnersOff: offCounts(counts),
      jobsAfterRestart,
      unconverged: unconverged.length,
      unconvergedRunners: unconverged,
    });

    expect(rival.accepted, 'the rival did write').toBeGreaterThan(0);
    expect(outcome.timedOut, 'runs that never started').toEqual([]);
    expect(unconverged, 'Runners whose status still does not match their Jobs').toEqual([]);
    expect(offCounts(counts), 'Runners with duplicate or missed runs').toEqual([]);
    expect(jobsAfterRestart, 'Jobs created by the restart').toBe(0);
  }, 1_200_000);
});

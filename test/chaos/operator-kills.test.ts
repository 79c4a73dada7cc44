// SPEC §6, issue 15: the operator process SIGKILLed at random moments while Runners are triggered by
// rollouts, chains, manual triggers and schedules. At the end every expected run happened exactly
// once — counted from the Jobs (listed, and cross-checked against the API server's audit log of the
// operator's Job creations) — and every Runner's status tells its latest run.
import { afterAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/time/clock.ts';
import { requestsBy } from '../integration/support/audit.ts';
import { OPERATOR_USER } from '../integration/support/identity.ts';
import { awaitConvergence } from './support/convergence.ts';
import { chaosEnvironment } from './support/environment.ts';
import { bySize, recordFigures } from './support/figures.ts';
import { Fleet, type FleetPlan } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { chaosSeed, hadAChance, killAtRandomMoments, seededRandom, type Life } from './support/killer.ts';
import { countEventRuns, countScheduledRuns, offCounts, totals } from './support/ledger.ts';
import { leaderElectionEnv, OperatorProcess } from './support/operator-process.ts';

const env = chaosEnvironment('chaos-kills');

// Full: 100 kills over 1,010 event-triggered runs plus the scheduled ones (`make chaos`); reduced: 10 kills over
// 102 plus the scheduled ones (`make test`).
const size = bySize<{ kills: number; plan: FleetPlan }>({
  reduced: {
    kills: 10,
    plan: { manual: { runners: 6, triggers: 7 }, rollout: { runners: 3, rollouts: 5 }, chain: { pairs: 2, triggers: 8 }, scheduled: { runners: 3 } },
  },
  full: {
    kills: 100,
    plan: { manual: { runners: 25, triggers: 19 }, rollout: { runners: 10, rollouts: 14 }, chain: { pairs: 12, triggers: 14 }, scheduled: { runners: 10 } },
  },
});

// Scheduled Runners tick every simulated minute; at 2x a tick comes every 30 real seconds. SPEC §3.4
// runs only the latest of the ticks missed while the operator was down, so a tick must have run
// only if some operator process was ready for 5 s of its interval; otherwise its skip is allowed
// (and counted in the figures as ticksSkippedWithoutAChance).
const CLOCK_RATE = 2;
const clock = new ScaledClock(new Date(), CLOCK_RATE);
const CHANCE_MS = 5_000;
const realTimeOf = (simulated: number) => clock.origin + (simulated - clock.origin) / CLOCK_RATE;
const mustRun = (lives: Life[]) => (tick: number) => hadAChance(lives, realTimeOf(tick), realTimeOf(tick + 60_000), CHANCE_MS);

let operator: OperatorProcess | undefined;
let book: JobBook | undefined;

afterAll(async () => {
  book?.stop();
  await operator?.close();
});

describe('the operator SIGKILLed at random moments', () => {
  it('runs every expected run exactly once: 0 duplicates, 0 missed, every status converged', async () => {
    const seed = chaosSeed();
    const random = seededRandom(seed);
    const fleet = new Fleet(env.ns, size.plan);
    await fleet.create();
    // The first tick the scheduled Runners must run: the first whole simulated minute a few seconds after they exist
    // (a Runner first seen after a tick has no run owed for it). A drive that ends before it owes no scheduled run.
    const firstTick = Math.ceil((clock.now().getTime() + CHANCE_MS * CLOCK_RATE) / 60_000) * 60_000;
    book = new JobBook(env.ns);
    await book.start();

    // As deployed: leader election on, with the identity of a pod whose container restarts.
    operator = new OperatorProcess({
      name: 'kills',
      kubeconfig: env.kubeconfig,
      env: {
        ...leaderElectionEnv('hestia-0', `chaos-kills-${process.pid}`),
        HESTIA_TEST_CLOCK_RATE: String(CLOCK_RATE),
        HESTIA_TEST_CLOCK_ORIGIN: new Date(clock.origin).toISOString(),
      },
    });
    const startedAt = new Date();
    await operator.start();

    const driven = fleet.drive(book);
    // Every planned kill lands: those the triggers outran land during the scheduled ticks and the
    // status writes that follow them (the operator now drives its runs faster than the kills come).
    const { kills, lives } = await killAtRandomMoments(operator, {
      kills: size.kills,
      overRuns: fleet.plannedEventRuns,
      runs: () => book!.count(),
      random,
    });
    const outcome = await driven;

    // Faults over: the statuses must catch up with the Jobs; then count.
    const upTo = clock.now();
    const runners = [
      ...[...outcome.expected.keys()].map((name) => ({ name, scheduled: false })),
      ...fleet.scheduledRunners.map((name) => ({ name, scheduled: true })),
    ];
    const unconverged = await awaitConvergence(env.ns, runners, () => listJobs(env.ns));
    const jobs = await listJobs(env.ns);
    const counts = [...countEventRuns(jobs, outcome.expected), ...countScheduledRuns(jobs, fleet.scheduledRunners, upTo, mustRun(lives), firstTick)];
    const sum = totals(counts);
    // The operator's Job creates, from the audit log: 201 wrote a Job; 409 found it written; 504
    // ("context canceled") is a create cut short by a kill, which the API server may or may not
    // have written (if not, the run is decided again after the restart — for a scheduled Runner
    // that may be a later tick, under another name).
    const creates = requestsBy(OPERATOR_USER, startedAt, env.ns).filter((e) => e.verb === 'create' && e.objectRef?.resource === 'jobs');
    const namesAnswered = (...codes: number[]) => new Set(creates.filter((e) => codes.includes(e.responseStatus?.code ?? 0)).map((e) => e.objectRef?.name));
    const written = namesAnswered(201);
    const attempted = namesAnswered(201, 409, 504);
    const listed = new Set(jobs.map((j) => j.metadata?.name));
    const downtimes = kills.map((k) => k.downMs).filter((d): d is number => d !== null);

    recordFigures('operator-kills', {
      seed,
      kills: kills.length,
      killsDuringStartUp: kills.filter((k) => !k.wasReady).length,
      jobsListed: jobs.length,
      runsChecked: sum.jobs,
      runsExpected: sum.expected,
      duplicates: sum.duplicates,
      missed: sum.missed,
      runnersOff: offCounts(counts),
      scheduledRuns: totals(countScheduledRuns(jobs, fleet.scheduledRunners, upTo)).jobs,
      ticksSkippedWithoutAChance: counts.reduce((n, c) => n + (c.skippedTicks?.length ?? 0), 0),
      jobsCreatedPerAuditLog: written.size,
      createsCutShortAndNeverWritten: [...attempted].filter((n) => !listed.has(n)).length,
      unconverged: unconverged.length,
      longestOutageMs: Math.max(0, ...downtimes),
      operatorLog: operator.logFile,
    });

    expect(outcome.timedOut, 'runs that never started').toEqual([]);
    expect(kills).toHaveLength(size.kills);
    expect(offCounts(counts), 'Runners with duplicate or missed runs').toEqual([]);
    expect(sum.jobs).toBeGreaterThanOrEqual(fleet.plannedEventRuns);
    // Every Job the operator created is still there (none pruned), and every Job there is one it asked for.
    expect([...written].filter((n) => !listed.has(n)), 'Jobs created and gone').toEqual([]);
    expect([...listed].filter((n) => !attempted.has(n)), 'Jobs the operator did not ask for').toEqual([]);
    expect(unconverged, 'Runners whose status does not match their Jobs').toEqual([]);
  }, 3_600_000);
});

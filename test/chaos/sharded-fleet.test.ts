// Replicas that share the Runners (HESTIA_SHARDING), under faults, with every way a run is triggered: rollouts,
// manual triggers, chains whose upstream and downstream may belong to different replicas, and schedules (under the
// test's scaled clock). Three replicas; while the fleet is driven, faults strike one after another — a replica
// SIGKILLed, one cut off from the API server, two started (3 → 5), two stopped with SIGTERM (5 → 3), a killed or cut-off
// one back after the next fault; last, the owner of a scheduled Runner killed a second before a tick. Every trigger runs exactly once and every scheduled tick runs exactly once — there is
// always a live replica to take a dead one's slots, and a tick missed meanwhile is caught up when they are taken
// (SPEC §3.4) — and every status matches its Jobs.
import { afterAll, describe, expect, it } from 'vitest';
import { assignSlots, slotOf } from '../../src/shard/ring.ts';
import { ScaledClock } from '../../src/time/clock.ts';
import { getRunner, waitFor } from '../integration/support/kube.ts';
import { awaitConvergence } from './support/convergence.ts';
import { chaosEnvironment } from './support/environment.ts';
import { bySize, recordFigures } from './support/figures.ts';
import { Fleet, type FleetPlan } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { chaosSeed, seededRandom } from './support/killer.ts';
import { countEventRuns, countScheduledRuns, offCounts, runnerOfJob, tickOf, totals } from './support/ledger.ts';
import { Ring } from './support/ring.ts';

type Fault = 'kill' | 'partition' | 'grow' | 'shrink';

const env = chaosEnvironment('chaos-sharded-fleet');
const size = bySize<{ plan: FleetPlan; faults: Fault[] }>({
  reduced: {
    plan: { manual: { runners: 3, triggers: 4 }, rollout: { runners: 2, rollouts: 3 }, chain: { pairs: 4, triggers: 4 }, scheduled: { runners: 3 } },
    faults: ['kill', 'partition', 'grow', 'shrink'],
  },
  full: {
    plan: { manual: { runners: 10, triggers: 12 }, rollout: { runners: 6, rollouts: 8 }, chain: { pairs: 12, triggers: 10 }, scheduled: { runners: 8 } },
    faults: ['kill', 'partition', 'grow', 'kill', 'shrink', 'partition', 'grow', 'shrink', 'kill', 'kill'],
  },
});

// Scheduled Runners tick every simulated minute; at 2x a tick comes every 30 real seconds.
const CLOCK_RATE = 2;
const clock = new ScaledClock(new Date(), CLOCK_RATE);
const TIMING = { HESTIA_LEASE_SECONDS: '6', HESTIA_LEASE_RENEW_DEADLINE_SECONDS: '4', HESTIA_LEASE_RETRY_SECONDS: '1' };
const ring = new Ring(`chaos-fleet-${process.pid}`, {
  ...TIMING,
  HESTIA_TEST_CLOCK_RATE: String(CLOCK_RATE),
  HESTIA_TEST_CLOCK_ORIGIN: new Date(clock.origin).toISOString(),
});
let book: JobBook | undefined;

afterAll(async () => {
  book?.stop();
  await ring.close();
});

const nextMinute = (ms: number) => Math.ceil(ms / 60_000) * 60_000;
const realTimeOf = (simulated: number) => clock.origin + (simulated - clock.origin) / CLOCK_RATE;

describe('replicas that share a fleet of Runners, under faults', () => {
  it('run every trigger, chain and scheduled tick once through kills, a partition and scaling 3 → 5 → 3', async () => {
    const seed = chaosSeed();
    const random = seededRandom(seed);
    const fleet = new Fleet(env.ns, size.plan);
    await fleet.create();
    // The first tick the scheduled Runners owe: the first whole simulated minute some seconds after they exist.
    const firstTick = nextMinute(clock.now().getTime() + 10_000 * CLOCK_RATE);
    book = new JobBook(env.ns);
    await book.start();
    for (const id of ['replica-a', 'replica-b', 'replica-c']) await ring.join(id);

    // Which chains cross replicas, as the ring first shares them (it shares them differently after each fault).
    const owners = assignSlots(ring.identities);
    const ownerOf = async (name: string) => owners[slotOf((await getRunner(env.ns, name)).metadata.uid!)];
    const crossing = (await Promise.all(fleet.chainPairs.map(async ([up, down]) => (await ownerOf(up)) !== (await ownerOf(down))))).filter(Boolean).length;

    const timedRunner = fleet.scheduledRunners[0]!;
    let timedTick = 0;
    const driven = fleet.drive(book);
    // The faults, spread over the drive: the next once a further share of the planned runs has started.
    const faults: string[] = [];
    const struck = (async () => {
      let newcomers = 0;
      let back: string | undefined;
      const start = book!.count();
      for (const [index, fault] of size.faults.entries()) {
        const share = Math.round(((index + 1) * fleet.plannedEventRuns) / (size.faults.length + 1));
        await waitFor(`${share} runs before fault ${index + 1}`, () => book!.count() - start >= share, 300_000);
        const ids = ring.identities;
        const victim = ids[Math.floor(random() * ids.length)]!;
        if (fault === 'kill') await ring.kill(victim);
        else if (fault === 'partition') expect(await ring.partition(victim), `${victim} exits when it cannot renew its member Lease`).toBe(1);
        else if (fault === 'grow') for (let i = 0; i < 2; i++) await ring.join(`replica-new-${++newcomers}`);
        else await ring.terminate(ids.filter((id) => id !== victim).slice(0, 2));
        if (back) await ring.join(back);
        back = fault === 'kill' || fault === 'partition' ? victim : undefined;
        faults.push(`${fault}${fault === 'kill' || fault === 'partition' ? ` ${victim}` : ''} → ${ring.identities.length} replicas`);
      }
      if (back) await ring.join(back);
      // One more kill, timed for a tick: a scheduled Runner's owner dies a second before it, so that the tick falls
      // while no one acts on that Runner, and is run by the replica that takes its slot over.
      const owner = assignSlots(ring.identities)[slotOf((await getRunner(env.ns, timedRunner)).metadata.uid!)]!;
      timedTick = nextMinute(clock.now().getTime() + 5_000 * CLOCK_RATE);
      await new Promise((r) => setTimeout(r, realTimeOf(timedTick) - 1_000 - Date.now()));
      await ring.kill(owner);
      faults.push(`kill ${owner} 1 s before the tick of ${timedRunner}, its owner`);
      // Back only once another replica ran that tick (one started again under the same identity takes its own slots
      // back at once: its member Lease is its own).
      await waitFor(`the tick of ${timedRunner} to run`, () => book!.of(timedRunner).some((job) => Date.parse(tickOf(job) ?? '') === timedTick), 60_000).catch(() => undefined);
      await ring.join(owner);
      return Date.now();
    })();
    const [outcome, lastFaultAt] = await Promise.all([driven, struck]);

    // A tick after the last fault, so that every tick struck by a fault is one the count judges.
    const lastTick = nextMinute(clock.origin + (lastFaultAt - clock.origin) * CLOCK_RATE + 10_000);
    const ranLastTick = () => fleet.scheduledRunners.every((name) => book!.of(name).some((job) => tickOf(job) !== null && Date.parse(tickOf(job)!) === lastTick));
    // Not an exception when it never comes: the count below then says which ticks were missed.
    await waitFor(`every scheduled Runner to run the tick of ${new Date(lastTick).toISOString()}`, ranLastTick, 120_000 + (lastTick - clock.now().getTime()) / CLOCK_RATE).catch(() => undefined);
    const upTo = new Date(lastTick);

    const runners = [
      ...[...outcome.expected.keys()].map((name) => ({ name, scheduled: false })),
      ...fleet.scheduledRunners.map((name) => ({ name, scheduled: true })),
    ];
    const unconverged = await awaitConvergence(env.ns, runners, () => listJobs(env.ns));
    const jobs = await listJobs(env.ns);
    const counts = [...countEventRuns(jobs, outcome.expected), ...countScheduledRuns(jobs, fleet.scheduledRunners, upTo, () => true, firstTick)];
    const sum = totals(counts);
    const timedJob = jobs.find((j) => runnerOfJob(j) === timedRunner && Date.parse(tickOf(j) ?? '') === timedTick);
    recordFigures('sharded-fleet', {
      seed,
      faults,
      timedTickRanAfterS: timedJob ? ((Date.parse(String(timedJob.metadata!.creationTimestamp)) - realTimeOf(timedTick)) / 1000).toFixed(1) : 'never',
      chainsAcrossReplicasAtStart: `${crossing} of ${fleet.chainPairs.length}`,
      runsChecked: sum.jobs,
      runsExpected: sum.expected,
      scheduledTicksChecked: totals(countScheduledRuns(jobs, fleet.scheduledRunners, upTo, () => true, firstTick)).expected,
      duplicates: sum.duplicates,
      missed: sum.missed,
      runnersOff: offCounts(counts),
      unconverged: unconverged.length,
      timing: TIMING,
    });
    expect(outcome.timedOut, 'runs that never started').toEqual([]);
    expect(offCounts(counts), 'Runners with duplicate or missed runs').toEqual([]);
    expect(unconverged, 'Runners whose status does not match their Jobs').toEqual([]);
  }, 3_600_000);
});

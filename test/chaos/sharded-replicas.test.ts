// Replicas that share the Runners (HESTIA_SHARDING), under faults. Three replicas, each reaching the API server
// through a TCP proxy of its own, go through rounds of manual-trigger bursts; part-way through each burst one fault
// strikes: a replica SIGKILLed, one cut off from the API server (it stops at its renew deadline and exits) — each back
// after the round, its Runners run meanwhile by the others —, two more started (3 → 5), two stopped with SIGTERM (5 → 3). Every
// trigger of every Runner runs exactly once: 0 duplicates, 0 missed, and every status matches its Jobs.
import { afterAll, describe, expect, it } from 'vitest';
import { ANNOTATION_TRIGGER } from '../../src/api/runner.ts';
import { createRunner, patchRunner, runnerManifest, waitFor } from '../integration/support/kube.ts';
import { awaitConvergence } from './support/convergence.ts';
import { chaosEnvironment } from './support/environment.ts';
import { bySize, recordFigures } from './support/figures.ts';
import { KEEP_EVERY_JOB } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { chaosSeed, seededRandom } from './support/killer.ts';
import { countEventRuns, offCounts, totals } from './support/ledger.ts';
import { Ring } from './support/ring.ts';

type Fault = 'kill' | 'partition' | 'grow' | 'shrink';

const env = chaosEnvironment('chaos-sharded');
const size = bySize<{ runners: number; faults: Fault[] }>({
  reduced: { runners: 30, faults: ['kill', 'partition', 'grow', 'shrink'] },
  full: { runners: 100, faults: ['kill', 'partition', 'grow', 'kill', 'shrink', 'partition', 'grow', 'shrink', 'kill', 'kill'] },
});
const TIMING = { HESTIA_LEASE_SECONDS: '6', HESTIA_LEASE_RENEW_DEADLINE_SECONDS: '4', HESTIA_LEASE_RETRY_SECONDS: '1' };
const RING = `chaos-sharded-${process.pid}`;

const ring = new Ring(RING, TIMING);
let book: JobBook | undefined;

afterAll(async () => {
  book?.stop();
  await ring.close();
});

describe('replicas that share the Runners, under faults', () => {
  it('run every trigger once through kills, a partition and scaling 3 → 5 → 3', async () => {
    const seed = chaosSeed();
    const random = seededRandom(seed);
    const names = Array.from({ length: size.runners }, (_, i) => `shard-${i}`);
    for (const name of names) await createRunner(runnerManifest(env.ns, name, KEEP_EVERY_JOB));
    book = new JobBook(env.ns);
    await book.start();
    for (const id of ['replica-a', 'replica-b', 'replica-c']) await ring.join(id);
    for (const name of names) expect(await book.reach(name, 1, 120_000), `first run of ${name}`).toBe(true);

    const rounds: { fault: Fault; replicas: string[]; allRanSeconds: number }[] = [];
    let newcomers = 0;
    for (const [index, fault] of size.faults.entries()) {
      const round = index + 1;
      const before = book.count();
      const burst = (async () => {
        for (const name of names) {
          await patchRunner(env.ns, name, { metadata: { annotations: { [ANNOTATION_TRIGGER]: `round-${round}` } } });
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await waitFor('a few Jobs of the burst', () => book!.count() - before >= 1 + Math.floor(random() * (size.runners / 3)), 120_000);
      const ids = ring.identities;
      const victim = ids[Math.floor(random() * ids.length)]!;
      const struckAt = Date.now();
      // A killed or cut-off replica comes back only after the round: the others take its Runners once its member
      // Lease has expired.
      let back: string | undefined;
      if (fault === 'kill') {
        await ring.kill(victim);
        back = victim;
      } else if (fault === 'partition') {
        expect(await ring.partition(victim), `${victim} exits when it cannot renew its member Lease`).toBe(1);
        back = victim;
      } else if (fault === 'grow') {
        for (let i = 0; i < 2; i++) await ring.join(`replica-new-${++newcomers}`);
      } else {
        await ring.terminate(ids.filter((id) => id !== victim).slice(0, 2));
      }
      await burst;
      for (const name of names) expect(await book.reach(name, round + 1, 120_000), `run of ${name} in round ${round} (${fault})`).toBe(true);
      rounds.push({ fault, replicas: ring.identities, allRanSeconds: (Date.now() - struckAt) / 1000 });
      if (back) await ring.join(back);
    }

    const expected = new Map(names.map((n) => [n, size.faults.length + 1]));
    const unconverged = await awaitConvergence(env.ns, names.map((name) => ({ name, scheduled: false })), () => listJobs(env.ns));
    const counts = countEventRuns(await listJobs(env.ns), expected);
    const sum = totals(counts);
    recordFigures('sharded-replicas', {
      seed,
      rounds: rounds.map((r) => `${r.fault} → ${r.replicas.length} replicas, all of the burst ran ${r.allRanSeconds.toFixed(1)} s after`),
      runsChecked: sum.jobs,
      runsExpected: sum.expected,
      duplicates: sum.duplicates,
      missed: sum.missed,
      runnersOff: offCounts(counts),
      unconverged: unconverged.length,
      timing: TIMING,
    });
    expect(offCounts(counts), 'Runners with duplicate or missed runs').toEqual([]);
    // A dead or cut-off replica's Runners ran within the member Lease's duration and 5 s (and the burst's own length).
    for (const r of rounds.filter((r) => r.fault === 'kill' || r.fault === 'partition')) expect(r.allRanSeconds, r.fault).toBeLessThan(6 + 5 + size.runners * 0.1);
    expect(unconverged, 'Runners whose status does not match their Jobs').toEqual([]);
  }, 1_800_000);
});

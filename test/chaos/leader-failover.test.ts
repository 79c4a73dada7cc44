// SPEC §6, issue 15: two operator processes with leader election; the leader is SIGKILLed during a
// burst of manual triggers. The standby takes the Lease and acts within 15 s of the kill, and every
// trigger of the burst runs exactly once.
//
// Takeover after a SIGKILL can take up to the lease duration plus one retry period after the last
// renewal (the dead leader cannot release its Lease). With the shipped 15 s / 10 s / 2 s that is up
// to 17 s; this test runs the documented knobs at 10 s / 7 s / 1 s, where the bound is 11 s.
import { afterAll, describe, expect, it } from 'vitest';
import { ANNOTATION_TRIGGER } from '../../src/api/runner.ts';
import { createRunner, patchRunner, runnerManifest, waitFor } from '../integration/support/kube.ts';
import { awaitConvergence } from './support/convergence.ts';
import { chaosEnvironment } from './support/environment.ts';
import { bySize, recordFigures } from './support/figures.ts';
import { KEEP_EVERY_JOB } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { chaosSeed, seededRandom } from './support/killer.ts';
import { firstWriteSince, leaseHolder, readLease, timeOf } from './support/lease.ts';
import { countEventRuns, offCounts, totals } from './support/ledger.ts';
import { leaderElectionEnv, OperatorProcess } from './support/operator-process.ts';

const env = chaosEnvironment('chaos-failover');
const size = bySize({ reduced: { rounds: 1, runners: 20 }, full: { rounds: 5, runners: 50 } });
const TIMING = { HESTIA_LEASE_SECONDS: '10', HESTIA_LEASE_RENEW_DEADLINE_SECONDS: '7', HESTIA_LEASE_RETRY_SECONDS: '1' };
const LEASE = `chaos-failover-${process.pid}`;
const TAKEOVER_LIMIT_MS = 15_000;

const replicas = new Map<string, OperatorProcess>();
let book: JobBook | undefined;

afterAll(async () => {
  book?.stop();
  for (const r of replicas.values()) await r.close();
});

function replica(identity: string): OperatorProcess {
  const existing = replicas.get(identity);
  if (existing) return existing;
  const created = new OperatorProcess({ name: `failover-${identity}`, kubeconfig: env.kubeconfig, env: leaderElectionEnv(identity, LEASE, TIMING) });
  replicas.set(identity, created);
  return created;
}

describe('leader failover during a burst of triggers', () => {
  it('the standby takes over within 15 s of the SIGKILL; 0 duplicates, 0 missed', async () => {
    const random = seededRandom(chaosSeed());
    const names = Array.from({ length: size.runners }, (_, i) => `burst-${i}`);
    for (const name of names) await createRunner(runnerManifest(env.ns, name, KEEP_EVERY_JOB));
    book = new JobBook(env.ns);
    await book.start();

    await replica('replica-a').start();
    await waitFor('replica-a to lead', async () => (await leaseHolder(LEASE)) === 'replica-a');
    await replica('replica-b').start();
    for (const name of names) expect(await book.reach(name, 1, 120_000), `first run of ${name}`).toBe(true);

    const rounds: { killedAt: number; killed: string; takeoverMs: number; firstWriteMs: number; jobsBeforeKill: number }[] = [];
    for (let round = 1; round <= size.rounds; round++) {
      const leader = (await leaseHolder(LEASE))!;
      const standby = leader === 'replica-a' ? 'replica-b' : 'replica-a';
      // Both alive, the leader acting: otherwise there is nothing to fail over.
      expect(replica(leader).running && (await replica(leader).ready()), `${leader} leads and acts`).toBe(true);
      expect(replica(standby).running, `${standby} stands by`).toBe(true);
      const before = book.count();
      // The burst: one new trigger value per Runner, 100 ms apart; the leader dies part-way through.
      const burst = (async () => {
        for (const name of names) {
          await patchRunner(env.ns, name, { metadata: { annotations: { [ANNOTATION_TRIGGER]: `round-${round}` } } });
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const killAfter = 1 + Math.floor(random() * (size.runners / 2));
      await waitFor(`${killAfter} Jobs of the burst`, () => book!.count() - before >= killAfter, 120_000);
      const killedAt = Date.now();
      const jobsBeforeKill = book.count() - before;
      await replica(leader).kill();
      await burst;

      await waitFor(`${standby} to take the Lease`, async () => (await leaseHolder(LEASE)) === standby, 60_000);
      const acquiredAt = timeOf((await readLease(LEASE))?.spec?.acquireTime);
      for (const name of names) expect(await book.reach(name, round + 1, 120_000), `run of ${name} in round ${round}`).toBe(true);
      // The new leader's first write (a request of the dead one still in flight could land after the kill).
      const firstWriteMs = firstWriteSince(acquiredAt, env.ns) - killedAt;
      rounds.push({ killedAt, killed: leader, takeoverMs: acquiredAt - killedAt, firstWriteMs, jobsBeforeKill });
      // The dead replica comes back as the standby of the next round.
      await replica(leader).start();
    }

    const expected = new Map(names.map((n) => [n, size.rounds + 1]));
    const unconverged = await awaitConvergence(env.ns, names.map((name) => ({ name, scheduled: false })), () => listJobs(env.ns));
    const counts = countEventRuns(await listJobs(env.ns), expected);
    const sum = totals(counts);
    recordFigures('leader-failover', {
      failovers: rounds.length,
      runsChecked: sum.jobs,
      runsExpected: sum.expected,
      duplicates: sum.duplicates,
      missed: sum.missed,
      runnersOff: offCounts(counts),
      takeoverSeconds: rounds.map((r) => r.takeoverMs / 1000),
      firstWriteAfterKillSeconds: rounds.map((r) => r.firstWriteMs / 1000),
      burstJobsBeforeKill: rounds.map((r) => r.jobsBeforeKill),
      unconverged: unconverged.length,
      timing: TIMING,
    });

    expect(offCounts(counts), 'Runners with duplicate or missed runs').toEqual([]);
    for (const r of rounds) {
      expect(r.takeoverMs, `takeover after killing ${r.killed}`).toBeLessThanOrEqual(TAKEOVER_LIMIT_MS);
      expect(r.firstWriteMs, `first write of the new leader after killing ${r.killed}`).toBeLessThanOrEqual(TAKEOVER_LIMIT_MS);
    }
    expect(unconverged, 'Runners whose status does not match their Jobs').toEqual([]);
  }, 1_800_000);
});

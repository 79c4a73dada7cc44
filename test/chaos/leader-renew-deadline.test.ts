// Issue 15: two leaders never act at once. The leader reaches the API server through a TCP proxy
// that the test turns into a network partition (every request hangs; nothing fails fast). With the
// shipped timing (lease 15 s, renew deadline 10 s, retry 2 s) it must stop acting 10 s after its last
// renewal — before its Lease can expire, 15 s after it — and the standby may act only after that.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ANNOTATION_TRIGGER } from '../../src/api/runner.ts';
import { operatorKubeConfig } from '../integration/support/identity.ts';
import { createRunner, patchRunner, runnerManifest, waitFor } from '../integration/support/kube.ts';
import { apiServerAddress } from './support/control-plane.ts';
import { chaosEnvironment } from './support/environment.ts';
import { recordFigures } from './support/figures.ts';
import { KEEP_EVERY_JOB } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { firstWriteSince, leaseHolder, readLease, timeOf } from './support/lease.ts';
import { countEventRuns, offCounts } from './support/ledger.ts';
import { kubeconfigFile, leaderElectionEnv, OperatorProcess } from './support/operator-process.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

const env = chaosEnvironment('chaos-renew');
const LEASE = `chaos-renew-${process.pid}`;
const RENEW_DEADLINE_MS = 10_000;
const LEASE_MS = 15_000;

let proxy: TcpProxy | undefined;
let book: JobBook | undefined;
const replicas: OperatorProcess[] = [];

afterAll(async () => {
  book?.stop();
  for (const r of replicas) await r.close();
  await proxy?.close();
});

describe('a leader cut off from the API server', () => {
  it('stops acting at its renew deadline, before its Lease expires and before the standby acts', async () => {
    proxy = await TcpProxy.start(apiServerAddress());
    const behindProxy = kubeconfigFile(await operatorKubeConfig(), 'renew-behind-proxy', proxy.url);
    const a = new OperatorProcess({ name: 'renew-replica-a', kubeconfig: behindProxy, env: leaderElectionEnv('replica-a', LEASE) });
    const b = new OperatorProcess({ name: 'renew-replica-b', kubeconfig: env.kubeconfig, env: leaderElectionEnv('replica-b', LEASE) });
    replicas.push(a, b);
    book = new JobBook(env.ns);
    await book.start();

    await a.start();
    await waitFor('replica-a to lead', async () => (await leaseHolder(LEASE)) === 'replica-a' && (await a.ready()));
    await b.start();
    await createRunner(runnerManifest(env.ns, 'before', KEEP_EVERY_JOB));
    expect(await book.reach('before', 1, 60_000), 'the leader acts: first run of "before"').toBe(true);

    proxy.partition();
    const cutAt = proxy.partitionedAt!;
    // Nothing of replica-a reaches the API server from now on, so this is its last renewal.
    const lastRenewal = timeOf((await readLease(LEASE))?.spec?.renewTime);
    // Work for whoever leads next: a manual trigger and a new Runner.
    await patchRunner(env.ns, 'before', { metadata: { annotations: { [ANNOTATION_TRIGGER]: 'during-partition' } } });
    await createRunner(runnerManifest(env.ns, 'during', KEEP_EVERY_JOB));

    const exitCode = await a.exit();
    const stoppedAt = a.exits.at(-1)!.at;
    await waitFor('replica-b to take the Lease', async () => (await leaseHolder(LEASE)) === 'replica-b', 60_000);
    const acquiredAt = timeOf((await readLease(LEASE))?.spec?.acquireTime);
    expect(await book.reach('before', 2, 60_000), 'the triggered run of "before"').toBe(true);
    expect(await book.reach('during', 1, 60_000), 'the first run of "during"').toBe(true);
    // Every write received after the cut (and a request already on the wire) is replica-b's:
    // replica-a's requests hang in the proxy.
    const firstWriteAt = firstWriteSince(cutAt + 500, env.ns);
    const counts = countEventRuns(await listJobs(env.ns), new Map([['before', 2], ['during', 1]]));

    recordFigures('leader-renew-deadline', {
      oldLeaderStoppedAfterLastRenewalSeconds: (stoppedAt - lastRenewal) / 1000,
      newLeaderAcquiredAfterLastRenewalSeconds: (acquiredAt - lastRenewal) / 1000,
      newLeaderFirstWriteAfterLastRenewalSeconds: (firstWriteAt - lastRenewal) / 1000,
      gapBetweenOldStopAndNewLeaderSeconds: (acquiredAt - stoppedAt) / 1000,
      runsChecked: counts.reduce((n, c) => n + c.jobs, 0),
      duplicates: counts.reduce((n, c) => n + c.duplicates, 0),
      missed: counts.reduce((n, c) => n + c.missed, 0),
    });

    expect(exitCode, 'replica-a exits when it cannot renew').toBe(1);
    expect(readFileSync(a.logFile, 'utf8')).toMatch(/"why":"not renewed for 10 s \(renew deadline\)","msg":"lost the Lease; stopping"/);
    // It stopped at its renew deadline (timer granularity and process exit add a little; a renewal
    // whose answer the partition swallowed may have landed, making the last renewal seem later)...
    expect(stoppedAt - lastRenewal).toBeLessThan(RENEW_DEADLINE_MS + 2_000);
    // ...the Lease could be taken only once it expired...
    expect(acquiredAt - lastRenewal).toBeGreaterThanOrEqual(LEASE_MS);
    // ...so the old leader had stopped before the new one held the Lease, let alone acted.
    expect(stoppedAt).toBeLessThan(acquiredAt);
    expect(firstWriteAt).toBeGreaterThanOrEqual(acquiredAt);
    expect(offCounts(counts), 'duplicate or missed runs').toEqual([]);
  }, 240_000);
});

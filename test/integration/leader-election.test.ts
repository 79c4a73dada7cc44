// Operator processes with leader election: one acts; when it dies, another takes over; when it is
// stopped (SIGTERM, a rolling update) it hands the Lease over at once, never one another holds;
// and a replica whose wall clock is off never takes a Lease that its holder keeps renewing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorKubeConfig, OPERATOR_NAMESPACE } from './support/identity.ts';
import { createNamespace, createRunner, deleteNamespace, installCrd, jobsOf, kc, runnerManifest, stays, waitFor, waitForRunner } from './support/kube.ts';
import { operatorEntry } from './support/operator-entry.ts';

let ns: string;
let kubeconfigFile: string;
const replicas: Replica[] = [];
const coordination = kc.makeApiClient(CoordinationV1Api);

interface Replica {
  proc: ChildProcess;
  /** Its log so far (JSON lines, info and above). */
  output(): string;
  /** Resolves with its exit code once it has exited. */
  exited: Promise<number | null>;
}

interface ReplicaOptions {
  /** Leader-election timing (HESTIA_LEASE_*); the lease is 6 s unless given. */
  timing?: Record<string, string>;
  /** Runs the process's wall clock this many milliseconds ahead (a machine whose clock is off). */
  wallClockSkewMs?: number;
}

function startReplica(identity: string, lease: string, options: ReplicaOptions = {}): Replica {
  const skew = options.wallClockSkewMs ? ['--import', './test/integration/support/skewed-wall-clock.ts'] : [];
  const proc = spawn(process.execPath, [...skew, operatorEntry()], {
    env: {
      ...process.env, KUBECONFIG: kubeconfigFile, HESTIA_HEALTH_PORT: '0', HESTIA_METRICS_PORT: '0', HESTIA_LOG_LEVEL: 'info',
      HESTIA_LEADER_ELECTION: 'true', POD_NAMESPACE: OPERATOR_NAMESPACE, POD_NAME: identity, HESTIA_LEASE_NAME: lease,
      ...(options.timing ?? { HESTIA_LEASE_SECONDS: '6' }),
      ...(options.wallClockSkewMs ? { HESTIA_TEST_WALL_CLOCK_SKEW_MS: String(options.wallClockSkewMs) } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const replica = { proc, output: () => output, exited };
  replicas.push(replica);
  return replica;
}

const readLease = (name: string) => coordination.readNamespacedLease({ namespace: OPERATOR_NAMESPACE, name });
const holderOf = async (name: string) => (await readLease(name)).spec?.holderIdentity;

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('leader');
  kubeconfigFile = join(mkdtempSync(join(tmpdir(), 'hestia-leader-')), 'kubeconfig');
  writeFileSync(kubeconfigFile, (await operatorKubeConfig()).exportConfig());
});

afterAll(async () => {
  for (const r of replicas) r.proc.kill('SIGKILL');
  await deleteNamespace(ns);
});

describe('leader election', () => {
  it('lets one of two replicas act, and the other take over when it dies', async () => {
    const lease = `hestia-test-${process.pid}`;
    const a = startReplica('replica-a', lease);
    await waitFor('replica-a to hold the Lease', async () => (await holderOf(lease)) === 'replica-a');
    startReplica('replica-b', lease);
    await createRunner(runnerManifest(ns, 'first', {}));
    await waitForRunner(ns, 'first', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    expect(await jobsOf(ns, 'first')).toHaveLength(1);
    expect(await holderOf(lease)).toBe('replica-a');

    a.proc.kill('SIGKILL');
    await waitFor('replica-b to take the Lease', async () => (await holderOf(lease)) === 'replica-b', 30_000);
    await createRunner(runnerManifest(ns, 'second', {}));
    await waitForRunner(ns, 'second', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    expect(await jobsOf(ns, 'first')).toHaveLength(1);
  }, 90_000);

  it('never lets a replica whose clock runs 10 s ahead take the Lease its holder keeps renewing; it still takes over when the holder dies', async () => {
    // 10 s is more than the 6 s lease: by that replica's clock, every renewTime the holder writes
    // looks expired already. Only when it saw the record change, on its own clock, may count.
    const lease = `hestia-skew-${process.pid}`;
    const a = startReplica('replica-a', lease);
    await waitFor('replica-a to hold the Lease', async () => (await holderOf(lease)) === 'replica-a');
    const b = startReplica('replica-b', lease, { wallClockSkewMs: 10_000 });
    await waitFor('replica-b to wait for the Lease', () => b.output().includes('waiting to become leader'));

    // Three lease durations of replica-b's retries (every 0.8 s): one leader throughout.
    await stays('another replica holds the Lease', async () => (await holderOf(lease)) !== 'replica-a', 18_000);
    expect(a.output()).not.toContain('lost the Lease');
    expect(a.proc.exitCode).toBeNull();

    a.proc.kill('SIGKILL');
    await waitFor('replica-b to take the Lease', async () => (await holderOf(lease)) === 'replica-b', 30_000);
  }, 90_000);

  it('hands the Lease over on SIGTERM at the standby’s next retry, not a lease duration later', async () => {
    // Lease 10 s, renew deadline 7 s, retry 1 s: without a release the standby waits ~10 s.
    const timing = { HESTIA_LEASE_SECONDS: '10', HESTIA_LEASE_RENEW_DEADLINE_SECONDS: '7', HESTIA_LEASE_RETRY_SECONDS: '1' };
    const lease = `hestia-handover-${process.pid}`;
    const a = startReplica('replica-a', lease, { timing });
    await waitFor('replica-a to hold the Lease', async () => (await holderOf(lease)) === 'replica-a');
    const b = startReplica('replica-b', lease, { timing });
    await waitFor('replica-b to wait for the Lease', () => b.output().includes('waiting to become leader'));
    const transitionsBefore = (await readLease(lease)).spec?.leaseTransitions ?? 0;

    const terminatedAt = Date.now();
    a.proc.kill('SIGTERM');
    const exitCode = await a.exited;
    await waitFor('replica-b to take the Lease', async () => (await holderOf(lease)) === 'replica-b', 30_000);
    const taken = (await readLease(lease)).spec!;
    const handOverMs = new Date(taken.acquireTime as unknown as string).getTime() - terminatedAt;
    console.log(`leader hand-over after SIGTERM: ${(handOverMs / 1000).toFixed(2)} s (lease 10 s, retry 1 s)`);

    expect(exitCode, 'replica-a stops cleanly').toBe(0);
    expect(a.output()).toContain('released the Lease');
    // One retry period, plus the old leader's stop and the new one's write.
    expect(handOverMs).toBeLessThan(1_000 + 1_500);
    expect(taken.leaseTransitions).toBe(transitionsBefore + 1);
  }, 90_000);

  it('never clears the Lease on SIGTERM once another holds it', async () => {
    // Retry 3 s: replica-a is stopped right after a renewal, so it cannot notice the rival by renewing.
    const timing = { HESTIA_LEASE_SECONDS: '10', HESTIA_LEASE_RENEW_DEADLINE_SECONDS: '7', HESTIA_LEASE_RETRY_SECONDS: '3' };
    const lease = `hestia-rival-${process.pid}`;
    const a = startReplica('replica-a', lease, { timing });
    await waitFor('replica-a to hold the Lease', async () => (await holderOf(lease)) === 'replica-a');
    const first = (await readLease(lease)).spec?.renewTime;
    const renewed = await waitFor('a renewal by replica-a', async () => {
      const l = await readLease(lease);
      return String(l.spec?.renewTime) !== String(first) && l;
    });
    // A rival holds the Lease now (as one that saw it expire would), with the resourceVersion just read.
    await coordination.replaceNamespacedLease({ namespace: OPERATOR_NAMESPACE, name: lease, body: { ...renewed, spec: { ...renewed.spec, holderIdentity: 'rival', leaseDurationSeconds: 60 } } });

    a.proc.kill('SIGTERM');
    expect(await a.exited, 'replica-a stops cleanly').toBe(0);
    expect(a.output()).toContain('did not release the Lease');
    expect(await holderOf(lease)).toBe('rival');
  }, 60_000);
});

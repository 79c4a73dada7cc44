// Operator replicas that share the Runners (HESTIA_SHARDING=true, src/shard/): each runs the Runners of its own
// slots, every Runner runs once, and when a replica is killed, joins or is stopped, its Runners go on at another
// without running again — checked on the Jobs the API server holds and on which replica's log created each.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { KubeClient } from '../../src/k8s/client.ts';
import { connectionOf } from '../../src/k8s/kubeconfig.ts';
import { slotJobsSelectors } from '../../src/runner/job.ts';
import { assignSlots, slotOf, uidShardSelectors, viewKey } from '../../src/shard/ring.ts';
import { requestsBy } from './support/audit.ts';
import { hestiaIn } from './support/cli.ts';
import { operatorKubeConfig, OPERATOR_NAMESPACE, OPERATOR_USER } from './support/identity.ts';
import { batch, createNamespace, createRunner, deleteNamespace, getRunner, installCrd, jobsOf, kc, patchRunner, runnerManifest, waitFor } from './support/kube.ts';
import { operatorEntry } from './support/operator-entry.ts';

const TIMING = { HESTIA_LEASE_SECONDS: '4', HESTIA_LEASE_RENEW_DEADLINE_SECONDS: '2.5', HESTIA_LEASE_RETRY_SECONDS: '0.5' };
const ring = `hestia-shard-${process.pid}`;
const coordination = kc.makeApiClient(CoordinationV1Api);

let ns: string;
let kubeconfigFile: string;
const replicas = new Map<string, Replica>();

interface Replica {
  proc: ChildProcess;
  /** Its /metrics port. */
  port: number;
  /** Its log so far, one JSON object a line. */
  lines(): { msg?: string; runner?: string; view?: string }[];
  exited: Promise<number | null>;
}

const freePort = () => new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const p = (server.address() as { port: number }).port;
    server.close(() => resolve(p));
  });
});

/** A metric's value on a replica's /metrics (0 when absent), e.g. `hestia_shard_slots` or `x{direction="in"}`. */
async function metric(replica: Replica, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${replica.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function startReplica(identity: string): Promise<Replica> {
  const port = await freePort();
  const proc = spawn(process.execPath, [operatorEntry()], {
    env: {
      ...process.env, KUBECONFIG: kubeconfigFile, HESTIA_HEALTH_PORT: '0', HESTIA_METRICS_PORT: String(port), HESTIA_LOG_LEVEL: 'info',
      HESTIA_SHARDING: 'true', POD_NAMESPACE: OPERATOR_NAMESPACE, POD_NAME: identity, HESTIA_LEASE_NAME: ring, ...TIMING,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const replica: Replica = { proc, port, exited, lines: () => output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as never) };
  replicas.set(identity, replica);
  return replica;
}

/** Every member Lease of the ring says it acts on exactly these members. */
async function viewsAre(members: string[]): Promise<boolean> {
  const leases = await coordination.listNamespacedLease({ namespace: OPERATOR_NAMESPACE, labelSelector: `hestia.stakater.com/member-of=${ring}` });
  const live = leases.items.filter((l) => members.includes(l.spec?.holderIdentity ?? ''));
  return live.length === members.length && live.every((l) => l.metadata?.annotations?.['hestia.stakater.com/view'] === viewKey(members));
}

/** Which replica's log says it created the Job of each Runner (runner key → replicas). */
function creators(): Map<string, string[]> {
  const byRunner = new Map<string, string[]>();
  for (const [identity, r] of replicas) {
    for (const line of r.lines()) if (line.msg === 'created Job' && line.runner) byRunner.set(line.runner, [...(byRunner.get(line.runner) ?? []), identity]);
  }
  return byRunner;
}

/** `count` new Runners named `prefix-i` (`spec` and `labels` of each by its index); resolves with their uids once each has succeeded. */
async function runnersThatRun(prefix: string, count: number, spec: (i: number) => object = () => ({}), labels: (i: number) => Record<string, string> = () => ({})): Promise<Map<string, string>> {
  const uids = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const created = await createRunner(runnerManifest(ns, `${prefix}-${i}`, spec(i), labels(i)));
    uids.set(`${ns}/${prefix}-${i}`, created.metadata.uid!);
  }
  await waitFor(`the ${prefix} Runners to succeed`, async () => {
    for (const key of uids.keys()) if ((await getRunner(ns, key.split('/')[1]!)).status?.state !== 'Succeeded') return false;
    return true;
  }, 60_000);
  return uids;
}

async function jobCounts(keys: Iterable<string>): Promise<number[]> {
  return Promise.all([...keys].map(async (key) => (await jobsOf(ns, key.split('/')[1]!)).length));
}

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('sharding');
  kubeconfigFile = join(mkdtempSync(join(tmpdir(), 'hestia-sharding-')), 'kubeconfig');
  writeFileSync(kubeconfigFile, (await operatorKubeConfig()).exportConfig());
});

afterAll(async () => {
  for (const r of replicas.values()) r.proc.kill('SIGKILL');
  await deleteNamespace(ns);
});

describe('replicas that share the Runners', () => {
  it('run each Runner at the replica the ring gives it, once, through a kill, a join and a stop', async () => {
    for (const id of ['replica-a', 'replica-b', 'replica-c']) await startReplica(id);
    await waitFor('three replicas to act on one view', () => viewsAre(['replica-a', 'replica-b', 'replica-c']), 30_000);

    // Each Runner's Job is created by the replica that owns its slot, and by no other.
    const first = await runnersThatRun('first', 24);
    const owners = assignSlots(['replica-a', 'replica-b', 'replica-c']);
    const made = creators();
    for (const [key, uid] of first) expect(made.get(key), key).toEqual([owners[slotOf(uid)]]);
    expect(new Set([...first.values()].map((uid) => owners[slotOf(uid)])).size).toBeGreaterThan(1);
    // `hestia describe` says which replica acts on a Runner, from its uid and the member Leases.
    const [someKey, someUid] = [...first][0]!;
    const described = await hestiaIn(ns, 'describe', someKey.split('/')[1]!);
    expect(described.stdout).toContain(`  Replica:   ${owners[slotOf(someUid)]} (slot ${slotOf(someUid)}, one of 3 replicas of ${ring})\n`);

    // Chains: a downstream reacts to its upstream's verdict through the watch of Runners, whichever replica wrote it —
    // from the upstream's status write (the API server's audit log) to the downstream's start (its status).
    const ups = await runnersThatRun('up', 24, () => ({}), (i) => ({ chain: `c${i}` }));
    const downs = await runnersThatRun('down', 24, (i) => ({ runnerSelector: { matchLabels: { chain: `c${i}` } } }));
    // Each upstream run again by hand: its downstream runs a second time, after it.
    const chainsFrom = new Date();
    for (let i = 0; i < 24; i++) await patchRunner(ns, `up-${i}`, { metadata: { annotations: { 'runner.stakater.com/trigger': 'again' } } });
    await waitFor('every downstream to run again', async () => (await jobCounts(downs.keys())).every((n) => n === 2), 60_000);
    await waitFor('every downstream to succeed again', async () => {
      for (const key of downs.keys()) if ((await getRunner(ns, key.split('/')[1]!)).status?.state !== 'Succeeded') return false;
      return true;
    });
    const writes = requestsBy(OPERATOR_USER, chainsFrom, ns).filter((e) => e.verb === 'patch' && e.objectRef?.subresource === 'status');
    const delays = { same: [] as number[], cross: [] as number[] };
    for (let i = 0; i < 24; i++) {
      const started = new Date((await getRunner(ns, `down-${i}`)).status!.lastRun!.startTime).getTime();
      // Received, not answered: the watch may tell the downstream's replica of a write before its answer is complete.
      const verdict = writes.filter((e) => e.objectRef?.name === `up-${i}` && new Date(e.requestReceivedTimestamp).getTime() <= started).at(-1)!;
      const same = owners[slotOf(ups.get(`${ns}/up-${i}`)!)] === owners[slotOf(downs.get(`${ns}/down-${i}`)!)];
      delays[same ? 'same' : 'cross'].push(started - new Date(verdict.requestReceivedTimestamp).getTime());
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    console.log(`sharding: upstream verdict to downstream start, median ${median(delays.same)} ms on one replica (${delays.same.length}), ${median(delays.cross)} ms across replicas (${delays.cross.length})`);
    expect(delays.cross.length).toBeGreaterThan(0);
    // No polling behind it: every downstream started within half a second of its upstream's verdict.
    for (const ms of [...delays.same, ...delays.cross]) expect(ms).toBeLessThan(500);

    // Killed: its member Lease expires (4 s), and the others take its Runners — new ones run, old ones do not run again.
    const b = replicas.get('replica-b')!;
    b.proc.kill('SIGKILL');
    await b.exited;
    const killedAt = Date.now();
    const second = await runnersThatRun('second', 24);
    await waitFor('two replicas to act on one view', () => viewsAre(['replica-a', 'replica-c']), 30_000);
    const tookOverIn = Date.now() - killedAt;
    console.log(`sharding: a killed replica's Runners ran again at the others ${(tookOverIn / 1000).toFixed(1)} s after the kill (member Lease 4 s)`);
    expect(tookOverIn).toBeLessThan(4_000 + 10_000);
    const afterKill = assignSlots(['replica-a', 'replica-c']);
    const madeAfterKill = creators();
    for (const [key, uid] of second) expect(madeAfterKill.get(key), key).toEqual([afterKill[slotOf(uid)]]);
    expect(await jobCounts(first.keys())).toEqual([...first.keys()].map(() => 1));

    // A replica joins: it takes about a third, and what it takes does not run again.
    const d = await startReplica('replica-d');
    await waitFor('three replicas to act on one view', () => viewsAre(['replica-a', 'replica-c', 'replica-d']), 30_000);
    const third = await runnersThatRun('third', 24);
    const withD = assignSlots(['replica-a', 'replica-c', 'replica-d']);
    const madeWithD = creators();
    for (const [key, uid] of third) expect(madeWithD.get(key), key).toEqual([withD[slotOf(uid)]]);

    // Stopped (SIGTERM): it writes what it has, gives its member Lease up, and the others take over at once.
    const a = replicas.get('replica-a')!;
    const stoppedAt = Date.now();
    a.proc.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(a.lines().some((l) => l.msg === 'left the ring: member Lease deleted')).toBe(true);
    await waitFor('two replicas to act on one view', () => viewsAre(['replica-c', 'replica-d']), 30_000);
    expect(Date.now() - stoppedAt).toBeLessThan(4_000);
    const fourth = await runnersThatRun('fourth', 12);
    for (const key of fourth.keys()) expect(creators().get(key)?.length, key).toBe(1);

    // Through all of it: one Job per Runner.
    const all = [...first.keys(), ...second.keys(), ...third.keys(), ...fourth.keys()];
    expect(await jobCounts(all)).toEqual(all.map(() => 1));
    expect(await jobCounts([...ups.keys(), ...downs.keys()])).toEqual([...ups.keys(), ...downs.keys()].map(() => 2));

    // Each replica's /metrics: the slots and Runners it holds add up, and the newcomer counts what it took.
    const live = [replicas.get('replica-c')!, d];
    const slots = await Promise.all(live.map((r) => metric(r, 'hestia_shard_slots')));
    expect(slots[0]! + slots[1]!).toBe(1024);
    await waitFor('the two replicas to act on every Runner', async () => (await Promise.all(live.map((r) => metric(r, 'hestia_owned_runners')))).reduce((a, b) => a + b, 0) === all.length + 48);
    expect(await metric(d, 'hestia_shard_slots_moved_total{direction="in"}')).toBeGreaterThan(0);
    expect(await metric(d, 'hestia_shard_handover_seconds_count{step="in"}')).toBeGreaterThan(0);
  }, 180_000);

  it("has the API server select a slot's Jobs by their label, and its Runners by their uid where it narrows a LIST by shard", async () => {
    // The replicas the test before left running, or one of its own.
    if ([...replicas.values()].every((r) => r.proc.exitCode !== null || r.proc.signalCode !== null)) await startReplica('replica-e');
    const made = await runnersThatRun('slots', 30);
    const slotOfRunner = new Map([...made].map(([key, uid]) => [key.split('/')[1]!, slotOf(uid)]));
    const jobs = (await batch.listNamespacedJob({ namespace: ns, labelSelector: 'runner.stakater.com/name' })).items.filter((j) => slotOfRunner.has(j.metadata!.labels!['runner.stakater.com/name']!));
    expect(jobs).toHaveLength(30);
    for (const job of jobs) expect(job.metadata!.labels!['runner.stakater.com/slot']).toBe(String(slotOfRunner.get(job.metadata!.labels!['runner.stakater.com/name']!)));

    // Half of them by their slots: the Jobs by label, the Runners by KEP-5866's shardSelector over their uid.
    const chosen = new Set([...slotOfRunner.values()].slice(0, 15));
    const expected = [...slotOfRunner].filter(([, slot]) => chosen.has(slot)).map(([name]) => name).sort();
    const [unlabelled, ...bySlot] = slotJobsSelectors(chosen);
    const listedJobs = (await Promise.all(bySlot.map((labelSelector) => batch.listNamespacedJob({ namespace: ns, labelSelector })))).flatMap((l) => l.items);
    // The namespace holds the test before's Runners too, some of them in these slots.
    const ofSlotRunners = (names: string[]) => names.filter((name) => slotOfRunner.has(name)).sort();
    expect(ofSlotRunners(listedJobs.map((j) => j.metadata!.labels!['runner.stakater.com/name']!))).toEqual(expected);
    expect(listedJobs.every((j) => chosen.has(Number(j.metadata!.labels!['runner.stakater.com/slot'])))).toBe(true);
    expect((await batch.listNamespacedJob({ namespace: ns, labelSelector: `runner.stakater.com/name,${unlabelled}` })).items).toEqual([]);
    const client = new KubeClient(await connectionOf(kc));
    const runners: string[] = [];
    for (const shardSelector of uidShardSelectors(chosen)) {
      // The list of a custom resource carries no shardInfo (Kubernetes 1.36): that it was narrowed shows in its items,
      // of the namespace's 180 Runners only those of these slots (the test control plane enables ShardedListAndWatch).
      const list = await client.get<{ items: Runner[] }>(`/apis/e2e.stakater.com/v1alpha1/namespaces/${ns}/runners`, { shardSelector });
      runners.push(...list.items.map((r) => r.metadata.name!));
      expect(list.items.every((r) => chosen.has(slotOf(r.metadata.uid!)))).toBe(true);
    }
    expect(ofSlotRunners(runners)).toEqual(expected);
  }, 120_000);
});


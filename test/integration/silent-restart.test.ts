// SPEC §6, §9: restarts and leader hand-overs write nothing that did not change. Fifty Runners in
// every resting state (and two running), the operator killed with SIGKILL and started again, then
// two replicas with the leader killed: from the API server's audit log, the new operator sends no
// status write, no Job, no Event — and every Runner keeps its resourceVersion, so its status is
// byte-identical.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { notLease, requestsBy, summarise, waitUntilQuiet, writes } from './support/audit.ts';
import { gate, type Gate } from './support/gate.ts';
import { OPERATOR_USER } from './support/identity.ts';
import {
  createDeployment, createNamespace, createRunner, custom, deleteNamespace, ENABLE, installCrd, runnerManifest, waitFor,
} from './support/kube.ts';
import { startOperatorProcess, type OperatorProcess } from './support/operator-process.ts';
import { GROUP, PLURAL, VERSION } from '../../src/api/runner.ts';

let ns: string;
let running: Gate;
const processes: OperatorProcess[] = [];

/** The resting state each Runner must reach before the restart. */
const expected = new Map<string, string>();

async function listRunners(): Promise<Runner[]> {
  const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })) as { items: Runner[] };
  return list.items;
}

async function settled(): Promise<Runner[]> {
  let last: Runner[] = [];
  await waitFor(`all ${expected.size} Runners in their expected states`, async () => {
    last = await listRunners();
    const byName = new Map(last.map((r) => [r.metadata.name!, r.status?.state]));
    return [...expected].every(([name, state]) => byName.get(name) === state);
  }, 120_000).catch((err: Error) => {
    const off = last.filter((r) => r.status?.state !== expected.get(r.metadata.name!)).map((r) => `${r.metadata.name}: ${r.status?.state} (${r.status?.message})`);
    throw new Error(`${err.message}; not as expected: ${off.join('; ')}`);
  });
  return last;
}

const fingerprint = (runners: Runner[]) =>
  new Map(runners.map((r) => [r.metadata.name!, { resourceVersion: r.metadata.resourceVersion, status: JSON.stringify(r.status) }]));

async function start(env: NodeJS.ProcessEnv = {}): Promise<OperatorProcess> {
  const p = await startOperatorProcess(env);
  processes.push(p);
  return p;
}

/**
 * Everything the operator sent about this file's Runners since `since`, once it has gone quiet. Only this
 * namespace: the Runners of an earlier file whose namespace is still terminating rightly get status writes (the
 * servers their probes asked went with that file), whichever operator process is running.
 */
async function writesSince(since: Date): Promise<Record<string, number>> {
  await waitUntilQuiet(OPERATOR_USER, since, 3000, ns);
  return summarise(writes(requestsBy(OPERATOR_USER, since, ns)).filter(notLease));
}

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('silent-restart');
  running = gate();
  const add = async (name: string, state: string, spec: Parameters<typeof runnerManifest>[2], labels: Record<string, string> = {}, fail = false) => {
    expected.set(name, state);
    await createRunner(runnerManifest(ns, name, spec, labels, fail));
  };
  for (let i = 0; i < 20; i++) {
    await createDeployment(ns, `app-${i}`, { app: `app-${i}`, ...ENABLE }, 0);
    await add(`ok-${i}`, 'Succeeded', { workloadSelector: { matchLabels: { app: `app-${i}` } } }, { stage: i < 5 ? 'first' : 'other' });
  }
  for (let i = 0; i < 5; i++) await add(`failed-${i}`, 'Failed', {}, {}, true);
  for (let i = 0; i < 5; i++) await add(`waiting-${i}`, 'WaitingForWorkloads', { workloadSelector: { matchLabels: { app: `absent-${i}` } } });
  for (let i = 0; i < 5; i++) await add(`chained-${i}`, 'Succeeded', { runnerSelector: { matchLabels: { stage: 'first' } } });
  for (let i = 0; i < 5; i++) await add(`scheduled-${i}`, 'Scheduled', { schedule: '0 0 1 1 *' });
  for (let i = 0; i < 5; i++) await add(`suspended-${i}`, 'Suspended', { suspend: true });
  await add('loop-a', 'Stalled', { runnerSelector: { matchLabels: { loop: 'b' } } }, { loop: 'a' });
  await add('loop-b', 'Stalled', { runnerSelector: { matchLabels: { loop: 'a' } } }, { loop: 'b' });
  await add('invalid-0', 'Invalid', { schedule: '* * * * *', timeZone: 'Mars/Olympus_Mons' });
  expected.set('running-0', 'Running');
  expected.set('running-1', 'Running');
  for (const name of ['running-0', 'running-1']) await createRunner(running.hold(runnerManifest(ns, name, {})));
  expect(expected.size).toBe(50);
});

afterAll(async () => {
  for (const p of processes) await p.kill('SIGKILL');
  await running?.remove();
  if (ns) await deleteNamespace(ns);
});

describe('a restart writes nothing that did not change', () => {
  it('after SIGKILL and a new start: no status write, no Job, no Event; every status byte-identical', async () => {
    const first = await start();
    await first.ready();
    const before = fingerprint(await settled());
    await waitUntilQuiet(OPERATOR_USER, new Date(Date.now() - 2000), 3000, ns);

    await first.kill('SIGKILL');
    const since = new Date();
    const second = await start();
    await second.ready();
    expect(await writesSince(since)).toEqual({});
    expect(fingerprint(await listRunners())).toEqual(before);
  }, 240_000);

  it('after a leader hand-over: the new leader writes nothing either, and still acts on what is new', async () => {
    for (const p of processes) await p.kill('SIGKILL');
    const lease = { HESTIA_LEADER_ELECTION: 'true', POD_NAMESPACE: 'hestia-system', HESTIA_LEASE_NAME: `silent-${process.pid}`, HESTIA_LEASE_SECONDS: '4' };
    const a = await start({ ...lease, POD_NAME: 'replica-a' });
    await a.ready();
    const b = await start({ ...lease, POD_NAME: 'replica-b' });
    const before = fingerprint(await settled());
    await waitUntilQuiet(OPERATOR_USER, new Date(Date.now() - 2000), 3000, ns);

    await a.kill('SIGKILL');
    const since = new Date();
    await b.ready(60_000);
    expect(await writesSince(since)).toEqual({});
    expect(fingerprint(await listRunners())).toEqual(before);

    // Quiet, not deaf: the gate opens, and the new leader finishes both running Runners.
    await running.open();
    expected.set('running-0', 'Succeeded');
    expected.set('running-1', 'Succeeded');
    await settled();
  }, 240_000);
});

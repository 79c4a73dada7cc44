// Member Leases on the real API server (src/shard/membership.ts): replicas that join, leave and are cut off share
// the 1,024 slots, and no slot is ever held by two of them at once — each member's holding of a slot is recorded
// as an interval on this process's monotonic clock, from `gain` to the end of the `release` that gave it up (or to
// `lost`), and the intervals of one slot never overlap.
import { CoordinationV1Api } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/k8s/client.ts';
import { connectionOf } from '../../src/k8s/kubeconfig.ts';
import type { LeaseSettings } from '../../src/k8s/leader.ts';
import { compareResourceVersions } from '../../src/k8s/resource-version.ts';
import { slotsOf } from '../../src/shard/fence.ts';
import { Membership, memberLeaseName } from '../../src/shard/membership.ts';
import { assignmentCache, SLOTS } from '../../src/shard/ring.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { createNamespace, deleteNamespace, kc, stays, waitFor } from './support/kube.ts';

const TIMING = { durationSeconds: 3, renewDeadlineSeconds: 2, retrySeconds: 0.5 };
const assign = assignmentCache();
const silent = pino({ level: 'silent' });
const coordination = kc.makeApiClient(CoordinationV1Api);

interface Held {
  member: string;
  slot: number;
  from: number;
  to: number;
  /** The resourceVersion the gain said reads of the slot's Runners must be no older than. */
  readFrom: string | undefined;
}

interface Member {
  identity: string;
  membership: Membership;
  proxy?: FaultProxy;
  lostAt?: number;
}

let ns: string;
let client: KubeClient;
const members: Member[] = [];
const held: Held[] = [];
const open = new Map<string, Held>();

beforeAll(async () => {
  client = new KubeClient(await connectionOf(kc));
});

afterEach(async () => {
  for (const m of members.splice(0)) {
    await m.membership.leave(1_000);
    await m.proxy?.close();
  }
  if (ns) await deleteNamespace(ns);
  held.length = 0;
  open.clear();
});

afterAll(() => client.close());

function close(member: string, slots: Iterable<number>, at: number): void {
  for (const slot of slots) {
    const h = open.get(`${member}/${slot}`);
    if (!h) continue;
    h.to = at;
    open.delete(`${member}/${slot}`);
  }
}

/** A member of ring `ring` in namespace `ns`, through a proxy that can cut it off when `cuttable`. */
async function join(identity: string, ring = 'hestia-test', cuttable = false, log: pino.Logger = silent): Promise<Member> {
  const proxy = cuttable ? await FaultProxy.start(await connectionOf(kc)) : undefined;
  const settings: LeaseSettings = { namespace: ns, name: ring, identity, ...TIMING };
  const member: Member = { identity, membership: undefined as never, ...(proxy ? { proxy } : {}) };
  member.membership = new Membership(proxy ? new KubeClient(proxy.connection()) : client, settings, log, {
    gain(slots, readFrom) {
      const now = performance.now();
      for (const slot of slots) {
        const h = { member: identity, slot, from: now, to: Infinity, readFrom };
        held.push(h);
        open.set(`${identity}/${slot}`, h);
      }
    },
    async release(slots) {
      // As an operator drains the writes of the Runners it stops: a while, during which it still holds them.
      await new Promise((r) => setTimeout(r, 50));
      close(identity, slots, performance.now());
    },
    lost() {
      member.lostAt = performance.now();
      close(identity, [...Array(SLOTS).keys()], member.lostAt);
    },
  });
  members.push(member);
  member.membership.start();
  return member;
}

/** Slots held by two members at one moment: the fence's one promise, broken. */
function overlaps(): string[] {
  const bySlot = new Map<number, Held[]>();
  for (const h of held) bySlot.set(h.slot, [...(bySlot.get(h.slot) ?? []), h]);
  const found: string[] = [];
  for (const [slot, list] of bySlot) {
    list.sort((a, b) => a.from - b.from);
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.from < list[i - 1]!.to) found.push(`slot ${slot}: ${list[i - 1]!.member} until ${list[i - 1]!.to.toFixed(0)}, ${list[i]!.member} from ${list[i]!.from.toFixed(0)}`);
    }
  }
  return found;
}

/** Every slot held by exactly the member the ring gives it among `live`. */
const settledOn = (live: Member[]) => () => {
  const view = live.map((m) => m.identity);
  return live.every((m) => m.membership.view.join(',') === [...view].sort().join(',') && sameSet(m.membership.slots, slotsOf(assign, view, m.identity)));
};
const sameSet = (a: ReadonlySet<number>, b: ReadonlySet<number>) => a.size === b.size && [...a].every((x) => b.has(x));

describe('member Leases', () => {
  it('share the slots among three members as the ring says, each in a Lease of its own that publishes its view', async () => {
    ns = await createNamespace('members');
    const three = [await join('replica-a'), await join('replica-b'), await join('replica-c')];
    await waitFor('three members to settle', settledOn(three), 20_000);
    expect(overlaps()).toEqual([]);
    const lease = await coordination.readNamespacedLease({ namespace: ns, name: memberLeaseName('hestia-test', 'replica-b') });
    expect(lease.spec?.holderIdentity).toBe('replica-b');
    expect(lease.metadata?.labels?.['hestia.stakater.com/member-of']).toBe('hestia-test');
    expect(lease.metadata?.annotations?.['hestia.stakater.com/view']).toBe('replica-a,replica-b,replica-c');
    const counts = three.map((m) => m.membership.slots.size);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(SLOTS);
  });

  it('hands a leaving member\'s slots on at the next rounds, and a newcomer takes about a quarter', async () => {
    ns = await createNamespace('members');
    const [a, b, c] = [await join('replica-a'), await join('replica-b'), await join('replica-c')];
    await waitFor('three members to settle', settledOn([a!, b!, c!]), 20_000);
    const before = new Map([a!, b!, c!].map((m) => [m.identity, new Set(m.membership.slots)]));
    const d = await join('replica-d');
    await waitFor('four members to settle', settledOn([a!, b!, c!, d]), 20_000);
    const moved = [a!, b!, c!].reduce((n, m) => n + [...before.get(m.identity)!].filter((s) => !m.membership.slots.has(s)).length, 0);
    // About a quarter moved, nearly all of it to the newcomer (the bound pushes a few on between the others).
    expect(d.membership.slots.size / SLOTS).toBeGreaterThan(0.2);
    expect(d.membership.slots.size / SLOTS).toBeLessThan(0.3);
    expect(moved - d.membership.slots.size).toBeLessThan(0.05 * SLOTS);

    // A stopping replica stops its actors, then leaves: it holds nothing from here on.
    const leftAt = performance.now();
    close('replica-b', [...Array(SLOTS).keys()], leftAt);
    const bLease = await coordination.readNamespacedLease({ namespace: ns, name: memberLeaseName('hestia-test', 'replica-b') });
    await b!.membership.leave();
    members.splice(members.indexOf(b!), 1);
    await waitFor('three members to settle without b', settledOn([a!, c!, d]), 20_000);
    // Released, not expired: taken within a few rounds, well before the Lease's duration would have passed.
    const takenHeld = held.filter((h) => h.member !== 'replica-b' && h.from > leftAt);
    const taken = takenHeld.map((h) => h.from - leftAt);
    expect(Math.max(...taken)).toBeLessThan(TIMING.durationSeconds * 1000);
    // Each taken with a resourceVersion past b's last own write (its Lease as it left), so that reads of the slots'
    // Runners no older than it see all that b wrote.
    for (const h of takenHeld) expect(compareResourceVersions(h.readFrom ?? '', bLease.metadata!.resourceVersion!), `slot ${h.slot}`).toBe(1);
    expect(overlaps()).toEqual([]);
  });

  it('takes no slot while a leader of the same name acts (a switch from leader election), and all once it has released', async () => {
    ns = await createNamespace('members');
    // The old leader's Lease, renewed as a leader renews it (MicroTime: six digits of fraction).
    const path = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
    const micro = () => new Date().toISOString().replace(/Z$/, '000Z');
    type Lease = { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    let current = await client.create<Lease>(path, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'hestia-test' }, spec: { holderIdentity: 'old-leader', leaseDurationSeconds: 3, renewTime: micro() } });
    const write = (spec: Record<string, unknown>) => client.replace<Lease>(`${path}/hestia-test`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: current.metadata, spec: { ...current.spec, ...spec } }).then((l) => (current = l));
    const renewing = setInterval(() => void write({ renewTime: micro() }).catch(() => undefined), 500);
    try {
      const a = await join('replica-a');
      await waitFor('replica-a to publish its view', () => a.membership.view.join(',') === 'replica-a', 10_000);
      await stays('replica-a takes a slot while the leader renews', () => a.membership.slots.size > 0, 4_000);
    } finally {
      clearInterval(renewing);
    }
    // Released, as a leader stopped with SIGTERM releases it.
    await waitFor('the release to be written', () => write({ holderIdentity: '' }).then(() => true, () => false));
    await waitFor('replica-a to take every slot', () => members[0]!.membership.slots.size === SLOTS, 10_000);
    expect(overlaps()).toEqual([]);
  });

  it('takes the slots once a dead leader\'s Lease has expired, and gives that Lease up for the next replica', async () => {
    ns = await createNamespace('members');
    const micro = () => new Date().toISOString().replace(/Z$/, '000Z');
    await client.create(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'hestia-test' }, spec: { holderIdentity: 'killed-leader', leaseDurationSeconds: 3, renewTime: micro() } });
    const a = await join('replica-a');
    await stays('replica-a takes a slot before the leader\'s Lease expired', () => a.membership.slots.size > 0, 2_000);
    await waitFor('replica-a to take every slot', () => a.membership.slots.size === SLOTS, 10_000);
    expect((await coordination.readNamespacedLease({ namespace: ns, name: 'hestia-test' })).spec?.holderIdentity).toBe('');
  });

  it('stops when its member Lease is deleted under it: others may act on its slots from then on', async () => {
    ns = await createNamespace('members');
    const a = await join('replica-a');
    await waitFor('replica-a to take every slot', () => a.membership.slots.size === SLOTS, 10_000);
    await coordination.deleteNamespacedLease({ namespace: ns, name: memberLeaseName('hestia-test', 'replica-a') });
    await waitFor('replica-a to stop', () => a.lostAt !== undefined, 10_000);
    expect(a.membership.slots.size).toBe(0);
  });

  it('lets a member cut off from the API server stop at its renew deadline, and only then hands its slots on', async () => {
    ns = await createNamespace('members');
    const a = await join('replica-a');
    const b = await join('replica-b');
    const lines: { msg: string; inFlight?: { what: string; forMs: number } | null; recentRequests?: unknown[] }[] = [];
    const c = await join('replica-c', 'hestia-test', true, pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line)) }));
    await waitFor('three members to settle', settledOn([a, b, c]), 20_000);
    const cSlots = new Set(c.membership.slots);
    const cutAt = performance.now();
    c.proxy!.add({ fault: { kind: 'hang-before-headers' } });
    await waitFor('the cut-off member to stop', () => c.lostAt !== undefined, 10_000);
    // Its log says why: a request of its rounds hung, the API server did not answer.
    const lost = lines.find((l) => l.msg === 'lost the member Lease; stopping');
    expect(['list', 'renew']).toContain(lost?.inFlight?.what);
    expect(lost!.inFlight!.forMs).toBeGreaterThan(0);
    expect(lost!.recentRequests!.length).toBeGreaterThan(0);
    await waitFor('two members to settle without c', settledOn([a, b]), 20_000);
    const takenOver = held.filter((h) => h.member !== 'replica-c' && cSlots.has(h.slot) && h.from > cutAt);
    expect(takenOver.length).toBe(cSlots.size);
    // c stopped before anyone took what it held, and its slots went on within the Lease's duration and a few rounds.
    expect(Math.min(...takenOver.map((h) => h.from))).toBeGreaterThan(c.lostAt!);
    // Not before its Lease's duration had passed unrenewed: its last renewal came at most a round before the cut.
    expect(Math.min(...takenOver.map((h) => h.from)) - cutAt).toBeGreaterThan((TIMING.durationSeconds - 2 * TIMING.retrySeconds) * 1000);
    expect(Math.max(...takenOver.map((h) => h.from)) - cutAt).toBeLessThan((TIMING.durationSeconds + 2) * 1000);
    expect(overlaps()).toEqual([]);
  });
});

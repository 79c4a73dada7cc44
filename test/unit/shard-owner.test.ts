import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { describeRunner } from '../../src/commands/describe.ts';
import { ownershipOf, ownershipWords } from '../../src/shard/owner.ts';
import { assignSlots, slotOf } from '../../src/shard/ring.ts';

const NOW = Date.parse('2026-12-07T08:00:00Z');
const UID = '3f2b8c1e-5a7d-4e21-9c3b-0d6e8f1a2b4c';

/** A member Lease as a replica writes it, renewed `ageS` seconds before NOW. */
const member = (identity: string, view: string, ageS = 1, ring = 'hestia-operator'): V1Lease => ({
  metadata: { name: `${ring}-member-${identity}`, labels: { 'hestia.stakater.com/member-of': ring }, annotations: { 'hestia.stakater.com/view': view } },
  spec: { holderIdentity: identity, leaseDurationSeconds: 15, renewTime: new Date(NOW - ageS * 1000).toISOString() as never },
});

describe('which replica acts on a Runner', () => {
  it('is not said when replicas do not share the Runners (no member Lease)', () => {
    expect(ownershipOf(UID, [], NOW)).toEqual({ sharded: false });
    expect(ownershipWords(ownershipOf(UID, [], NOW))).toBeNull();
    expect(describeRunner({ metadata: { name: 'r', namespace: 'qa', uid: UID }, spec: {} } as never, [])).not.toContain('Replica:');
  });

  it('is the replica the ring of the live members gives the Runner\'s slot', () => {
    const view = 'a,b,c';
    const o = ownershipOf(UID, [member('a', view), member('b', view), member('c', view)], NOW);
    expect(o).toEqual({ sharded: true, slot: slotOf(UID), ring: 'hestia-operator', members: ['a', 'b', 'c'], owner: assignSlots(['a', 'b', 'c'])[slotOf(UID)], settled: true });
    expect(ownershipWords(o)).toBe(`${o.sharded && o.owner} (slot ${slotOf(UID)}, one of 3 replicas of hestia-operator)`);
  });

  it('leaves out a member whose Lease expired, and says a hand-over is under way while the views differ', () => {
    const o = ownershipOf(UID, [member('a', 'a,b,c'), member('b', 'a,b,c'), member('c', 'a,b,c', 60)], NOW);
    expect(o.sharded && o.members).toEqual(['a', 'b']);
    expect(o.sharded && o.owner).toBe(assignSlots(['a', 'b'])[slotOf(UID)]);
    expect(ownershipWords(o)).toContain('; a hand-over is under way');
  });

  it('says when no replica is live', () => {
    expect(ownershipWords(ownershipOf(UID, [member('a', 'a', 600)], NOW))).toBe(`no live replica of hestia-operator (slot ${slotOf(UID)}): its Runners wait for one to start`);
  });
});

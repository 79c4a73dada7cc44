// Which replica acts on a Runner, as someone reading the member Leases can tell (`hestia describe`): the Runner's
// slot, and the replica the view the live members publish gives it. Pure. The operator does not write the owner into
// the Runner's status: that would be a write per Runner at every hand-over, and a restart would no longer be silent.
import type { V1Lease } from '@kubernetes/client-node';
import { MEMBER_OF_LABEL, VIEW_ANNOTATION } from './labels.ts';
import { assignSlots, slotOf, viewKey } from './ring.ts';

export type Ownership =
  | { sharded: false }
  | { sharded: true; slot: number; ring: string; members: string[]; owner: string | null; settled: boolean };

/** Lease times are RFC 3339 (MicroTime); a Lease renewed within its duration, by the reader's wall clock, is live. */
const isLive = (lease: V1Lease, nowMs: number): boolean => {
  const renewed = Date.parse(String(lease.spec?.renewTime ?? ''));
  return !!lease.spec?.holderIdentity && Number.isFinite(renewed) && nowMs - renewed <= (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
};

/**
 * Who acts on the Runner with this uid, from the member Leases of its operator (those of one ring: the first found).
 * `settled` is false while the live members publish different views (a hand-over under way): the owner shown is then
 * the one the newest view gives.
 */
export function ownershipOf(uid: string, leases: readonly V1Lease[], nowMs: number): Ownership {
  const members = leases.filter((l) => l.metadata?.labels?.[MEMBER_OF_LABEL]);
  if (members.length === 0) return { sharded: false };
  const ring = members[0]!.metadata!.labels![MEMBER_OF_LABEL]!;
  const live = members.filter((l) => l.metadata!.labels![MEMBER_OF_LABEL] === ring && isLive(l, nowMs));
  const names = live.map((l) => l.spec!.holderIdentity!).sort();
  const views = new Set(live.map((l) => l.metadata?.annotations?.[VIEW_ANNOTATION] ?? ''));
  const slot = slotOf(uid);
  const owner = names.length > 0 ? assignSlots(names)[slot]! : null;
  return { sharded: true, slot, ring, members: names, owner, settled: views.size === 1 && views.has(viewKey(names)) };
}

/** The describe line of an Ownership, or null when replicas do not share the Runners. */
export function ownershipWords(o: Ownership): string | null {
  if (!o.sharded) return null;
  if (!o.owner) return `no live replica of ${o.ring} (slot ${o.slot}): its Runners wait for one to start`;
  const of = `${o.members.length} replica${o.members.length === 1 ? '' : 's'} of ${o.ring}`;
  return `${o.owner} (slot ${o.slot}, one of ${of})${o.settled ? '' : '; a hand-over is under way'}`;
}

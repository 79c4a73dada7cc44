// The fence of a hand-over: when a replica may start acting on a slot another replica held, as a pure function
// of what each member Lease says.
//
// Every member publishes, in its own Lease, the view (the live members) it acts on, and keeps to one rule: it acts
// only on slots that view gives it. Changing view it first stops acting on the slots it loses, then publishes the
// new view, and only then looks — with a fresh read of every member Lease, not a watch cache that may lag — for
// the slots it gains that no live peer's published view still gives that peer. A peer whose Lease has expired
// stopped acting at its renew deadline, which is shorter than the duration after which others deem it expired
// (src/k8s/leader.ts holds the same rule for the leader). Two members can then never act on one slot: each
// publishes before it reads, and of two reads one comes after the other's write. Deterministic Job names stay a
// second guard. (Status writes are guarded by the Runner's uid, not yet by a resourceVersion.)
import { SLOTS } from './ring.ts';

/** What one member's Lease says, as a reader has it. */
export interface MemberClaim {
  identity: string;
  /** The view it acts on (the members it counts as live), as published in its Lease. */
  view: readonly string[];
  /** Whether its Lease is live: held and renewed within its duration, on the reader's own clock. */
  live: boolean;
}

type Assign = (members: readonly string[]) => readonly string[];

/** The slots `view` gives `me`. */
export function slotsOf(assign: Assign, view: readonly string[], me: string): Set<number> {
  const owners = assign(view);
  const mine = new Set<number>();
  for (let slot = 0; slot < SLOTS; slot++) if (owners[slot] === me) mine.add(slot);
  return mine;
}

/** Of the slots a member acts on, those its new view no longer gives it: it stops them before publishing that view. */
export function slotsToRelease(assign: Assign, acting: ReadonlySet<number>, view: readonly string[], me: string): number[] {
  const owners = assign(view);
  return [...acting].filter((slot) => owners[slot] !== me);
}

/**
 * The slots `me` may act on once it has published `view`: those the view gives it that no live peer's published
 * view gives that peer. `claims` must come from a fresh read of the member Leases. Pure.
 */
export function slotsToActOn(assign: Assign, me: string, view: readonly string[], claims: readonly MemberClaim[]): Set<number> {
  const mine = slotsOf(assign, view, me);
  for (const peer of claims) {
    if (peer.identity === me || !peer.live || mine.size === 0) continue;
    const owners = assign(peer.view);
    for (const slot of mine) if (owners[slot] === peer.identity) mine.delete(slot);
  }
  return mine;
}

/** The live members, as a reader counts them from the member Leases: its view. */
export const liveView = (claims: readonly MemberClaim[]): string[] => claims.filter((c) => c.live).map((c) => c.identity).sort();

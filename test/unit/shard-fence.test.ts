// The hand-over fence of src/shard/fence.ts, run as the protocol it is: members that join, observe, release,
// publish, gain, stop, crash and are cut off, in random interleavings. However the steps fall, no slot is ever acted
// on by two members; once the members settle, every slot is acted on by exactly one.
import { describe, expect, it } from 'vitest';
import { liveView, slotsOf, slotsToActOn, slotsToRelease, type MemberClaim } from '../../src/shard/fence.ts';
import { assignmentCache, SLOTS } from '../../src/shard/ring.ts';

interface Member {
  /** The live members it last saw. */
  view: string[];
  /** The view its Lease says it acts on. */
  published: string[];
  acting: Set<number>;
  /** Every slot it has ever acted on (for the test's count of hand-overs). */
  actedOn: Set<number>;
  /** The process runs (a crashed one acts on nothing). */
  running: boolean;
  /** Cut off from the API server: it can neither read nor write, and acts on until its renew deadline. */
  cutOff: boolean;
  /** Its Lease is live in the others' eyes. */
  leaseLive: boolean;
  /** The Leases as it saw them at its last observe: a watch cache's view, which may lag. */
  seen: MemberClaim[];
}

type World = Map<string, Member>;

const assign = assignmentCache();
const claims = (world: World): MemberClaim[] => [...world].map(([identity, m]) => ({ identity, view: m.published, live: m.leaseLive }));
const reachable = (m: Member | undefined): m is Member => !!m && m.running && !m.cutOff;

/** The steps a member or the world can take; each returns false when it does not apply. */
const steps = {
  join(world: World, id: string) {
    const m = world.get(id);
    if (m?.running && m.leaseLive) return false;
    // A new (or returning) process registers its Lease, then reads who is live; it acts on nothing yet.
    const fresh: Member = { view: [], published: [], acting: new Set(), actedOn: m?.actedOn ?? new Set(), running: true, cutOff: false, leaseLive: true, seen: [] };
    world.set(id, fresh);
    fresh.view = liveView(claims(world));
    return true;
  },
  observe(world: World, id: string) {
    const m = world.get(id);
    if (!reachable(m)) return false;
    m.seen = claims(world).map((c) => ({ ...c }));
    m.view = liveView(m.seen);
    return true;
  },
  /** Stop what the view no longer gives it, then publish the view. */
  release(world: World, id: string) {
    const m = world.get(id);
    if (!reachable(m)) return false;
    for (const slot of slotsToRelease(assign, m.acting, m.view, id)) m.acting.delete(slot);
    m.published = m.view;
    return true;
  },
  /** With the view published, a fresh read of every Lease, then act on what no live peer still claims. */
  gain(world: World, id: string) {
    const m = world.get(id);
    if (!reachable(m) || m.published !== m.view || !m.view.includes(id)) return false;
    m.acting = slotsToActOn(assign, id, m.published, claims(world));
    return true;
  },
  /** The same, deciding on the Leases as last observed instead of a fresh read: what the fence must not do. */
  gainFromCache(world: World, id: string) {
    const m = world.get(id);
    if (!reachable(m) || m.published !== m.view || !m.view.includes(id)) return false;
    m.acting = slotsToActOn(assign, id, m.published, m.seen);
    return true;
  },
  leave(world: World, id: string) {
    const m = world.get(id);
    if (!reachable(m)) return false;
    m.acting.clear();
    m.running = false;
    m.leaseLive = false; // released
    return true;
  },
  crash(world: World, id: string) {
    const m = world.get(id);
    if (!m?.running) return false;
    m.acting.clear();
    m.running = false;
    return true;
  },
  cutOff(world: World, id: string) {
    const m = world.get(id);
    if (!reachable(m)) return false;
    m.cutOff = true;
    return true;
  },
  /** A cut-off member's renew deadline: it stops acting on everything. */
  deadline(world: World, id: string) {
    const m = world.get(id);
    if (!m?.cutOff || m.acting.size === 0) return false;
    m.acting.clear();
    return true;
  },
  /** A Lease unrenewed for its duration: only after the holder's renew deadline, which is shorter. */
  expire(world: World, id: string) {
    const m = world.get(id);
    if (!m?.leaseLive || (m.running && !m.cutOff) || m.acting.size > 0) return false;
    m.leaseLive = false;
    return true;
  },
  heal(world: World, id: string) {
    const m = world.get(id);
    if (!m?.cutOff || m.leaseLive) return false;
    m.cutOff = false;
    m.running = false;
    return steps.join(world, id);
  },
};
type Step = keyof typeof steps;

function actedTwice(world: World): number[] {
  const count = new Array<number>(SLOTS).fill(0);
  for (const m of world.values()) for (const slot of m.acting) count[slot]!++;
  return count.flatMap((c, slot) => (c > 1 ? [slot] : []));
}

/** Every member does its part until nothing changes; the cut off heal, the dead expire. */
function settle(world: World): void {
  for (const id of world.keys()) {
    steps.deadline(world, id);
    steps.expire(world, id);
    steps.heal(world, id);
  }
  for (let round = 0; round < 10; round++) {
    for (const id of world.keys()) steps.observe(world, id);
    for (const id of world.keys()) steps.release(world, id);
    for (const id of world.keys()) steps.gain(world, id);
  }
}

function random(seed: number) {
  let s = seed >>> 0;
  return (n: number) => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s % n);
}

const IDS = ['a', 'b', 'c', 'd', 'e'];
const WEIGHTS: [Step, number][] = [['observe', 6], ['release', 6], ['gain', 6], ['join', 2], ['leave', 1], ['crash', 1], ['cutOff', 1], ['deadline', 2], ['expire', 2], ['heal', 2]];
const pick = (roll: (n: number) => number, weights = WEIGHTS): Step => {
  let r = roll(weights.reduce((n, [, w]) => n + w, 0));
  for (const [step, w] of weights) if ((r -= w) < 0) return step;
  return 'observe';
};

/** Random runs of 300 steps: the first place two members acted on one slot (or null), steps taken, and hand-overs. */
function explore(runs: number, weights = WEIGHTS): { double: string | null; taken: number; handedOver: number } {
  let taken = 0;
  let handedOver = 0;
  for (let seed = 1; seed <= runs; seed++) {
    const roll = random(seed);
    const world: World = new Map();
    steps.join(world, 'a');
    for (let i = 0; i < 300; i++) {
      const step = pick(roll, weights);
      const id = IDS[roll(IDS.length)]!;
      const before = new Set(world.get(id)?.acting);
      if (!steps[step](world, id)) continue;
      taken++;
      // A hand-over: a slot gained that another member had acted on before.
      for (const slot of world.get(id)!.acting) if (!before.has(slot) && [...world].some(([other, m]) => other !== id && m.actedOn.has(slot))) handedOver++;
      for (const m of world.values()) for (const slot of m.acting) m.actedOn.add(slot);
      const twice = actedTwice(world);
      if (twice.length) return { double: `seed ${seed}, step ${i} (${step} ${id}): slots ${twice.slice(0, 5).join(', ')} acted on twice`, taken, handedOver };
    }
  }
  return { double: null, taken, handedOver };
}

describe('the hand-over fence', () => {
  it('never lets two members act on one slot, in 400 random runs of 300 steps', () => {
    const { double, taken, handedOver } = explore(400);
    expect(double).toBeNull();
    expect(taken).toBeGreaterThan(25_000);
    expect(handedOver).toBeGreaterThan(100_000);
  });

  it('needs its fresh read: deciding on the Leases as a watch cache last had them, two members do act on one slot', () => {
    expect(explore(400, WEIGHTS.map(([step, w]) => [step === 'gain' ? 'gainFromCache' : step, w])).double).not.toBeNull();
  });

  it('once the members settle, gives every slot to exactly one running member, as the ring says', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const roll = random(seed);
      const world: World = new Map();
      steps.join(world, 'a');
      for (let i = 0; i < 150; i++) steps[pick(roll)](world, IDS[roll(IDS.length)]!);
      if (![...world.values()].some((m) => m.running)) steps.join(world, 'a');
      settle(world);
      const running = [...world].filter(([, m]) => m.running).map(([id]) => id).sort();
      const owners = assign(running);
      for (const [id, m] of world) expect(m.acting, `seed ${seed}: ${id}`).toEqual(m.running ? slotsOf(assign, running, id) : new Set());
      expect(owners.every((o) => running.includes(o))).toBe(true);
    }
  });

  it('keeps a cut-off member\'s slots unowned until its Lease expires, then hands them on', () => {
    const world: World = new Map();
    for (const id of ['a', 'b', 'c']) steps.join(world, id);
    settle(world);
    const bSlots = new Set(world.get('b')!.acting);
    expect(bSlots.size).toBeGreaterThan(200);
    steps.cutOff(world, 'b');
    for (const id of ['a', 'c']) (steps.observe(world, id), steps.release(world, id), steps.gain(world, id));
    // b's Lease is live: a and c wait, b acts on until its deadline.
    expect(world.get('b')!.acting).toEqual(bSlots);
    for (const slot of bSlots) expect(world.get('a')!.acting.has(slot) || world.get('c')!.acting.has(slot)).toBe(false);
    steps.deadline(world, 'b');
    steps.expire(world, 'b');
    for (const id of ['a', 'c']) (steps.observe(world, id), steps.release(world, id), steps.gain(world, id));
    for (const slot of bSlots) expect(world.get('a')!.acting.has(slot) !== world.get('c')!.acting.has(slot)).toBe(true);
  });
});

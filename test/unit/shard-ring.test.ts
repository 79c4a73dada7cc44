import { describe, expect, it } from 'vitest';
import { assignSlots, assignmentCache, fnv1a64, LOAD_FACTOR, slotBound, slotOf, SLOTS, uidShardSelectors, viewKey, viewOf } from '../../src/shard/ring.ts';

/** FNV-1a 64 by the book, in BigInt: what the two-halves version must equal. */
function fnvReference(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}
const asBigInt = ([hi, lo]: [number, number]) => (BigInt(hi) << 32n) | BigInt(lo);

/** Pod names as a Deployment's ReplicaSet gives them. */
const pods = (n: number) => Array.from({ length: n }, (_, i) => `hestia-operator-6f7c9d8b5-${'bcdfghjklm'[i]}${i}x7q`);

/** uids as the API server makes them (random UUIDs), from a seeded generator so that the test is the same every run. */
function uids(count: number, seed = 7): string[] {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s);
  const hex = (n: number) => Array.from({ length: n }, () => (next() >>> 28).toString(16)).join('');
  return Array.from({ length: count }, () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`);
}

const moved = (a: readonly string[], b: readonly string[]) => a.filter((owner, slot) => owner !== b[slot]).length / SLOTS;

describe('fnv1a64', () => {
  it('is FNV-1a 64 (the published test vectors, and the BigInt definition on uids and non-ASCII text)', () => {
    expect(fnv1a64('').map((x) => x.toString(16))).toEqual(['cbf29ce4', '84222325']);
    expect(asBigInt(fnv1a64('a'))).toBe(0xaf63dc4c8601ec8cn);
    expect(asBigInt(fnv1a64('foobar'))).toBe(0x85944171f73967e8n);
    for (const text of [...uids(200), 'é', 'qa/smoke-ünïcode', 'x'.repeat(300)]) expect(asBigInt(fnv1a64(text))).toBe(fnvReference(text));
  });
});

describe('slotOf', () => {
  it('is the top bits of the hash, and spreads uids evenly over the slots', () => {
    const all = uids(20_000);
    for (const uid of all.slice(0, 50)) expect(slotOf(uid)).toBe(Number(fnvReference(uid) >> 54n));
    const perSlot = new Array<number>(SLOTS).fill(0);
    for (const uid of all) perSlot[slotOf(uid)]!++;
    // ~19.5 a slot: Poisson, so none empty and none past three times the mean.
    expect(Math.min(...perSlot)).toBeGreaterThan(0);
    expect(Math.max(...perSlot)).toBeLessThan(3 * (20_000 / SLOTS));
  });
});

describe('assignSlots', () => {
  it('gives every slot to one of the members, the same for any order of their names', () => {
    const members = pods(5);
    const owners = assignSlots(members);
    expect(owners).toHaveLength(SLOTS);
    expect(new Set(owners)).toEqual(new Set(members));
    expect(assignSlots([...members].reverse())).toEqual(owners);
    expect(assignSlots([...members, members[0]!])).toEqual(owners);
  });

  it('gives one member everything, and no members nothing', () => {
    expect(new Set(assignSlots(['only']))).toEqual(new Set(['only']));
    expect(new Set(assignSlots([]))).toEqual(new Set(['']));
  });

  it(`holds every member to ${LOAD_FACTOR}× the mean number of slots, and within 15% under it, for 1 to 12 members`, () => {
    for (let n = 1; n <= 12; n++) {
      const loads = new Map<string, number>();
      for (const owner of assignSlots(pods(n))) loads.set(owner, (loads.get(owner) ?? 0) + 1);
      expect(loads.size).toBe(n);
      expect(Math.max(...loads.values())).toBeLessThanOrEqual(slotBound(n));
      expect(Math.min(...loads.values())).toBeGreaterThanOrEqual(Math.floor(0.85 * (SLOTS / n)));
    }
  });

  it('moves about 1/N of the slots when a member joins or leaves, not all of them', () => {
    for (let n = 2; n <= 8; n++) {
      const before = assignSlots(pods(n));
      const joined = assignSlots(pods(n + 1));
      const left = assignSlots(pods(n).slice(1));
      // Ideal: 1/(n+1) of the slots move to a newcomer, 1/n leave with a member; the bound costs a little more.
      expect(moved(before, joined)).toBeLessThan(1.4 / (n + 1));
      expect(moved(before, left)).toBeLessThan(1.4 / n);
      // A join moves slots only to the newcomer, or on from a member that the bound pushed: never between two others in bulk.
      const newcomer = pods(n + 1)[n]!;
      const toOthers = before.filter((owner, slot) => joined[slot] !== owner && joined[slot] !== newcomer).length;
      expect(toOthers / SLOTS).toBeLessThan(0.4 / (n + 1));
    }
  });

  it('shares 20,000 Runners over 4 members within 12% of 5,000 each', () => {
    const owners = assignSlots(pods(4));
    const per = new Map<string, number>();
    for (const uid of uids(20_000)) per.set(owners[slotOf(uid)]!, (per.get(owners[slotOf(uid)]!) ?? 0) + 1);
    for (const count of per.values()) expect(Math.abs(count - 5_000)).toBeLessThan(600);
  });
});

describe('views', () => {
  it('has one canonical text per set of members', () => {
    expect(viewKey(['b', 'a', 'b'])).toBe('a,b');
    expect(viewOf(viewKey(['b', 'a']))).toEqual(['a', 'b']);
    expect(viewOf('')).toEqual([]);
  });
  it('remembers assignments per view, whatever the order asked in', () => {
    const assign = assignmentCache(2);
    const first = assign(['x', 'y']);
    expect(assign(['y', 'x'])).toBe(first);
    assign(['a']);
    assign(['b']);
    expect(assign(['x', 'y'])).not.toBe(first);
    expect(assign(['x', 'y'])).toEqual(first);
  });
});

describe('memberLeaseName', () => {
  it('is a valid object name, and tells apart names that read alike once made valid or cut short', async () => {
    const { memberLeaseName } = await import('../../src/shard/membership.ts');
    const dns = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
    const names = [memberLeaseName('hestia-operator', 'Pod_A'), memberLeaseName('hestia-operator', 'pod-a'), memberLeaseName('hestia-operator', `${'x'.repeat(300)}-1`), memberLeaseName('hestia-operator', `${'x'.repeat(300)}-2`)];
    for (const name of names) {
      expect(name).toMatch(dns);
      expect(name.length).toBeLessThanOrEqual(253);
    }
    expect(new Set(names).size).toBe(4);
    expect(memberLeaseName('hestia-operator', 'hestia-operator-6f7c9d8b5-x2k4p')).toMatch(/^hestia-operator-member-hestia-operator-6f7c9d8b5-x2k4p-[0-9a-f]{8}$/);
  });
});

describe('uidShardSelectors', () => {
  /** As the API server matches a shard selector: the uid's FNV-1a 64 in hex, compared as its HexLess does. */
  const hexLess = (a: string, b: string) => (a.length !== b.length ? a.length < b.length : a < b);
  const matches = (selectors: string[], uid: string) => {
    const hash = `0x${asBigInt(fnv1a64(uid)).toString(16).padStart(16, '0')}`;
    return selectors.some((selector) =>
      [...selector.matchAll(/shardRange\(object\.metadata\.uid, '(0x[0-9a-f]+)', '(0x[0-9a-f]+)'\)/g)].some(([, start, end]) => !hexLess(hash, start!) && hexLess(hash, end!)),
    );
  };

  it("selects exactly the uids of the slots given, runs of slots as one range each, the last slot's range ending at 2^64", () => {
    const slots = [0, 1, 2, 7, 500, 501, SLOTS - 1];
    const selectors = uidShardSelectors(slots);
    expect(selectors).toHaveLength(1);
    expect(selectors[0]!.split(' || ')).toHaveLength(4);
    expect(selectors[0]).toContain("'0x10000000000000000'");
    const wanted = new Set(slots);
    const all = uids(20_000);
    expect(all.filter((uid) => matches(selectors, uid))).toEqual(all.filter((uid) => wanted.has(slotOf(uid))));
    expect(all.filter((uid) => wanted.has(slotOf(uid))).length).toBeGreaterThan(100);
  });

  it('splits many ranges over several selectors', () => {
    const everyOther = Array.from({ length: SLOTS / 2 }, (_, i) => 2 * i);
    const selectors = uidShardSelectors(everyOther);
    expect(selectors).toHaveLength(8);
    expect(selectors.every((s) => s.split(' || ').length <= 64)).toBe(true);
  });
});

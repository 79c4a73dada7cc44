// Which replica owns which Runners, as a pure function of the live members: consistent hashing with bounded
// loads, over a fixed set of slots rather than over the Runners themselves.
//
// A Runner's slot is the top bits of FNV-1a-64 of its uid — the hash Kubernetes' sharded list and watch
// (shardRange over metadata.uid) uses, so a slot is one contiguous range the API server could filter on. Slots,
// not Runners, are what is placed on the ring: the assignment then depends on the members alone, so replicas that
// see the same members agree on it whatever Runners each has seen so far, and a hand-over is fenced per change of
// members, not per Runner (src/shard/fence.ts). Each member stands at VNODES points of the ring; each slot goes
// to the first member clockwise from it that holds fewer than its bound, ceil(1.1 × SLOTS / members).
// With 1,024 slots and the ~20 Runners per slot of 20,000, no member holds more than 1.1× the mean and a new
// member takes about 1/N of the slots (test/unit/shard-ring.test.ts measures both).

/** Slots are the top SLOT_BITS of a uid's hash. */
export const SLOT_BITS = 10;
export const SLOTS = 1 << SLOT_BITS;

/** Points per member on the ring: each member's arcs come within about 15% of the mean; the bound caps the rest. */
const VNODES = 128;

/** No member holds more than this factor of the mean number of slots. */
export const LOAD_FACTOR = 1.1;

const encoder = new TextEncoder();

/**
 * FNV-1a 64 of the UTF-8 bytes of `text`, as [high 32 bits, low 32 bits]. In two halves of 32 bits so that no
 * BigInt is made per byte: the FNV prime is 2^40 + 0x1b3, so h × prime = h × 0x1b3 + (h << 40).
 */
export function fnv1a64(text: string): [number, number] {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const byte of encoder.encode(text)) {
    lo = (lo ^ byte) >>> 0;
    const low = lo * 0x1b3; // < 2^41: exact
    const carry = Math.floor(low / 0x1_0000_0000);
    hi = (Math.imul(hi, 0x1b3) + (lo << 8) + carry) >>> 0;
    lo = low >>> 0;
  }
  return [hi, lo];
}

/** The slot of a Runner, from its uid. */
export const slotOf = (uid: string): number => fnv1a64(uid)[0] >>> (32 - SLOT_BITS);

/** Where slot `slot` stands on the ring (the 32-bit space of a hash's high half): the start of its range. */
const slotPosition = (slot: number): number => (slot << (32 - SLOT_BITS)) >>> 0;

interface Point {
  at: number;
  member: number;
}

/**
 * A point's place for a name: FNV-1a alone spreads names that differ in their last bytes (`…-a/1`, `…-a/2`) over
 * a few of the high bits only, so its halves are folded and mixed (MurmurHash3's 32-bit finaliser).
 */
function placeOf(name: string): number {
  const [hi, lo] = fnv1a64(name);
  let h = (hi ^ lo) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The ring's points, in order: every member at VNODES places, ties broken by member order. */
function ringOf(members: readonly string[]): Point[] {
  const points: Point[] = [];
  members.forEach((name, member) => {
    for (let i = 0; i < VNODES; i++) points.push({ at: placeOf(`${name}/${i}`), member });
  });
  return points.sort((a, b) => a.at - b.at || a.member - b.member);
}

/** The first point at or after `at`, by binary search (wrapping to 0 past the last). */
function firstAtOrAfter(points: readonly Point[], at: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (points[mid]!.at < at) low = mid + 1;
    else high = mid;
  }
  return low === points.length ? 0 : low;
}

/** The most slots one of `count` members holds. */
export const slotBound = (count: number): number => Math.ceil((LOAD_FACTOR * SLOTS) / count);

/**
 * The owner of every slot (index = slot) among `members`, a view of the live replicas: the same for any order of
 * the same names. Empty members: no owner ('') for any slot. Pure.
 */
export function assignSlots(members: readonly string[]): string[] {
  const names = [...new Set(members)].sort();
  if (names.length === 0) return new Array<string>(SLOTS).fill('');
  const points = ringOf(names);
  const bound = slotBound(names.length);
  const load = new Array<number>(names.length).fill(0);
  const owners = new Array<string>(SLOTS);
  for (let slot = 0; slot < SLOTS; slot++) {
    // A member under its bound is always found: together they have room for LOAD_FACTOR × SLOTS.
    let i = firstAtOrAfter(points, slotPosition(slot));
    while (load[points[i]!.member]! >= bound) i = (i + 1) % points.length;
    const member = points[i]!.member;
    load[member]!++;
    owners[slot] = names[member]!;
  }
  return owners;
}

/** A view's canonical text: its names sorted, comma-separated — what a member Lease says it acts on. */
export const viewKey = (members: readonly string[]): string => [...new Set(members)].sort().join(',');

/** The members of a view's canonical text. */
export const viewOf = (key: string): string[] => (key === '' ? [] : key.split(','));

/** assignSlots, remembered per view: every replica asks it often, of the few views there are. */
export function assignmentCache(limit = 16): (members: readonly string[]) => readonly string[] {
  const cache = new Map<string, string[]>();
  return (members) => {
    const key = viewKey(members);
    let owners = cache.get(key);
    if (!owners) {
      owners = assignSlots(viewOf(key));
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(key, owners);
    }
    return owners;
  };
}

/** Ranges named in one shard selector at most: a selector is an || of ranges, which the API server parses as CEL. */
const RANGES_PER_SELECTOR = 64;

/** `slot << (64 - SLOT_BITS)` as the API server writes a 64-bit hash: 0x and 16 hex digits (2^64: 17). */
const hashBound = (slot: number): string => `0x${(BigInt(slot) << BigInt(64 - SLOT_BITS)).toString(16).padStart(16, '0')}`;

/**
 * Kubernetes' shard selectors (KEP-5866, `shardSelector` on a LIST) that together select the objects whose uid falls
 * in `slots`: each run of consecutive slots one `shardRange` over the uid's FNV-1a 64, at most RANGES_PER_SELECTOR
 * of them to a selector.
 */
export function uidShardSelectors(slots: Iterable<number>): string[] {
  const sorted = [...new Set(slots)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let end = i;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end++;
    ranges.push(`shardRange(object.metadata.uid, '${hashBound(sorted[i]!)}', '${hashBound(sorted[end]! + 1)}')`);
    i = end + 1;
  }
  const selectors: string[] = [];
  for (let i = 0; i < ranges.length; i += RANGES_PER_SELECTOR) selectors.push(ranges.slice(i, i + RANGES_PER_SELECTOR).join(' || '));
  return selectors;
}

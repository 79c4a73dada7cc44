// Which Runners select which objects, answered without scanning every Runner.
// A selector with matchLabels is filed under one of its key=value pairs: an object can only
// match it if it carries that pair, so the candidates for an object are found by its labels.
import type { V1LabelSelector } from '@kubernetes/client-node';

const pairKey = (key: string, value: string): string => `${key}=${value}`;

const EMPTY: ReadonlySet<string> = new Set();

/**
 * Sets of strings by key, where most keys have one member — a workload's own `app=…` pair, the one workload a Runner
 * selects, the one Runner that selects it: a set of one is kept as its member, not as a Set of its own (a Set costs
 * about 150 bytes; at 20,000 workloads, several MiB of each replica). A set of one is made only when read.
 */
export class StringSets {
  private readonly byKey = new Map<string, string | Set<string>>();

  has(key: string, member: string): boolean {
    const held = this.byKey.get(key);
    return held === member || (typeof held === 'object' && held.has(member));
  }

  /** The members under `key`; the Set of a key with several is the one kept, to be read, not changed. */
  get(key: string): ReadonlySet<string> {
    const held = this.byKey.get(key);
    return held === undefined ? EMPTY : typeof held === 'string' ? new Set([held]) : held;
  }

  /** How many members `key` has, without making a set of one. */
  count(key: string): number {
    const held = this.byKey.get(key);
    return held === undefined ? 0 : typeof held === 'string' ? 1 : held.size;
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  add(key: string, member: string): void {
    const held = this.byKey.get(key);
    if (held === undefined) this.byKey.set(key, member);
    else if (typeof held === 'string') {
      if (held !== member) this.byKey.set(key, new Set([held, member]));
    } else held.add(member);
  }

  delete(key: string, member: string): void {
    const held = this.byKey.get(key);
    if (held === member) this.byKey.delete(key);
    else if (typeof held === 'object' && held.delete(member) && held.size === 1) this.byKey.set(key, held.values().next().value!);
  }
}

export class SelectorIndex {
  private readonly filedUnder = new Map<string, string | null>();
  private readonly byPair = new StringSets();
  /** Selectors without matchLabels: candidates for every object. */
  private readonly unfiled = new Set<string>();

  set(owner: string, selector: V1LabelSelector | undefined): void {
    this.delete(owner);
    if (!selector) return;
    const first = Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b))[0];
    if (!first) {
      this.unfiled.add(owner);
      this.filedUnder.set(owner, null);
      return;
    }
    const key = pairKey(first[0], first[1]);
    this.byPair.add(key, owner);
    this.filedUnder.set(owner, key);
  }

  delete(owner: string): void {
    const key = this.filedUnder.get(owner);
    if (key === undefined) return;
    this.filedUnder.delete(owner);
    if (key === null) this.unfiled.delete(owner);
    else this.byPair.delete(key, owner);
  }

  /** Owners whose selector may match an object with these labels (a superset; check each). */
  candidates(labels: Record<string, string> | undefined): Set<string> {
    const found = new Set(this.unfiled);
    for (const [k, v] of Object.entries(labels ?? {})) {
      for (const owner of this.byPair.get(pairKey(k, v))) found.add(owner);
    }
    return found;
  }
}

/** A many-to-many relation kept in both directions (e.g. Runner ↔ the workloads it selects). */
export class Relation {
  private readonly forward = new StringSets();
  private readonly backward = new StringSets();
  /** Counts changes, so a reader can tell whether anything changed since it last looked. */
  version = 0;

  /** Every owner with at least one target. */
  owners(): Iterable<string> {
    return this.forward.keys();
  }

  targetsOf(owner: string): ReadonlySet<string> {
    return this.forward.get(owner);
  }

  ownersOf(target: string): ReadonlySet<string> {
    return this.backward.get(target);
  }

  link(owner: string, target: string): boolean {
    if (this.forward.has(owner, target)) return false;
    this.forward.add(owner, target);
    this.backward.add(target, owner);
    this.version += 1;
    return true;
  }

  unlink(owner: string, target: string): boolean {
    if (!this.forward.has(owner, target)) return false;
    this.forward.delete(owner, target);
    this.backward.delete(target, owner);
    this.version += 1;
    return true;
  }

  /** Sets whether owner → target holds; returns true when that changed. */
  setLinked(owner: string, target: string, linked: boolean): boolean {
    return linked ? this.link(owner, target) : this.unlink(owner, target);
  }

  forgetOwner(owner: string): void {
    for (const target of [...this.targetsOf(owner)]) this.unlink(owner, target);
  }

  forgetTarget(target: string): void {
    for (const owner of [...this.ownersOf(target)]) this.unlink(owner, target);
  }
}


/**
 * Objects by their labels, for the other direction: which objects a new or changed selector may
 * match. A selector with matchLabels needs only the objects carrying one of its pairs (the pair
 * with the fewest); one without must look at every object.
 */
export class LabelIndex {
  private readonly byPair = new StringSets();
  private readonly labelsOf = new Map<string, Record<string, string>>();

  set(key: string, labels: Record<string, string> | undefined): void {
    this.delete(key);
    const own = labels ?? {};
    this.labelsOf.set(key, own);
    for (const [k, v] of Object.entries(own)) this.byPair.add(pairKey(k, v), key);
  }

  delete(key: string): void {
    const labels = this.labelsOf.get(key);
    if (!labels) return;
    this.labelsOf.delete(key);
    for (const [k, v] of Object.entries(labels)) this.byPair.delete(pairKey(k, v), key);
  }

  /** Keys of objects the selector may match (a superset; check each). */
  candidates(selector: V1LabelSelector): Iterable<string> {
    let best: string | undefined;
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
      const pair = pairKey(k, v);
      if (best === undefined || this.byPair.count(pair) < this.byPair.count(best)) best = pair;
    }
    return best === undefined ? this.labelsOf.keys() : this.byPair.get(best);
  }
}

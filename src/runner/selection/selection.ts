// Which Runners select which objects, answered without scanning every Runner.
// A selector with matchLabels is filed under one of its key=value pairs: an object can only
// match it if it carries that pair, so the candidates for an object are found by its labels.
import type { V1LabelSelector } from '@kubernetes/client-node';

const pairKey = (key: string, value: string): string => `${key}=${value}`;

export class SelectorIndex {
  private readonly filedUnder = new Map<string, string | null>();
  private readonly byPair = new Map<string, Set<string>>();
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
    let owners = this.byPair.get(key);
    if (!owners) this.byPair.set(key, (owners = new Set()));
    owners.add(owner);
    this.filedUnder.set(owner, key);
  }

  delete(owner: string): void {
    const key = this.filedUnder.get(owner);
    if (key === undefined) return;
    this.filedUnder.delete(owner);
    if (key === null) this.unfiled.delete(owner);
    else {
      const owners = this.byPair.get(key);
      owners?.delete(owner);
      if (owners?.size === 0) this.byPair.delete(key);
    }
  }

  /** Owners whose selector may match an object with these labels (a superset; check each). */
  candidates(labels: Record<string, string> | undefined): Set<string> {
    const found = new Set(this.unfiled);
    for (const [k, v] of Object.entries(labels ?? {})) {
      for (const owner of this.byPair.get(pairKey(k, v)) ?? []) found.add(owner);
    }
    return found;
  }
}

/** A many-to-many relation kept in both directions (e.g. Runner ↔ the workloads it selects). */
export class Relation {
  private readonly forward = new Map<string, Set<string>>();
  private readonly backward = new Map<string, Set<string>>();
  /** Counts changes, so a reader can tell whether anything changed since it last looked. */
  version = 0;

  /** Every owner with at least one target. */
  owners(): Iterable<string> {
    return this.forward.keys();
  }

  targetsOf(owner: string): ReadonlySet<string> {
    return this.forward.get(owner) ?? EMPTY;
  }

  ownersOf(target: string): ReadonlySet<string> {
    return this.backward.get(target) ?? EMPTY;
  }

  link(owner: string, target: string): boolean {
    if (this.forward.get(owner)?.has(target)) return false;
    add(this.forward, owner, target);
    add(this.backward, target, owner);
    this.version += 1;
    return true;
  }

  unlink(owner: string, target: string): boolean {
    if (!this.forward.get(owner)?.has(target)) return false;
    remove(this.forward, owner, target);
    remove(this.backward, target, owner);
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

const EMPTY: ReadonlySet<string> = new Set();

function add(map: Map<string, Set<string>>, a: string, b: string): void {
  let set = map.get(a);
  if (!set) map.set(a, (set = new Set()));
  set.add(b);
}

function remove(map: Map<string, Set<string>>, a: string, b: string): void {
  const set = map.get(a);
  set?.delete(b);
  if (set?.size === 0) map.delete(a);
}

/**
 * Objects by their labels, for the other direction: which objects a new or changed selector may
 * match. A selector with matchLabels needs only the objects carrying one of its pairs (the pair
 * with the fewest); one without must look at every object.
 */
export class LabelIndex {
  private readonly byPair = new Map<string, Set<string>>();
  private readonly labelsOf = new Map<string, Record<string, string>>();

  set(key: string, labels: Record<string, string> | undefined): void {
    this.delete(key);
    const own = labels ?? {};
    this.labelsOf.set(key, own);
    for (const [k, v] of Object.entries(own)) add(this.byPair, pairKey(k, v), key);
  }

  delete(key: string): void {
    const labels = this.labelsOf.get(key);
    if (!labels) return;
    this.labelsOf.delete(key);
    for (const [k, v] of Object.entries(labels)) remove(this.byPair, pairKey(k, v), key);
  }

  /** Keys of objects the selector may match (a superset; check each). */
  candidates(selector: V1LabelSelector): Iterable<string> {
    let best: ReadonlySet<string> | undefined;
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
      const keys = this.byPair.get(pairKey(k, v)) ?? EMPTY;
      if (!best || keys.size < best.size) best = keys;
    }
    return best ?? this.labelsOf.keys();
  }
}

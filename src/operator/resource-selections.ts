// Which objects each entry of a Runner's `spec.resources` selects (SPEC §2.3), kept up to date from watch events
// in both directions through indexes, as src/operator/selections.ts does for workloads: per kind, the entries'
// selectors by one of their label pairs and the objects by their labels. Every change returns the Runners it
// concerns, for the operator to assess again.
import type { ResourceInput, Runner } from '../api/runner.ts';
import type { ResourceView } from '../runner/readiness/resource-readiness.ts';
import { LabelIndex, Relation, SelectorIndex } from '../runner/selection/selection.ts';
import { isEnabledWorkload, matchesLabelSelector } from '../runner/selection/selectors.ts';
import { keyOf, parseKey } from '../k8s/object-key.ts';
import { kindKey, type KindNeeds } from './resource-kinds.ts';
import { runnerKey } from './selections.ts';

export interface ResourceSelectionWorld {
  resource(kind: string, namespace: string, name: string): ResourceView | undefined;
  namespaceLabels(namespace: string): Record<string, string>;
}

interface Entry {
  kind: string;
  input: ResourceInput;
  namespaceSelector: Runner['spec']['namespaceSelector'];
}

const entryKey = (runner: string, index: number) => `${runner}#${index}`;
const runnerOfEntry = (entry: string) => entry.slice(0, entry.lastIndexOf('#'));
const objectKey = (kind: string, namespace: string, name: string) => `${kind}|${keyOf(namespace, name)}`;
const refOf = (view: ResourceView) => ({ namespace: view.metadata.namespace ?? '', name: view.metadata.name ?? '' });

/** The entries of a spec that name a kind (invalid ones are left to spec validation, and select nothing). */
export function resourceEntries(runner: Runner): { index: number; kind: string; input: ResourceInput }[] {
  const list = Array.isArray(runner.spec?.resources) ? runner.spec.resources : [];
  return list.flatMap((input, index) =>
    input && typeof input.apiVersion === 'string' && typeof input.kind === 'string' && input.selector && typeof input.selector === 'object'
      ? [{ index, kind: kindKey(input), input }]
      : [],
  );
}

/** The kinds a Runner names and the readyWhen expressions it applies to each (for ResourceKinds). */
export function kindNeeds(runner: Runner): KindNeeds {
  const needs: KindNeeds = new Map();
  for (const { kind, input } of resourceEntries(runner)) {
    const need = needs.get(kind) ?? { ref: { apiVersion: input.apiVersion, kind: input.kind }, expressions: new Set<string>() };
    if (typeof input.readyWhen === 'string') need.expressions.add(input.readyWhen);
    needs.set(kind, need);
  }
  return needs;
}

export class ResourceSelections {
  private readonly world: ResourceSelectionWorld;
  private readonly selectorsByKind = new Map<string, SelectorIndex>();
  private readonly objectsByKind = new Map<string, LabelIndex>();
  /** Entry key (runner#index) → keys of the objects it selects. */
  private readonly selects = new Relation();
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly usersByKind = new Map<string, Set<string>>();

  constructor(world: ResourceSelectionWorld) {
    this.world = world;
  }

  /** The objects entry `index` of the Runner selects now. */
  selected(runner: string, index: number): ResourceView[] {
    return [...this.selects.targetsOf(entryKey(runner, index))].flatMap((key) => {
      const [kind, ref] = [key.slice(0, key.indexOf('|')), key.slice(key.indexOf('|') + 1)];
      const { namespace, name } = parseKey(ref);
      const view = this.world.resource(kind, namespace, name);
      return view ? [view] : [];
    });
  }

  /** Runners with an entry naming this kind. */
  usersOf(kind: string): ReadonlySet<string> {
    return this.usersByKind.get(kind) ?? new Set();
  }

  /** The Runner appeared or its spec changed: its entries, and what each selects, anew. */
  runnerChanged(runner: Runner): void {
    const key = runnerKey(runner);
    this.runnerRemoved(key);
    const entries = new Map<string, Entry>();
    for (const { index, kind, input } of resourceEntries(runner)) {
      const ek = entryKey(key, index);
      entries.set(ek, { kind, input, namespaceSelector: runner.spec.namespaceSelector });
      this.index(this.selectorsByKind, kind, () => new SelectorIndex()).set(ek, input.selector);
      this.index(this.usersByKind, kind, () => new Set<string>()).add(key);
    }
    if (entries.size > 0) this.entries.set(key, entries);
    this.matchEntriesOf(key);
  }

  runnerRemoved(key: string): void {
    for (const [ek, entry] of this.entries.get(key) ?? []) {
      this.selectorsByKind.get(entry.kind)?.delete(ek);
      this.usersByKind.get(entry.kind)?.delete(key);
      if (this.usersByKind.get(entry.kind)?.size === 0) this.usersByKind.delete(entry.kind);
      this.selects.forgetOwner(ek);
    }
    this.entries.delete(key);
  }

  /** An object appeared or changed; `labelsChanged` false skips matching (same labels, same matches). */
  objectChanged(kind: string, view: ResourceView, labelsChanged: boolean): Set<string> {
    const { namespace, name } = refOf(view);
    const ok = objectKey(kind, namespace, name);
    const before = [...this.selects.ownersOf(ok)];
    if (labelsChanged) {
      const labels = view.metadata.labels ?? {};
      this.index(this.objectsByKind, kind, () => new LabelIndex()).set(`${namespace}/${name}`, labels);
      const candidates = new Set([...before, ...(this.selectorsByKind.get(kind)?.candidates(labels) ?? [])]);
      for (const ek of candidates) this.selects.setLinked(ek, ok, this.matches(ek, namespace, labels));
    }
    // The Runners that select it now, or did before this change.
    return new Set([...before, ...this.selects.ownersOf(ok)].map(runnerOfEntry));
  }

  objectRemoved(kind: string, view: ResourceView): Set<string> {
    const { namespace, name } = refOf(view);
    const ok = objectKey(kind, namespace, name);
    const concerned = new Set([...this.selects.ownersOf(ok)].map(runnerOfEntry));
    this.selects.forgetTarget(ok);
    this.objectsByKind.get(kind)?.delete(`${namespace}/${name}`);
    return concerned;
  }

  /** A namespace's labels changed: Runners with a namespaceSelector match again. */
  namespaceLabelsChanged(): Set<string> {
    const concerned = new Set<string>();
    for (const [key, entries] of this.entries) {
      if (![...entries.values()].some((e) => e.namespaceSelector)) continue;
      this.matchEntriesOf(key);
      concerned.add(key);
    }
    return concerned;
  }

  private matchEntriesOf(key: string): void {
    for (const [ek, entry] of this.entries.get(key) ?? []) {
      this.selects.forgetOwner(ek);
      const objects = this.objectsByKind.get(entry.kind);
      if (!objects) continue;
      for (const ref of objects.candidates(entry.input.selector)) {
        const { namespace, name } = parseKey(ref);
        const labels = this.world.resource(entry.kind, namespace, name)?.metadata.labels;
        if (labels && this.matches(ek, namespace, labels)) this.selects.link(ek, objectKey(entry.kind, namespace, name));
      }
    }
  }

  private matches(ek: string, namespace: string, labels: Record<string, string>): boolean {
    const entry = this.entries.get(runnerOfEntry(ek))?.get(ek);
    if (!entry || !isEnabledWorkload(labels) || !matchesLabelSelector(entry.input.selector, labels)) return false;
    // A cluster-scoped object belongs to no namespace: namespaceSelector does not narrow it.
    return namespace === '' || !entry.namespaceSelector || matchesLabelSelector(entry.namespaceSelector, this.world.namespaceLabels(namespace));
  }

  private index<T>(map: Map<string, T>, kind: string, make: () => T): T {
    let value = map.get(kind);
    if (!value) map.set(kind, (value = make()));
    return value;
  }
}

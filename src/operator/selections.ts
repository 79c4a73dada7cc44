// Who selects what (SPEC §2.1, §3.5): which workloads and upstream Runners each Runner selects,
// kept up to date from watch events in both directions through indexes, so that the cost of an
// event does not grow with the number of Runners; and the dependency cycles among Runners. Every
// change returns the Runners it concerns, for the operator to assess again.
import type { Runner } from '../api/runner.ts';
import { keyOf, objectKey, parseKey } from '../k8s/object-key.ts';
import { findCycles } from '../runner/selection/cycles.ts';
import type { WorkloadKind } from '../runner/readiness/readiness.ts';
import { LabelIndex, Relation, SelectorIndex } from '../runner/selection/selection.ts';
import { isEnabledWorkload, matchesLabelSelector } from '../runner/selection/selectors.ts';

/** What matching reads from the caches. */
export interface SelectionWorld {
  runner(key: string): Runner | undefined;
  /** Labels of a cached workload, by workload key; undefined when it is not cached. */
  workloadLabels(workloadKey: string): Record<string, string> | undefined;
  namespaceLabels(namespace: string): Record<string, string>;
}

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

/** `Deployment/shop/cart`: the kind, then the object's key (src/k8s/object-key.ts). */
export const workloadKey = (w: WorkloadRef): string => `${w.kind}/${keyOf(w.namespace, w.name)}`;

export function parseWorkloadKey(key: string): WorkloadRef {
  const slash = key.indexOf('/');
  return { kind: key.slice(0, slash) as WorkloadKind, ...parseKey(key.slice(slash + 1)) };
}

/** A Runner's key in every index and cache: `namespace/name` (src/k8s/object-key.ts). */
export const runnerKey = (r: Runner): string => objectKey(r);

export class Selections {
  private readonly world: SelectionWorld;
  private readonly workloadSelectors = new SelectorIndex();
  private readonly runnerSelectors = new SelectorIndex();
  private readonly workloadsByLabel = new LabelIndex();
  private readonly runnersByLabel = new LabelIndex();
  /** Runner key → keys of the workloads it selects. */
  private readonly selectsWorkload = new Relation();
  /** Runner key → keys of the upstream Runners it selects. */
  private readonly selectsRunner = new Relation();
  /** Runners with a namespaceSelector: the only ones a namespace's labels concern. */
  private readonly namespaceScoped = new Set<string>();
  private cycles = new Map<string, string[]>();
  /** The Runner graph's version when cycles were last found. */
  private cyclesFoundAt = 0;

  constructor(world: SelectionWorld) {
    this.world = world;
  }

  workloadsOf(runner: string): ReadonlySet<string> {
    return this.selectsWorkload.targetsOf(runner);
  }

  upstreamsOf(runner: string): ReadonlySet<string> {
    return this.selectsRunner.targetsOf(runner);
  }

  downstreamOf(runner: string): ReadonlySet<string> {
    return this.selectsRunner.ownersOf(runner);
  }

  /** Members of the dependency cycle this Runner is in (namespace/name), or null. */
  cycleOf(runner: string): string[] | null {
    return this.cycles.get(runner) ?? null;
  }

  // ---- Runners -----------------------------------------------------------------------------

  /** A Runner appeared (or was replaced by a namesake): what it selects, and who selects it. */
  runnerAdded(runner: Runner): Set<string> {
    const key = runnerKey(runner);
    this.runnersByLabel.set(key, runner.metadata.labels);
    const concerned = this.selectorsChanged(runner);
    for (const k of this.matchAsUpstream(runner)) concerned.add(k);
    for (const k of this.findCycles()) concerned.add(k);
    concerned.delete(key);
    return concerned;
  }

  /** Its selectors changed: find what it selects again. Returns the Runners concerned (itself included). */
  selectorsChanged(runner: Runner): Set<string> {
    const key = runnerKey(runner);
    this.workloadSelectors.set(key, runner.spec?.workloadSelector);
    this.runnerSelectors.set(key, runner.spec?.runnerSelector);
    if (runner.spec?.namespaceSelector) this.namespaceScoped.add(key);
    else this.namespaceScoped.delete(key);
    this.matchWorkloadsOf(runner);
    this.matchUpstreamsOf(runner);
    return new Set([key, ...this.findCycles()]);
  }

  /** Its labels changed: which Runners select it as an upstream now. */
  runnerLabelsChanged(runner: Runner): Set<string> {
    this.runnersByLabel.set(runnerKey(runner), runner.metadata.labels);
    const concerned = this.matchAsUpstream(runner);
    for (const k of this.findCycles()) concerned.add(k);
    return concerned;
  }

  /** A Runner is gone: the Runners that selected it, and former cycle members, are concerned. */
  runnerRemoved(key: string): Set<string> {
    const downstream = new Set(this.selectsRunner.ownersOf(key));
    this.workloadSelectors.delete(key);
    this.runnerSelectors.delete(key);
    this.runnersByLabel.delete(key);
    this.namespaceScoped.delete(key);
    this.selectsWorkload.forgetOwner(key);
    this.selectsRunner.forgetOwner(key);
    this.selectsRunner.forgetTarget(key);
    for (const k of this.findCycles()) downstream.add(k);
    downstream.delete(key);
    return downstream;
  }

  // ---- Workloads ---------------------------------------------------------------------------

  /** A workload appeared or changed; `labelsChanged` false skips matching (same labels, same matches). */
  workloadChanged(ref: WorkloadRef, labels: Record<string, string>, labelsChanged: boolean): Set<string> {
    const wkey = workloadKey(ref);
    const concerned = new Set(this.selectsWorkload.ownersOf(wkey));
    if (!labelsChanged) return concerned;
    this.workloadsByLabel.set(wkey, labels);
    for (const rkey of this.workloadSelectors.candidates(labels)) concerned.add(rkey);
    for (const rkey of concerned) {
      const runner = this.world.runner(rkey);
      this.selectsWorkload.setLinked(rkey, wkey, runner !== undefined && this.workloadMatches(runner, ref.namespace, labels));
    }
    return concerned;
  }

  workloadRemoved(ref: WorkloadRef): Set<string> {
    const wkey = workloadKey(ref);
    const concerned = new Set(this.selectsWorkload.ownersOf(wkey));
    this.selectsWorkload.forgetTarget(wkey);
    this.workloadsByLabel.delete(wkey);
    return concerned;
  }

  /** A namespace's labels changed: only Runners with a namespaceSelector can see a difference. */
  namespaceLabelsChanged(): Set<string> {
    const affected = new Set<string>();
    for (const key of this.namespaceScoped) {
      const runner = this.world.runner(key);
      if (!runner) continue;
      this.matchWorkloadsOf(runner);
      this.matchUpstreamsOf(runner);
      affected.add(key);
    }
    for (const k of this.findCycles()) affected.add(k);
    return affected;
  }

  // ---- Matching ----------------------------------------------------------------------------

  private namespaceAllows(runner: Runner, namespace: string): boolean {
    const selector = runner.spec?.namespaceSelector;
    return !selector || matchesLabelSelector(selector, this.world.namespaceLabels(namespace));
  }

  private workloadMatches(runner: Runner, namespace: string, labels: Record<string, string>): boolean {
    const selector = runner.spec?.workloadSelector;
    return selector !== undefined && isEnabledWorkload(labels) && matchesLabelSelector(selector, labels) && this.namespaceAllows(runner, namespace);
  }

  private matchWorkloadsOf(runner: Runner): void {
    const rkey = runnerKey(runner);
    this.selectsWorkload.forgetOwner(rkey);
    const selector = runner.spec?.workloadSelector;
    if (!selector) return;
    for (const wkey of this.workloadsByLabel.candidates(selector)) {
      const labels = this.world.workloadLabels(wkey);
      if (labels && this.workloadMatches(runner, parseWorkloadKey(wkey).namespace, labels)) this.selectsWorkload.link(rkey, wkey);
    }
  }

  private upstreamMatches(downstream: Runner, upstream: Runner): boolean {
    const selector = downstream.spec?.runnerSelector;
    return selector !== undefined && matchesLabelSelector(selector, upstream.metadata.labels) && this.namespaceAllows(downstream, upstream.metadata.namespace!);
  }

  private matchUpstreamsOf(runner: Runner): void {
    const rkey = runnerKey(runner);
    const selector = runner.spec?.runnerSelector;
    this.selectsRunner.forgetOwner(rkey);
    if (!selector) return;
    for (const ukey of this.runnersByLabel.candidates(selector)) {
      const upstream = this.world.runner(ukey);
      if (upstream && this.upstreamMatches(runner, upstream)) this.selectsRunner.link(rkey, ukey);
    }
  }

  /** Which Runners select this one now; returns those concerned (before or after). */
  private matchAsUpstream(runner: Runner): Set<string> {
    const ukey = runnerKey(runner);
    const concerned = new Set(this.selectsRunner.ownersOf(ukey));
    for (const d of this.runnerSelectors.candidates(runner.metadata.labels)) concerned.add(d);
    for (const dkey of concerned) {
      const downstream = this.world.runner(dkey);
      this.selectsRunner.setLinked(dkey, ukey, downstream !== undefined && this.upstreamMatches(downstream, runner));
    }
    return concerned;
  }

  /** Finds the cycles again if the graph changed; returns the Runners whose cycle changed. */
  private findCycles(): Set<string> {
    const changed = new Set<string>();
    if (this.selectsRunner.version === this.cyclesFoundAt) return changed;
    this.cyclesFoundAt = this.selectsRunner.version;
    const edges = new Map<string, ReadonlySet<string>>();
    for (const owner of this.selectsRunner.owners()) edges.set(owner, this.selectsRunner.targetsOf(owner));
    const next = new Map<string, string[]>();
    for (const cycle of findCycles(edges)) for (const member of cycle) next.set(member, cycle);
    for (const k of new Set([...this.cycles.keys(), ...next.keys()])) {
      if ((this.cycles.get(k) ?? []).join('\n') !== (next.get(k) ?? []).join('\n')) changed.add(k);
    }
    this.cycles = next;
    return changed;
  }
}

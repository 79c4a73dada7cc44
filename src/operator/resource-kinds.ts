// Watches on demand for `spec.resources` (SPEC §2.3): one watch cache per kind, started when the first Runner
// names the kind and stopped when the last one stops naming it. The kind's plural comes from the API server's
// discovery. A kind that is not served waits for its CustomResourceDefinition to appear (cluster-wide) or is
// looked up again now and then (namespace-scoped, where CRDs may not be read); a kind the operator may not read
// is reported with the API server's own words, and picked up as soon as the permission is granted (the cache
// keeps retrying, with backoff). Each cache holds only enabled objects (label selector at the API server),
// reduced to their identity and verdicts (src/runner/readiness/resource-readiness.ts).
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { LABEL_AGGREGATE, LABEL_ENABLE } from '../api/runner.ts';
import { groupVersionPath } from '../k8s/api-paths.ts';
import { ApiError, type KubeClient } from '../k8s/client.ts';
import { errorText, type CacheHealth } from '../k8s/informer.ts';
import { watchCache, type WatchCache, type WatchScope } from '../k8s/watch-scope.ts';
import { groupOfApiVersion, kindPhrase, viewOfResource, type KindAvailability, type ResourceView } from '../runner/readiness/resource-readiness.ts';
import { backoffDelay, type BackoffPolicy } from '../time/backoff.ts';
import { slimCrdKind, type CrdKind } from './cached-objects.ts';

export interface KindRef {
  apiVersion: string;
  kind: string;
}

export const kindKey = (ref: KindRef): string => `${ref.apiVersion}/${ref.kind}`;


export interface ResourceKindEvents {
  changed(key: string, previous: ResourceView | undefined, current: ResourceView): void;
  deleted(key: string, last: ResourceView): void;
  /** The kind's availability changed: every Runner naming it is concerned. */
  availabilityChanged(key: string): void;
}

/** What one Runner needs: each kind it names, with the readyWhen expressions it applies to it. */
export type KindNeeds = Map<string, { ref: KindRef; expressions: Set<string> }>;

interface KindWatch {
  key: string;
  ref: KindRef;
  users: Set<string>;
  /** readyWhen expressions applied to this kind, each with the number of Runners applying it. */
  expressions: Map<string, number>;
  availability: KindAvailability;
  cache: WatchCache<ResourceView> | null;
  settled: Promise<void>;
  settle: () => void;
  retry: NodeJS.Timeout | undefined;
  retries: number;
}

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

/** Namespace-scoped operators cannot watch CustomResourceDefinitions: they ask discovery again this often. */
const UNSERVED_REPROBE_MS = 60_000;
/** Discovery failed: ask again, from 1 s up to 30 s. */
const DISCOVERY_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 30_000 };
/** Discovery lagging behind an Established CRD: five more asks within about 15 s. */
const DISCOVERY_LAG_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 8_000 };


export class ResourceKinds {
  private readonly watches = new Map<string, KindWatch>();
  private readonly needs = new Map<string, KindNeeds>();
  private crds: WatchCache<CrdKind> | null = null;
  private stopped = false;
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly scope: WatchScope;
  private readonly events: ResourceKindEvents;
  private readonly now: () => Date;

  constructor(client: KubeClient, log: Logger, scope: WatchScope, events: ResourceKindEvents, now: () => Date = () => new Date()) {
    this.client = client;
    this.log = log;
    this.scope = scope;
    this.events = events;
    this.now = now;
  }

  /** Records what a Runner names now (an empty map when it names nothing, or is gone). */
  setNeeds(runner: string, next: KindNeeds): void {
    const previous = this.needs.get(runner) ?? new Map();
    if (next.size === 0) this.needs.delete(runner);
    else this.needs.set(runner, next);
    for (const [key, { ref, expressions }] of next) {
      const watch = this.watches.get(key) ?? this.open(key, ref);
      watch.users.add(runner);
      const before = previous.get(key)?.expressions ?? new Set<string>();
      let added = false;
      for (const e of expressions) if (!before.has(e)) added = this.countExpression(watch, e, 1) || added;
      for (const e of before) if (!expressions.has(e)) this.countExpression(watch, e, -1);
      // Objects already cached were judged without the new expression: list them again.
      if (added && watch.cache) void watch.cache.resync().then(() => this.events.availabilityChanged(key));
    }
    for (const [key, { expressions }] of previous) {
      if (next.has(key)) continue;
      const watch = this.watches.get(key);
      if (!watch) continue;
      for (const e of expressions) this.countExpression(watch, e, -1);
      watch.users.delete(runner);
      if (watch.users.size === 0) this.close(watch);
    }
  }

  availability(key: string): KindAvailability {
    return this.watches.get(key)?.availability ?? { state: 'pending', message: 'not watched yet' };
  }

  get(key: string, namespace: string, name: string): ResourceView | undefined {
    return this.watches.get(key)?.cache?.get(namespace, name);
  }

  /** Resolves once every kind named now has had a first answer (listed, or found unserved or forbidden). */
  async settled(): Promise<void> {
    await Promise.all([...this.watches.values()].map((w) => w.settled));
  }

  get health(): CacheHealth[] {
    return [...(this.crds ? [this.crds] : []), ...[...this.watches.values()].flatMap((w) => (w.cache ? [w.cache] : []))];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watches.values()) clearTimeout(w.retry);
    await Promise.all([this.crds?.stop(), ...[...this.watches.values()].map((w) => w.cache?.stop())]);
  }

  private countExpression(watch: KindWatch, expression: string, delta: number): boolean {
    const count = (watch.expressions.get(expression) ?? 0) + delta;
    if (count <= 0) watch.expressions.delete(expression);
    else watch.expressions.set(expression, count);
    return delta > 0 && count === 1;
  }

  private open(key: string, ref: KindRef): KindWatch {
    let settle = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const watch: KindWatch = { key, ref, users: new Set(), expressions: new Map(), availability: { state: 'pending', message: `${kindPhrase(ref)}: looking it up` }, cache: null, settled, settle, retry: undefined, retries: 0 };
    this.watches.set(key, watch);
    this.log.info({ kind: key }, 'a Runner names this kind: watching it');
    void this.resolve(watch);
    return watch;
  }

  private close(watch: KindWatch): void {
    this.log.info({ kind: watch.key }, 'no Runner names this kind any more: no longer watching it');
    this.watches.delete(watch.key);
    clearTimeout(watch.retry);
    watch.settle();
    this.dropCache(watch);
    this.stopCrdWatchIfIdle();
  }

  private dropCache(watch: KindWatch): void {
    const cache = watch.cache;
    if (!cache) return;
    watch.cache = null;
    for (const object of [...cache.list()]) this.events.deleted(watch.key, object);
    void cache.stop();
  }

  private setAvailability(watch: KindWatch, availability: KindAvailability): void {
    const before = watch.availability;
    watch.availability = availability;
    if (availability.state !== 'pending') watch.settle();
    const same = before.state === availability.state && ('message' in before ? before.message : '') === ('message' in availability ? availability.message : '');
    if (before.state === 'unserved' && availability.state !== 'unserved') this.stopCrdWatchIfIdle();
    if (!same && this.watches.get(watch.key) === watch) this.events.availabilityChanged(watch.key);
  }

  /** Discovery: is the kind served, under which plural, namespaced or not. */
  private async resolve(watch: KindWatch): Promise<void> {
    const { ref } = watch;
    let list: ApiResourceList;
    try {
      list = await this.client.get<ApiResourceList>(groupVersionPath(ref.apiVersion));
    } catch (err) {
      if (this.watches.get(watch.key) !== watch) return;
      if (err instanceof ApiError && err.code === 404) return this.unserved(watch);
      this.setAvailability(watch, { state: 'failing', message: `${kindPhrase(ref)}: could not ask the API server whether it is served: ${errorText(err)}` });
      return this.retryLater(watch, backoffDelay(DISCOVERY_BACKOFF, watch.retries++));
    }
    if (this.watches.get(watch.key) !== watch || this.stopped) return;
    const resource = (list.resources ?? []).find((r) => r.kind === ref.kind && !r.name.includes('/'));
    if (!resource) return this.unserved(watch);
    if (!['list', 'watch'].every((verb) => resource.verbs?.includes(verb) ?? true)) {
      return this.setAvailability(watch, { state: 'failing', message: `${kindPhrase(ref)} cannot be listed and watched (its API offers ${resource.verbs?.join(', ') || 'no verbs'})` });
    }
    if (!resource.namespaced && this.scope.namespaces !== null) {
      return this.setAvailability(watch, { state: 'failing', message: `${kindPhrase(ref)} is cluster-scoped, and the operator watches only the namespaces ${this.scope.namespaces.join(', ')} (HESTIA_NAMESPACES)` });
    }
    watch.retries = 0;
    this.startCache(watch, resource.name, resource.namespaced);
  }

  private startCache(watch: KindWatch, plural: string, namespaced: boolean): void {
    const { ref, key } = watch;
    const cache = watchCache<ResourceView>(this.client, {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      plural,
      clusterScoped: !namespaced,
      labelSelector: `${LABEL_ENABLE}=true`,
      slim: (o: KubernetesObject) => viewOfResource(o, watch.expressions.keys(), this.now()),
    }, this.log, this.scope);
    watch.cache = cache;
    this.setAvailability(watch, { state: 'pending', message: `${kindPhrase(ref)}: listing its objects` });
    const current = () => watch.cache === cache && this.watches.get(key) === watch;
    cache.onChange((previous, object) => current() && this.events.changed(key, previous, object));
    cache.onDelete((object) => current() && this.events.deleted(key, object));
    // Namespace-scoped, one cache per namespace: ready once all of them are.
    cache.onSync(() => current() && cache.synced && this.setAvailability(watch, { state: 'ready' }));
    cache.onError((err) => current() && this.cacheFailed(watch, plural, err));
    void cache.start();
  }

  private cacheFailed(watch: KindWatch, plural: string, err: unknown): void {
    const { ref } = watch;
    if (err instanceof ApiError && err.code === 404) {
      this.dropCache(watch);
      return this.unserved(watch);
    }
    if (err instanceof ApiError && err.code === 403) {
      const resource = `${plural}${groupOfApiVersion(ref.apiVersion) ? `.${groupOfApiVersion(ref.apiVersion)}` : ''}`;
      const grant = `grant get, list and watch on ${resource} (a ClusterRole labelled ${LABEL_AGGREGATE}: "true" does it, see deploy/rbac)`;
      return this.setAvailability(watch, { state: 'forbidden', message: `${kindPhrase(ref)} may not be read by the operator: ${err.message}; ${grant}` });
    }
    // Another failure of a cache that is in sync changes nothing its Runners can act on; it retries by itself.
    if (watch.availability.state !== 'ready') this.setAvailability(watch, { state: 'failing', message: `${kindPhrase(ref)}: listing failed, retrying: ${errorText(err)}` });
  }

  private unserved(watch: KindWatch): void {
    this.setAvailability(watch, { state: 'unserved', message: `${kindPhrase(watch.ref)} is not served by this cluster` });
    if (this.scope.namespaces !== null) return this.retryLater(watch, UNSERVED_REPROBE_MS);
    this.watchCrds();
  }

  private retryLater(watch: KindWatch, delayMs: number): void {
    clearTimeout(watch.retry);
    watch.retry = setTimeout(() => {
      if (this.watches.get(watch.key) === watch && !this.stopped && !watch.cache) void this.resolve(watch);
    }, delayMs);
  }

  /** Cluster-wide: CustomResourceDefinitions tell when an unserved kind appears. Started on first need. */
  private watchCrds(): void {
    if (this.crds || this.stopped) return;
    const crds = watchCache<CrdKind>(this.client, { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', plural: 'customresourcedefinitions', clusterScoped: true, slim: slimCrdKind }, this.log, this.scope);
    this.crds = crds;
    crds.onChange((_, crd) => {
      if (!crd.established) return;
      for (const watch of this.watches.values()) {
        if (watch.availability.state !== 'unserved' || groupOfApiVersion(watch.ref.apiVersion) !== crd.group || watch.ref.kind !== crd.kind) continue;
        this.log.info({ kind: watch.key }, 'its CustomResourceDefinition is established: watching this kind');
        // Discovery can lag a moment behind Established: a kind still missing is asked for again.
        watch.retries = 0;
        void this.resolve(watch).then(() => {
          if (watch.availability.state === 'unserved' && watch.retries < 5) this.retryLater(watch, backoffDelay(DISCOVERY_LAG_BACKOFF, watch.retries++));
        });
      }
    });
    void crds.start();
  }

  private stopCrdWatchIfIdle(): void {
    if (!this.crds || [...this.watches.values()].some((w) => w.availability.state === 'unserved')) return;
    void this.crds.stop();
    this.crds = null;
  }
}

// A watch cache of one kind ("reflector"): a paged LIST, then a WATCH from its resourceVersion with
// bookmarks, re-opened when the server ends it and re-listed after 410 Gone; failures, storms of 410s
// and watches closed as soon as opened are retried with backoff (src/k8s/watch-restart.ts). Each object
// is reduced by the source's `slim` before it is cached, so the cache holds only what the operator
// reads; an object `slim` throws on is logged and left out, and the watch goes on past it. Changes are
// told as (previous, current) pairs.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectionPath } from './api-paths.ts';
import { ApiError, type KubeClient, type WatchEvent } from './client.ts';
import { listPages } from './list-pages.ts';
import { keyOf, objectKey } from './object-key.ts';
import { Projection } from './projection.ts';
import { compareResourceVersions } from './resource-version.ts';
import { RestartBackoff, restartAfter, type WatchEnd, type WatchRun } from './watch-restart.ts';

export interface InformerSource<T extends KubernetesObject = KubernetesObject> {
  /** e.g. `apps/v1` */
  apiVersion: string;
  kind: string;
  /** The resource's plural name, e.g. `deployments`. */
  plural: string;
  /** Cluster-scoped kinds (Namespace, CustomResourceDefinition) have no namespace to narrow to. */
  clusterScoped?: boolean;
  labelSelector?: string;
  fieldSelector?: string;
  /** What of an object is kept in the cache (default: all of it). */
  slim?: (object: KubernetesObject) => T;
  /**
   * Whether an object is cached at all (default: every one). What it says may change (a replica sharing the Runners
   * keeps only its own Runners' Jobs): `resync` then takes in what is kept now, `dropUnkept` lets go of the rest.
   */
  keep?: (object: KubernetesObject) => boolean;
}

export type ChangeHandler<T> = (previous: T | undefined, current: T) => void;
export type DeleteHandler<T> = (last: T) => void;
/** A LIST or WATCH failed, or a watch closed as soon as opened (not a routine 410): the cache retries by itself, with backoff. */
export type ErrorHandler = (error: unknown) => void;

const PAGE_SIZE = 500;
/** The server ends a watch after 5–10 minutes (spread, so that informers do not re-open together). */
const WATCH_SECONDS_MIN = 300;
/**
 * A watch that has said nothing for this long is a dead connection (a server behind a load balancer
 * that died, a stalled proxy: TCP alone may never tell). The API server sends a bookmark on a watch
 * that asked for them about once a minute (`bench/watch-bookmarks.ts`: the first after 120 s, then every 60 s),
 * so a healthy watch is never this quiet; a false alarm costs one re-opened watch.
 */
export const WATCH_SILENCE_MS = 150_000;

/** How a watch cache is doing, for readiness and metrics. */
export interface CacheHealth {
  readonly source: { kind: string };
  readonly synced: boolean;
  readonly restarts: number;
  readonly lists: number;
}

export class Informer<T extends KubernetesObject = KubernetesObject> implements CacheHealth {
  readonly source: InformerSource<T>;
  /** The collection watched: across namespaces, or in the one given to the constructor. */
  readonly path: string;
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly store = new Map<string, T>();
  private readonly changeHandlers: ChangeHandler<T>[] = [];
  private readonly deleteHandlers: DeleteHandler<T>[] = [];
  private readonly errorHandlers: ErrorHandler[] = [];
  private readonly syncHandlers: (() => void)[] = [];
  /** A re-list was asked for (resync): the watch was ended on purpose, not by a failure. */
  private resyncing = false;
  private resourceVersion: string | undefined;
  private abort: AbortController | undefined;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private syncWaiters: (() => void)[] = [];
  /** Callers of `resync`, each waiting for a LIST begun after it asked. */
  private resyncWaiters: (() => void)[] = [];
  private relistWanted = false;
  /** Ends the wait before the next attempt (on stop or resync). */
  private wake: (() => void) | undefined;
  private readonly projection: Projection<T>;
  /** The keys of objects deleted, as the watch tells them, one set per `listIn` under way. */
  private readonly deletesSeen = new Set<Set<string>>();
  /** While a re-list is under way: the keys `listIn` took in meanwhile that the re-list cannot speak for. */
  private relistTakenIn: Set<string> | undefined;
  /** Re-lists begun so far, and the number of the last one that completed. */
  private relistsBegun = 0;
  private relistDone = 0;
  /** Times the watch had to be re-established after an error or a very short watch (not the server's routine timeouts). */
  restarts = 0;
  /** LISTs made (the first, and one per 410 Gone). */
  lists = 0;
  synced = false;

  constructor(client: KubeClient, source: InformerSource<T>, log: Logger, namespace?: string) {
    this.client = client;
    this.source = source;
    this.path = collectionPath(source.apiVersion, source.plural, source.clusterScoped ? undefined : namespace);
    this.log = log.child({ informer: source.kind, ...(namespace ? { namespace } : {}) });
    this.projection = new Projection(source.slim, this.log);
  }

  onChange(handler: ChangeHandler<T>): void {
    this.changeHandlers.push(handler);
  }

  onDelete(handler: DeleteHandler<T>): void {
    this.deleteHandlers.push(handler);
  }

  onError(handler: ErrorHandler): void {
    this.errorHandlers.push(handler);
  }

  /** Called whenever the cache comes into sync: after its first LIST, and again after a failure. */
  onSync(handler: () => void): void {
    this.syncHandlers.push(handler);
  }

  /**
   * Lists again now, so that every object passes through `slim` once more (its projection changed);
   * resolves once the new LIST is in the cache. Objects whose resourceVersion did not change are not
   * told as changes.
   */
  async resync(): Promise<void> {
    if (this.stopped) return;
    // Resolved by a LIST that starts after this call, not by one already under way (it may have passed over
    // objects that `slim` or `keep` now treat otherwise).
    const listed = new Promise<void>((resolve) => this.resyncWaiters.push(resolve));
    this.relistWanted = true;
    this.resyncing = true;
    this.abort?.abort();
    this.wake?.();
    await listed;
  }

  /**
   * Takes in the objects of a LIST narrowed by `labelSelector` (besides the source's own), leaving the rest of the cache
   * as it is: what `keep` now keeps of a part of the kind, without listing all of it as `resync` does. An object the
   * watch brought newer meanwhile keeps that; one the watch saw deleted meanwhile is not brought back. Resolves once
   * every page is in the cache.
   */
  async listIn(labelSelector: string): Promise<void> {
    if (this.stopped) return;
    const deletes = new Set<string>();
    this.deletesSeen.add(deletes);
    const begunBefore = this.relistsBegun;
    try {
      await this.eachListed(labelSelector, (item) => this.listedIn(item, deletes, begunBefore));
    } finally {
      this.deletesSeen.delete(deletes);
    }
  }

  /**
   * One object of a `listIn` begun after `begunBefore` re-lists had begun. A re-list begun after it lists what `keep`
   * keeps now: once one has completed, an object it left out is gone; one still under way speaks for what it finds.
   * A re-list begun before may have passed over the object before `keep` kept it: it must not take it for gone.
   */
  private listedIn(item: KubernetesObject, deletes: ReadonlySet<string>, begunBefore: number): void {
    if (this.source.keep && !this.source.keep(item)) return;
    const key = objectKey(item);
    if (deletes.has(key)) return;
    if (this.relistDone > begunBefore && !this.store.has(key)) return;
    const cached = this.store.get(key);
    // The watch's word stands unless the list's is known to be newer (opaque versions cannot say).
    if (cached && compareResourceVersions(cached.metadata?.resourceVersion ?? '', item.metadata?.resourceVersion ?? '') !== -1) return;
    const slim = this.projection.of(key, item);
    if (!slim) return;
    if (this.relistsBegun <= begunBefore) this.relistTakenIn?.add(key);
    this.changed(key, slim);
  }

  /** Objects `keep` no longer keeps leave the cache, each told as deleted (it is gone from what the cache serves). */
  dropUnkept(): void {
    const keep = this.source.keep;
    if (!keep) return;
    for (const [key, object] of [...this.store]) if (!keep(object)) this.deleted(key, object);
  }

  /**
   * A fresh read of a cached object, projected and cached in place of what is cached of it unless that is newer; told
   * as a change even at the same version, for what `slim` keeps of it may have changed (a replica sharing the Runners
   * keeps all of those it acts on, little of the others'). One not cached is left to the watch: it may be gone.
   */
  takeIn(object: KubernetesObject): void {
    const key = objectKey(object);
    const cached = this.store.get(key);
    if (!cached || cached.metadata?.uid !== object.metadata?.uid) return;
    if (compareResourceVersions(cached.metadata?.resourceVersion ?? '', object.metadata?.resourceVersion ?? '') === 1) return;
    const slim = this.projection.of(key, object);
    if (slim) this.changed(key, slim, true);
  }

  /**
   * The cached objects `which` picks, projected again from what is cached of them (so `slim` must accept its own
   * output), each told as a change: what `slim` keeps of them changed.
   */
  reproject(which: (object: T) => boolean): void {
    for (const [key, object] of [...this.store]) {
      if (!which(object)) continue;
      const slim = this.projection.of(key, object);
      if (slim) this.changed(key, slim, true);
    }
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(keyOf(namespace, name));
  }

  list(): IterableIterator<T> {
    return this.store.values();
  }

  get size(): number {
    return this.store.size;
  }

  /** Object versions left out because `slim` threw on them (src/k8s/projection.ts). */
  get skipped(): number {
    return this.projection.skipped;
  }

  /** Resolves once a LIST has filled the cache (retrying failures meanwhile). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    const synced = new Promise<void>((resolve) => this.syncWaiters.push(resolve));
    this.loop = this.run();
    await synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    for (const resolve of [...this.syncWaiters.splice(0), ...this.resyncWaiters.splice(0)]) resolve();
    await this.loop;
  }

  private async run(): Promise<void> {
    const backoff = new RestartBackoff();
    while (!this.stopped) {
      const run: WatchRun = { opened: false, openMs: 0, events: 0 };
      let failure: { error: unknown } | undefined;
      try {
        if (this.resourceVersion === undefined || this.relistWanted) await this.relist();
        // Asked to list again while that LIST was under way: at once, before any watch.
        if (this.relistWanted) continue;
        await this.watch(run);
      } catch (error) {
        failure = { error };
      }
      if (this.stopped) return;
      const end = this.endOf(failure);
      if (end.kind === 'resync' || end.kind === 'gone') this.resourceVersion = undefined;
      const { waitMs, failed } = restartAfter(end, run, backoff);
      if (end.kind === 'gone') this.log.info({ retryInMs: waitMs }, 'watch expired (410 Gone); listing again');
      if (failed) {
        // A watch closed as soon as opened says nothing, however cleanly: client-go's "very short watch".
        const err = failure ? failure.error : new ApiError(0, `very short watch: closed after ${Math.round(run.openMs)} ms with no event`);
        this.synced = false;
        this.restarts += 1;
        this.log.warn({ err: errorText(err), retryInMs: waitMs }, 'watch failed; restarting it');
        for (const handler of this.errorHandlers) this.safely(() => handler(err));
      }
      if (waitMs > 0) await this.pause(waitMs);
    }
  }

  private endOf(failure: { error: unknown } | undefined): WatchEnd {
    if (this.resyncing) {
      this.resyncing = false;
      return { kind: 'resync' };
    }
    if (!failure) return { kind: 'ended' };
    const err = failure.error;
    if (err instanceof ApiError && err.code === 410) return { kind: 'gone' };
    const retryAfter = err instanceof ApiError ? err.retryAfterSeconds : undefined;
    return { kind: 'failed', ...(retryAfter !== undefined ? { retryAfterMs: retryAfter * 1000 } : {}) };
  }

  /** Waits `ms`, or less if the cache is stopped or asked to resync meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** A paged LIST; objects gone since the last one are told as deleted, changed ones as changed. */
  private async relist(): Promise<void> {
    const waiting = this.resyncWaiters.splice(0);
    this.relistWanted = false;
    try {
      await this.listAll();
    } catch (err) {
      this.resyncWaiters.unshift(...waiting); // answered by the LIST that succeeds
      throw err;
    }
    for (const resolve of waiting) resolve();
  }

  private async listAll(): Promise<void> {
    this.resyncing = false;
    this.lists += 1;
    const fresh = new Map<string, T>();
    const number = ++this.relistsBegun;
    const takenIn = (this.relistTakenIn = new Set());
    let resourceVersion: string | undefined;
    try {
      resourceVersion = await this.eachListed(undefined, (item) => {
        if (this.source.keep && !this.source.keep(item)) return;
        const key = objectKey(item);
        // One that cannot be projected keeps its last projection: it is not gone, and must not be told as deleted.
        const slim = this.projection.of(key, item) ?? this.store.get(key);
        if (slim) fresh.set(key, slim);
      });
    } finally {
      this.relistTakenIn = undefined;
    }
    for (const [key, last] of [...this.store]) if (!fresh.has(key) && !takenIn.has(key)) this.deleted(key, last);
    for (const [key, object] of fresh) this.changed(key, object);
    this.relistDone = number;
    this.resourceVersion = resourceVersion;
    this.markSynced();
  }

  /** A paged LIST of the source, narrowed by `labelSelector` too if given; the resourceVersion of its last page. */
  private async eachListed(labelSelector: string | undefined, each: (item: KubernetesObject) => void): Promise<string | undefined> {
    const query = { labelSelector: [this.source.labelSelector, labelSelector].filter(Boolean).join(',') || undefined, fieldSelector: this.source.fieldSelector };
    let resourceVersion: string | undefined;
    for await (const page of listPages<KubernetesObject>(this.client, this.path, query, PAGE_SIZE)) {
      for (const item of page.items ?? []) each(item);
      resourceVersion = page.metadata?.resourceVersion;
      if (this.stopped) break;
    }
    return resourceVersion;
  }

  /** One watch from the cached resourceVersion; `run` is kept up to date with how it goes. */
  private async watch(run: WatchRun): Promise<void> {
    const seconds = WATCH_SECONDS_MIN + Math.floor(Math.random() * WATCH_SECONDS_MIN);
    this.abort = new AbortController();
    // Stopped while a LIST was in flight: that stop aborted no watch, and one opened now would hold it for minutes.
    if (this.stopped) return;
    let openedAt = 0;
    try {
      const { labelSelector, fieldSelector } = this.source;
      await this.client.watch<KubernetesObject>(this.path, { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: seconds, labelSelector, fieldSelector }, {
        onEvent: (event) => {
          this.handle(event);
          run.events += 1;
        },
        // In sync again as soon as a watch is open after a failure, whether or not anything happens.
        onOpen: () => {
          run.opened = true;
          openedAt = performance.now();
          this.markSynced();
        },
        signal: this.abort.signal,
        idleMs: WATCH_SILENCE_MS,
      });
    } finally {
      if (run.opened) run.openMs = performance.now() - openedAt;
    }
  }

  private handle(event: WatchEvent<KubernetesObject>): void {
    if (this.stopped) return;
    const rv = event.object?.metadata?.resourceVersion;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const key = objectKey(event.object);
        if (this.source.keep && !this.source.keep(event.object)) {
          const last = this.store.get(key);
          if (last) this.deleted(key, last);
          break;
        }
        const slim = this.projection.of(key, event.object);
        if (slim) this.changed(key, slim);
        break;
      }
      case 'DELETED': {
        const key = objectKey(event.object);
        const last = this.projection.of(key, event.object) ?? this.store.get(key);
        this.projection.forget(key);
        for (const deletes of this.deletesSeen) deletes.add(key);
        if (last) this.deleted(key, last);
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const status = event.object as { code?: number; message?: string };
        throw new ApiError(status.code ?? 500, JSON.stringify(event.object));
      }
    }
    if (rv) this.resourceVersion = rv;
  }

  private markSynced(): void {
    const was = this.synced;
    this.synced = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
    if (!was) for (const handler of this.syncHandlers) this.safely(handler);
  }

  private changed(key: string, object: T, reprojected = false): void {
    const previous = this.store.get(key);
    this.store.set(key, object);
    // A re-list replays objects already known; they are not changes.
    if (!reprojected && previous?.metadata?.resourceVersion === object.metadata?.resourceVersion) return;
    for (const handler of this.changeHandlers) this.safely(() => handler(previous, object));
  }

  private deleted(key: string, last: T): void {
    if (!this.store.delete(key)) return;
    for (const handler of this.deleteHandlers) this.safely(() => handler(last));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, 'handler failed');
    }
  }
}

export const errorText = (err: unknown): string => {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null) {
    const e = err as { body?: unknown; message?: unknown };
    if (typeof e.body === 'string') return e.body;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
};

// A watch cache that survives what client-node's ListWatch does not: ListWatch re-lists after
// 410 Gone by itself, but any other failure (a LIST refused while the API server restarts,
// a dropped connection) stops it for good. This wrapper restarts it with backoff, tells
// changes as (previous, current) pairs, and reports whether the cache is in sync.
import { KubernetesObjectApi, ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface InformerSource {
  /** e.g. `apps/v1` */
  apiVersion: string;
  kind: string;
  /** Collection path across namespaces, e.g. `/apis/apps/v1/deployments`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export type ChangeHandler<T> = (previous: T | undefined, current: T) => void;
export type DeleteHandler<T> = (last: T) => void;

export const objectKey = (o: KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 30_000;

export class ResilientInformer<T extends KubernetesObject> {
  readonly source: InformerSource;
  private readonly kc: KubeConfig;
  private readonly log: Logger;
  private listWatch: ListWatch<T> | undefined;
  /** Our own copy of the last object seen per key, so an update can be told with its predecessor. */
  private readonly seen = new Map<string, T>();
  private readonly changeHandlers: ChangeHandler<T>[] = [];
  private readonly deleteHandlers: DeleteHandler<T>[] = [];
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Times the underlying watch cache had to be rebuilt after an error. */
  restarts = 0;
  synced = false;

  constructor(kc: KubeConfig, source: InformerSource, log: Logger) {
    this.kc = kc;
    this.source = source;
    this.log = log.child({ informer: source.kind });
  }

  onChange(handler: ChangeHandler<T>): void {
    this.changeHandlers.push(handler);
  }

  onDelete(handler: DeleteHandler<T>): void {
    this.deleteHandlers.push(handler);
  }

  get(namespace: string, name: string): T | undefined {
    return this.seen.get(`${namespace}/${name}`);
  }

  list(): IterableIterator<T> {
    return this.seen.values();
  }

  get size(): number {
    return this.seen.size;
  }

  private syncWaiters: (() => void)[] = [];

  /** Resolves once a LIST has filled the cache and the watch is open (retrying failures meanwhile). */
  async start(): Promise<void> {
    this.stopped = false;
    const synced = new Promise<void>((resolve) => this.syncWaiters.push(resolve));
    await this.open();
    await synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.listWatch?.stop();
    this.listWatch = undefined;
  }

  /** Opens a fresh ListWatch; true when its LIST succeeded and the watch is open. */
  private async open(): Promise<boolean> {
    const { apiVersion, kind, path, labelSelector, fieldSelector } = this.source;
    const api = this.kc.makeApiClient(KubernetesObjectApi);
    const listFn = () =>
      api.list<T>(apiVersion, kind, undefined, undefined, undefined, undefined, fieldSelector, labelSelector);
    const lw = new ListWatch<T>(path, new Watch(this.kc), listFn, false, labelSelector, fieldSelector);
    this.listWatch = lw;
    lw.on('add', (obj) => this.changed(obj));
    lw.on('update', (obj) => this.changed(obj));
    lw.on('delete', (obj) => this.deleted(obj));
    let failed = false;
    lw.on('error', (err) => {
      failed = true;
      this.failed(lw, err);
    });
    await lw.start();
    if (this.listWatch !== lw || failed || this.stopped) return false;
    // Only a successful LIST resets the backoff (ListWatch says "connect" before it lists).
    this.failures = 0;
    this.synced = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
    return true;
  }

  private changed(obj: T): void {
    const key = objectKey(obj);
    const previous = this.seen.get(key);
    this.seen.set(key, obj);
    // A re-list after a restart replays objects we already know; they are not changes.
    if (previous?.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    for (const handler of this.changeHandlers) this.safely(() => handler(previous, obj));
  }

  /** `last` is the object's final state: a watch DELETE event carries it. */
  private deleted(last: T): void {
    this.seen.delete(objectKey(last));
    for (const handler of this.deleteHandlers) this.safely(() => handler(last));
  }

  private failed(lw: ListWatch<T>, err: unknown): void {
    // ListWatch.stop() itself reports an abort; a deliberate stop is not a failure.
    if (this.stopped || this.listWatch !== lw) return;
    this.synced = false;
    this.restarts += 1;
    this.failures += 1;
    const delay = Math.min(RESTART_BASE_MS * 2 ** (this.failures - 1), RESTART_MAX_MS);
    this.log.warn({ err: errorText(err), retryInMs: delay }, 'watch failed; restarting it');
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.listWatch = undefined;
      void lw.stop();
      // A fresh ListWatch re-lists; `seen` reconciles: deletions missed while down are found below.
      const before = new Set(this.seen.keys());
      // Only a LIST that succeeded says what is gone; a failed one has already scheduled the next try.
      this.open()
        .then((synced) => synced && this.forgetVanished(before))
        .catch((e: unknown) => this.failed(this.listWatch ?? lw, e));
    }, delay);
  }

  /** After a re-list, objects we knew that are no longer in the cache were deleted while we were blind. */
  private forgetVanished(knownBefore: Set<string>): void {
    const lw = this.listWatch;
    if (!lw) return;
    const present = new Set(lw.list().map(objectKey));
    for (const key of knownBefore) {
      const last = this.seen.get(key);
      if (last && !present.has(key)) this.deleted(last);
    }
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
    const e = err as { body?: unknown; message?: unknown; code?: unknown };
    if (typeof e.body === 'string') return e.body;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
};

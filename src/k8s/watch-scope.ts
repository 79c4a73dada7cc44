// Where the operator looks: every namespace (one cache per kind, with cluster-wide permissions),
// or only the namespaces it is given (HESTIA_NAMESPACES=a,b: one cache per kind and namespace,
// with no permission outside them). Both look the same to the rest of the operator.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectionPath } from './api-paths.ts';
import type { KubeClient } from './client.ts';
import { Informer, type CacheHealth, type ChangeHandler, type DeleteHandler, type ErrorHandler, type InformerSource } from './informer.ts';

/** `namespaces` null: every namespace. */
export interface WatchScope {
  readonly namespaces: readonly string[] | null;
}

export const CLUSTER_WIDE: WatchScope = { namespaces: null };

/** HESTIA_NAMESPACES=a,b (spaces and empty entries ignored); unset or empty: every namespace. */
export function watchScopeFrom(env: NodeJS.ProcessEnv): WatchScope {
  const names = (env.HESTIA_NAMESPACES ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  return names.length > 0 ? { namespaces: [...new Set(names)].sort() } : CLUSTER_WIDE;
}

export interface WatchCache<T extends KubernetesObject> extends CacheHealth {
  get(namespace: string, name: string): T | undefined;
  list(): Iterable<T>;
  readonly size: number;
  onChange(handler: ChangeHandler<T>): void;
  onDelete(handler: DeleteHandler<T>): void;
  onError(handler: ErrorHandler): void;
  onSync(handler: () => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  resync(): Promise<void>;
  listIn(labelSelector: string): Promise<void>;
  dropUnkept(): void;
  takeIn(object: KubernetesObject): void;
  reproject(which: (object: T) => boolean): void;
}

/** The collections of a namespaced kind in the scope: one across namespaces, or one per namespace. */
export function collectionsIn(scope: WatchScope, apiVersion: string, plural: string): string[] {
  return scope.namespaces === null ? [collectionPath(apiVersion, plural)] : scope.namespaces.map((ns) => collectionPath(apiVersion, plural, ns));
}

/** A watch cache of one kind in the scope: an Informer, or one per namespace behind one face. */
export function watchCache<T extends KubernetesObject>(client: KubeClient, source: InformerSource<T>, log: Logger, scope: WatchScope): WatchCache<T> {
  if (scope.namespaces === null || source.clusterScoped) return new Informer(client, source, log);
  return new NamespacedCaches(new Map(scope.namespaces.map((ns) => [ns, new Informer(client, source, log, ns)])), source);
}

class NamespacedCaches<T extends KubernetesObject> implements WatchCache<T> {
  private readonly byNamespace: Map<string, Informer<T>>;
  readonly source: { kind: string };

  constructor(byNamespace: Map<string, Informer<T>>, source: InformerSource<T>) {
    this.byNamespace = byNamespace;
    this.source = source;
  }

  private get all(): Informer<T>[] {
    return [...this.byNamespace.values()];
  }

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(namespace, name);
  }

  *list(): Iterable<T> {
    for (const informer of this.all) yield* informer.list();
  }

  get size(): number {
    return this.all.reduce((n, i) => n + i.size, 0);
  }

  get synced(): boolean {
    return this.all.every((i) => i.synced);
  }

  get restarts(): number {
    return this.all.reduce((n, i) => n + i.restarts, 0);
  }

  get lists(): number {
    return this.all.reduce((n, i) => n + i.lists, 0);
  }

  onChange(handler: ChangeHandler<T>): void {
    for (const i of this.all) i.onChange(handler);
  }

  onDelete(handler: DeleteHandler<T>): void {
    for (const i of this.all) i.onDelete(handler);
  }

  onError(handler: ErrorHandler): void {
    for (const i of this.all) i.onError(handler);
  }

  onSync(handler: () => void): void {
    for (const i of this.all) i.onSync(handler);
  }

  async resync(): Promise<void> {
    await Promise.all(this.all.map((i) => i.resync()));
  }

  async listIn(labelSelector: string): Promise<void> {
    await Promise.all(this.all.map((i) => i.listIn(labelSelector)));
  }

  dropUnkept(): void {
    for (const i of this.all) i.dropUnkept();
  }

  takeIn(object: KubernetesObject): void {
    this.byNamespace.get(object.metadata?.namespace ?? '')?.takeIn(object);
  }

  reproject(which: (object: T) => boolean): void {
    for (const i of this.all) i.reproject(which);
  }

  async start(): Promise<void> {
    await Promise.all(this.all.map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((i) => i.stop()));
  }
}

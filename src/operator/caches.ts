// The operator's watch caches of Runners, their Jobs and Namespaces (workloads: workload-kinds.ts),
// each narrowed to what the operator reads (cached-objects.ts). One place says what is watched.
import type { KubernetesObject, V1Job, V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION, LABEL_RUNNER_NAME, PLURAL, type Runner } from '../api/runner.ts';
import type { KubeClient } from '../k8s/client.ts';
import type { CacheHealth } from '../k8s/informer.ts';
import { objectKey, parseKey } from '../k8s/object-key.ts';
import { watchCache, type WatchCache, type WatchScope } from '../k8s/watch-scope.ts';
import { controllingRunnerUid } from '../runner/job.ts';
import { foreignRunner, keptInFull, slimJob, slimNamespace, slimRunner, type CachedRunner } from './cached-objects.ts';

export class Caches {
  readonly runners: WatchCache<CachedRunner>;
  /** Only Jobs that Runners made: every one carries the Runner's name label. */
  readonly jobs: WatchCache<V1Job>;
  /** Namespaces and their labels (for namespaceSelector); not watched in namespace-scoped mode. */
  readonly namespaces: WatchCache<V1Namespace> | null;
  /** Snapshots are kept until the actors are restored from them at start-up, then dropped. */
  private keepSnapshots = true;
  private readonly keyByUid = new Map<string, string>();

  /**
   * `holds`, when replicas share the Runners: whether this one keeps all of the Runner with this uid (it acts on it, or
   * is giving it back, src/operator/handover.ts). Of the others it keeps only what its own Runners read of them
   * (`foreignRunner`), and none of their Jobs. What it says changes as Runners move: `takenUp` and `givenUp` re-project
   * the Runners, the Jobs cache's `resync` and `dropUnkept` the Jobs.
   */
  constructor(client: KubeClient, log: Logger, scope: WatchScope, holds?: (runnerUid: string) => boolean) {
    const slim = (o: KubernetesObject) => (holds && !holds(o.metadata?.uid ?? '') ? foreignRunner(o) : slimRunner(o, this.keepSnapshots));
    this.runners = watchCache<CachedRunner>(client, { apiVersion: API_VERSION, kind: 'Runner', plural: PLURAL, slim }, log, scope);
    this.jobs = watchCache<V1Job>(client, {
      apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs', labelSelector: LABEL_RUNNER_NAME, slim: slimJob,
      ...(holds ? { keep: (o: KubernetesObject) => { const uid = controllingRunnerUid(o as V1Job); return !uid || holds(uid); } } : {}),
    }, log, scope);
    this.namespaces = scope.namespaces === null
      ? watchCache<V1Namespace>(client, { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', clusterScoped: true, slim: slimNamespace }, log, scope)
      : null;
    this.runners.onChange((_, r) => this.keyByUid.set(r.metadata.uid!, objectKey(r)));
    this.runners.onDelete((r) => {
      if (this.keyByUid.get(r.metadata.uid!) === objectKey(r)) this.keyByUid.delete(r.metadata.uid!);
    });
  }

  private get all(): WatchCache<KubernetesObject>[] {
    return [this.runners, this.jobs, ...(this.namespaces ? [this.namespaces] : [])] as WatchCache<KubernetesObject>[];
  }

  async start(): Promise<void> {
    await Promise.all(this.all.map((c) => c.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((c) => c.stop()));
  }

  get health(): CacheHealth[] {
    return this.all;
  }

  /** The actors are restored: from now on a Runner's snapshot is only ever written, never read. */
  forgetSnapshots(): void {
    this.keepSnapshots = false;
    for (const runner of this.runners.list()) if (runner.status) delete runner.status.snapshot;
  }

  /** This replica now acts on these Runners (read afresh): the cache keeps all it needs of them from now on. */
  takenUp(runners: Iterable<Runner>): void {
    for (const runner of runners) this.runners.takeIn(runner);
  }

  /** This replica no longer acts on the Runners whose uid `which` picks: the cache keeps only what an upstream needs of them. */
  givenUp(which: (runnerUid: string) => boolean): void {
    this.runners.reproject((r) => which(r.metadata.uid ?? ''));
  }

  /**
   * The Runner as this replica acts on it: all of it, or nothing while the cache keeps only what an upstream needs of
   * it (another replica acts on it, or this one has just been given it and not yet read it afresh).
   */
  runner(key: string): CachedRunner | undefined {
    const runner = this.upstream(key);
    return runner && keptInFull(runner) ? runner : undefined;
  }

  /** The Runner as an upstream or a selector of upstreams is read: what every cached Runner has. */
  upstream(key: string): CachedRunner | undefined {
    const { namespace, name } = parseKey(key);
    return this.runners.get(namespace, name);
  }

  runnerKeyOfUid(uid: string): string | undefined {
    return this.keyByUid.get(uid);
  }

  runnerByUid(uid: string): CachedRunner | undefined {
    const key = this.keyByUid.get(uid);
    return key === undefined ? undefined : this.runner(key);
  }

  job(key: string): V1Job | undefined {
    const { namespace, name } = parseKey(key);
    return this.jobs.get(namespace, name);
  }

  namespaceLabels(namespace: string): Record<string, string> {
    return this.namespaces?.get('', namespace)?.metadata?.labels ?? {};
  }
}

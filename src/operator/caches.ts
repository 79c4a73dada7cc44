// The operator's watch caches of Runners, their Jobs and Namespaces (workloads: workload-kinds.ts),
// each narrowed to what the operator reads (cached-objects.ts). One place says what is watched.
import type { V1Job, V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION, GROUP, LABEL_RUNNER_NAME, PLURAL, VERSION } from '../api/runner.ts';
import type { KubeClient } from '../k8s/client.ts';
import { Informer, objectKey, type CacheHealth } from '../k8s/informer.ts';
import { slimJob, slimNamespace, slimRunner, type CachedRunner } from './cached-objects.ts';

export class Caches {
  readonly runners: Informer<CachedRunner>;
  /** Only Jobs that Runners made: every one carries the Runner's name label. */
  readonly jobs: Informer<V1Job>;
  readonly namespaces: Informer<V1Namespace>;
  /** Snapshots are kept until the actors are restored from them at start-up, then dropped. */
  private keepSnapshots = true;
  private readonly keyByUid = new Map<string, string>();

  constructor(client: KubeClient, log: Logger) {
    this.runners = new Informer<CachedRunner>(client, {
      apiVersion: API_VERSION,
      kind: 'Runner',
      path: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      slim: (o) => slimRunner(o, this.keepSnapshots),
    }, log);
    this.jobs = new Informer<V1Job>(client, { apiVersion: 'batch/v1', kind: 'Job', path: '/apis/batch/v1/jobs', labelSelector: LABEL_RUNNER_NAME, slim: slimJob }, log);
    this.namespaces = new Informer<V1Namespace>(client, { apiVersion: 'v1', kind: 'Namespace', path: '/api/v1/namespaces', slim: slimNamespace }, log);
    this.runners.onChange((_, r) => this.keyByUid.set(r.metadata.uid!, objectKey(r)));
    this.runners.onDelete((r) => {
      if (this.keyByUid.get(r.metadata.uid!) === objectKey(r)) this.keyByUid.delete(r.metadata.uid!);
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.runners.start(), this.jobs.start(), this.namespaces.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.runners.stop(), this.jobs.stop(), this.namespaces.stop()]);
  }

  get health(): CacheHealth[] {
    return [this.runners, this.jobs, this.namespaces];
  }

  /** The actors are restored: from now on a Runner's snapshot is only ever written, never read. */
  forgetSnapshots(): void {
    this.keepSnapshots = false;
    for (const runner of this.runners.list()) if (runner.status) delete runner.status.snapshot;
  }

  runner(key: string): CachedRunner | undefined {
    const slash = key.indexOf('/');
    return this.runners.get(key.slice(0, slash), key.slice(slash + 1));
  }

  runnerKeyOfUid(uid: string): string | undefined {
    return this.keyByUid.get(uid);
  }

  runnerByUid(uid: string): CachedRunner | undefined {
    const key = this.keyByUid.get(uid);
    return key === undefined ? undefined : this.runner(key);
  }

  job(key: string): V1Job | undefined {
    const slash = key.indexOf('/');
    return this.jobs.get(key.slice(0, slash), key.slice(slash + 1));
  }

  namespaceLabels(namespace: string): Record<string, string> {
    return this.namespaces.get('', namespace)?.metadata?.labels ?? {};
  }
}

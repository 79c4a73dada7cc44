// The workload kinds a Runner can select (SPEC §2.1), each watched by a cache that holds only
// enabled workloads (the label selector is applied by the API server: most workloads of a real
// cluster are not enabled, and are never sent to the operator). DeploymentConfigs are watched
// only where their API is served (SPEC §6): the operator starts without it, and starts watching
// them once their CustomResourceDefinition is Established — or, in namespace-scoped mode, where
// it may not read CustomResourceDefinitions, once asking again finds the API.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { LABEL_ENABLE } from '../api/runner.ts';
import { ApiError, type KubeClient } from '../k8s/client.ts';
import { collectionPath } from '../k8s/api-paths.ts';
import { errorText, type CacheHealth } from '../k8s/informer.ts';
import { watchCache, type WatchCache, type WatchScope } from '../k8s/watch-scope.ts';
import { viewOfWorkload, type WorkloadKind, type WorkloadView } from '../runner/readiness/readiness.ts';
import { backoffDelay, type BackoffPolicy } from '../time/backoff.ts';
import { slimCrd } from './cached-objects.ts';

export const WORKLOAD_API_VERSIONS: Record<WorkloadKind, string> = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  DeploymentConfig: 'apps.openshift.io/v1',
};

const PLURALS: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  DeploymentConfig: 'deploymentconfigs',
};
/** How often a namespace-scoped operator asks again whether DeploymentConfigs are served. */
const DEPLOYMENT_CONFIG_REPROBE_MS = 300_000;
/** Whether DeploymentConfigs are served is unknown (an aggregated API server starting): ask again from 5 s on. */
const DEPLOYMENT_CONFIG_UNKNOWN_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: DEPLOYMENT_CONFIG_REPROBE_MS };

const DEPLOYMENT_CONFIG_CRD = 'deploymentconfigs.apps.openshift.io';
const ALWAYS_SERVED: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

export type WorkloadCache = WatchCache<WorkloadView>;
/** Called for a kind's cache once it is in sync, with handlers to attach; later kinds too. */
export type KindStarted = (kind: WorkloadKind, cache: WorkloadCache) => void;

export class WorkloadKinds {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly caches = new Map<WorkloadKind, WorkloadCache>();
  private readonly scope: WatchScope;
  /** Tells when the DeploymentConfig CRD is Established; absent in namespace-scoped mode. */
  private readonly crds: WatchCache<KubernetesObject & { established: boolean }> | null;
  private onStarted: KindStarted | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(client: KubeClient, log: Logger, scope: WatchScope) {
    this.client = client;
    this.log = log;
    this.scope = scope;
    this.crds = scope.namespaces === null
      ? watchCache(client, {
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          plural: 'customresourcedefinitions',
          clusterScoped: true,
          fieldSelector: `metadata.name=${DEPLOYMENT_CONFIG_CRD}`,
          slim: slimCrd,
        }, log, scope)
      : null;
  }

  /** Starts the caches of the kinds served now; resolves when they are in sync. */
  async start(): Promise<void> {
    await Promise.all(ALWAYS_SERVED.map((kind) => this.startKind(kind)));
    const served = await this.deploymentConfigsServed();
    if (served === true) await this.startKind('DeploymentConfig');
    else {
      this.log.info('the DeploymentConfig API (apps.openshift.io/v1) is not served; skipping it until it appears');
      // Unknown (not a 404: e.g. an aggregated API server still starting): ask again, with backoff.
      // Without CustomResourceDefinitions to watch (namespace-scoped), ask again now and then.
      if (served === 'unknown') this.probeLater(backoffDelay(DEPLOYMENT_CONFIG_UNKNOWN_BACKOFF, 0), 1);
      else if (!this.crds) this.probeLater(DEPLOYMENT_CONFIG_REPROBE_MS);
    }
    this.crds?.onChange((_, crd) => {
      if (!crd.established || this.caches.has('DeploymentConfig')) return;
      this.log.info('the DeploymentConfig API appeared; watching DeploymentConfigs');
      void this.startKind('DeploymentConfig');
    });
    await this.crds?.start();
  }

  /** From now on, `started` is told of every kind's cache, those running now first. */
  whenStarted(started: KindStarted): void {
    this.onStarted = started;
    for (const [kind, cache] of this.caches) started(kind, cache);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.probeTimer);
    await Promise.all([this.crds?.stop(), ...[...this.caches.values()].map((c) => c.stop())]);
  }

  get(kind: WorkloadKind, namespace: string, name: string): WorkloadView | undefined {
    return this.caches.get(kind)?.get(namespace, name);
  }

  get health(): CacheHealth[] {
    return [...(this.crds ? [this.crds] : []), ...this.caches.values()];
  }

  private async startKind(kind: WorkloadKind): Promise<void> {
    if (this.caches.has(kind) || this.stopped) return;
    const cache: WorkloadCache = watchCache(this.client, {
      apiVersion: WORKLOAD_API_VERSIONS[kind],
      kind,
      plural: PLURALS[kind],
      labelSelector: `${LABEL_ENABLE}=true`,
      slim: viewOfWorkload(kind),
    }, this.log, this.scope);
    this.caches.set(kind, cache);
    try {
      await cache.start();
      this.onStarted?.(kind, cache);
    } catch (err) {
      this.log.error({ err: errorText(err), kind }, 'could not watch this kind');
    }
  }

  private async deploymentConfigsServed(): Promise<boolean | 'unknown'> {
    const namespace = this.scope.namespaces?.[0];
    try {
      await this.client.get(collectionPath(WORKLOAD_API_VERSIONS.DeploymentConfig, PLURALS.DeploymentConfig, namespace), { limit: 1 });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return false;
      this.log.warn({ err: errorText(err) }, 'could not tell whether DeploymentConfigs are served');
      return 'unknown';
    }
  }

  /** Asks again after `delayMs`; `unknownInARow`: answers in a row that could not tell, for the backoff. */
  private probeLater(delayMs: number, unknownInARow = 0): void {
    this.probeTimer = setTimeout(() => {
      if (this.stopped || this.caches.has('DeploymentConfig')) return;
      void this.deploymentConfigsServed().then((served) => {
        if (served === true) {
          this.log.info('the DeploymentConfig API is served now; watching DeploymentConfigs');
          return this.startKind('DeploymentConfig');
        }
        if (served === 'unknown') this.probeLater(backoffDelay(DEPLOYMENT_CONFIG_UNKNOWN_BACKOFF, unknownInARow), unknownInARow + 1);
        else if (!this.crds) this.probeLater(DEPLOYMENT_CONFIG_REPROBE_MS);
      });
    }, delayMs);
  }
}

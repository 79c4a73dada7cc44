// The Runners' `spec.resources` (SPEC §2.3) wired together: the watch caches per kind (resource-kinds.ts) feed
// the selections (resource-selections.ts), and every change is told to the operator as the Runners it concerns.
import type { Logger } from 'pino';
import type { Runner } from '../api/runner.ts';
import type { SelectedResources } from '../runner/assess.ts';
import type { KubeClient } from '../k8s/client.ts';
import type { CacheHealth } from '../k8s/informer.ts';
import type { WatchScope } from '../k8s/watch-scope.ts';
import { ResourceKinds } from './resource-kinds.ts';
import { kindNeeds, resourceEntries, ResourceSelections } from './resource-selections.ts';
import { runnerKey } from './selections.ts';
import { sameJson } from '../runner/canonical-json.ts';

export interface ResourceInputsOptions {
  client: KubeClient;
  log: Logger;
  scope: WatchScope;
  now: () => Date;
  namespaceLabels(namespace: string): Record<string, string>;
  /** These Runners' resources changed: assess them again. */
  reassess(keys: Iterable<string>): void;
}

export interface VerifiedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

/** How long start-up waits for the kinds named by Runners to be listed (or found unserved) before going on. */
const SETTLE_TIMEOUT_MS = 30_000;


export class ResourceInputs {
  private readonly kinds: ResourceKinds;
  private readonly selections: ResourceSelections;

  constructor(options: ResourceInputsOptions) {
    const { reassess } = options;
    this.selections = new ResourceSelections({
      resource: (kind, namespace, name) => this.kinds.get(kind, namespace, name),
      namespaceLabels: options.namespaceLabels,
    });
    this.kinds = new ResourceKinds(options.client, options.log, options.scope, {
      changed: (kind, previous, current) => reassess(this.selections.objectChanged(kind, current, !previous || !sameJson(previous.metadata.labels, current.metadata.labels))),
      deleted: (kind, last) => reassess(this.selections.objectRemoved(kind, last)),
      availabilityChanged: (kind) => reassess(this.selections.usersOf(kind)),
    }, options.now);
  }

  /** The Runner appeared or its spec changed: the kinds it names are watched, and what it selects found. */
  runnerChanged(runner: Runner): void {
    this.selections.runnerChanged(runner);
    this.kinds.setNeeds(runnerKey(runner), kindNeeds(runner));
  }

  runnerRemoved(key: string): void {
    this.selections.runnerRemoved(key);
    this.kinds.setNeeds(key, new Map());
  }

  namespaceLabelsChanged(): Set<string> {
    return this.selections.namespaceLabelsChanged();
  }

  /** Each entry of the Runner's spec.resources: whether its kind can be read, and the objects it selects. */
  selectedOf(runner: Runner): SelectedResources[] {
    const key = runnerKey(runner);
    return resourceEntries(runner).map(({ index, kind, input }) => ({
      index,
      input,
      availability: this.kinds.availability(kind),
      objects: this.selections.selected(key, index),
    }));
  }

  /** The objects a run of this Runner verified, for the Events that tell them (SPEC §5). */
  verified(runner: Runner): VerifiedObject[] {
    return this.selectedOf(runner).flatMap(({ input, objects }) =>
      objects.map((o) => ({ apiVersion: input.apiVersion, kind: input.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '', ...(o.metadata.uid ? { uid: o.metadata.uid } : {}) })),
    );
  }

  /** Resolves when every named kind has had a first answer, or after SETTLE_TIMEOUT_MS. */
  async settled(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.kinds.settled(), new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }

  get health(): CacheHealth[] {
    return this.kinds.health;
  }

  async stop(): Promise<void> {
    await this.kinds.stop();
  }
}

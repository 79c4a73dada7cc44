// A UiSource made of plain objects: the web view's server without a cluster. Tests put Runners, Jobs, Events, pods
// and logs in it, change them (the feed tells open pages), and read back the trigger requests it was asked for.
import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Runner } from '../../../src/api/runner.ts';
import type { Scope, SourceChange, UiSource, WatchHealth } from '../../../src/ui/source.ts';

const keyOf = (namespace: string | undefined, name: string | undefined) => `${namespace}/${name}`;

export interface StubSource extends UiSource {
  put(runner: Runner): void;
  remove(runner: Runner): void;
  setHealth(health: WatchHealth): void;
  jobs: Map<string, V1Job[]>;
  events: Map<string, CoreV1Event[]>;
  /** By Job name. */
  pods: Map<string, V1Pod[]>;
  /** By `pod/container`. */
  logs: Map<string, string>;
  /** Errors to reject with, by what is read: `jobs`, `events`, `pods`, `log`, `trigger`. */
  failures: Map<string, unknown>;
  triggered: Array<{ runner: string; value: string }>;
  listeners(): number;
}

export function stubSource(runners: Runner[] = [], scope: Scope = { namespace: 'qa' }): StubSource {
  const store = new Map(runners.map((r) => [keyOf(r.metadata.namespace, r.metadata.name), r]));
  const listeners = new Set<(change: SourceChange) => void>();
  const tell = (change: SourceChange) => listeners.forEach((l) => l(change));
  let health: WatchHealth = { ok: true };
  const failures = new Map<string, unknown>();
  const failOr = async <T>(what: string, value: () => T): Promise<T> => {
    if (failures.has(what)) throw failures.get(what);
    return value();
  };
  const source: StubSource = {
    scope,
    runners: () => [...store.values()],
    runner: (namespace, name) => store.get(keyOf(namespace, name)),
    health: () => health,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    jobsOf: (runner) => failOr('jobs', () => source.jobs.get(keyOf(runner.metadata.namespace, runner.metadata.name)) ?? []),
    eventsOf: (runner) => failOr('events', () => source.events.get(keyOf(runner.metadata.namespace, runner.metadata.name)) ?? []),
    podsOf: (job) => failOr('pods', () => source.pods.get(job.metadata!.name!) ?? []),
    podLog: (pod, container) => failOr('log', () => source.logs.get(`${pod.metadata!.name}/${container}`) ?? ''),
    requestRun: (runner, value) => failOr('trigger', () => void source.triggered.push({ runner: keyOf(runner.metadata.namespace, runner.metadata.name), value })),
    close: async () => listeners.clear(),
    put(runner) {
      store.set(keyOf(runner.metadata.namespace, runner.metadata.name), runner);
      tell({ kind: 'upsert', runner });
    },
    remove(runner) {
      store.delete(keyOf(runner.metadata.namespace, runner.metadata.name));
      tell({ kind: 'delete', runner });
    },
    setHealth(next) {
      health = next;
      tell({ kind: 'health', health });
    },
    jobs: new Map(),
    events: new Map(),
    pods: new Map(),
    logs: new Map(),
    failures,
    triggered: [],
    listeners: () => listeners.size,
  };
  return source;
}

/** A Runner as the operator leaves it, with what a test gives on top. */
export function uiRunner(name: string, namespace = 'qa', status: Runner['status'] = {}, spec: Partial<Runner['spec']> = {}): Runner {
  return {
    apiVersion: 'e2e.stakater.com/v1alpha1',
    kind: 'Runner',
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, annotations: {} },
    spec: { template: { spec: { containers: [{ name: 'check', image: 'check:1' }] } }, ...spec },
    status,
  };
}

// What the local web view needs of the cluster, in one interface: the Runners as a watch keeps them, and the few
// reads and the one write a Runner's page makes on demand. src/ui/cluster-source.ts implements it with the user's
// kubeconfig; the unit tests implement it with plain objects, so the server is tested without a cluster.
import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Runner } from '../api/runner.ts';

/** Which Runners are shown: those of one namespace, or of every namespace (-A). */
export type Scope = { namespace: string } | { allNamespaces: true };

/** Whether the watch of Runners works; when it does not, the API server's words (a 403, a lost connection). */
export type WatchHealth = { ok: true } | { ok: false; message: string };

export type SourceChange =
  | { kind: 'upsert'; runner: Runner }
  | { kind: 'delete'; runner: Runner }
  | { kind: 'health'; health: WatchHealth };

export interface UiSource {
  readonly scope: Scope;
  /** The Runners the watch has seen, as they are now. */
  runners(): readonly Runner[];
  runner(namespace: string, name: string): Runner | undefined;
  health(): WatchHealth;
  /** Tells every later change; returns the function that stops telling. */
  subscribe(listener: (change: SourceChange) => void): () => void;
  /** The Runner's kept Jobs. */
  jobsOf(runner: Runner): Promise<V1Job[]>;
  /** The Events about the Runner. */
  eventsOf(runner: Runner): Promise<CoreV1Event[]>;
  /** The pods of one of its Jobs. */
  podsOf(job: V1Job): Promise<V1Pod[]>;
  /** The last `tailLines` lines of a container's log. */
  podLog(pod: V1Pod, container: string, tailLines: number): Promise<string>;
  /** Sets the Runner's trigger annotation to `value`, as `hestia trigger` does; rejects with the API server's error. */
  requestRun(runner: Runner, value: string): Promise<void>;
  /** Stops the watch. */
  close(): Promise<void>;
}

export const scopeWords = (scope: Scope): string => ('namespace' in scope ? `namespace ${scope.namespace}` : 'all namespaces');

// The web view's UiSource on a real cluster, with the user's own kubeconfig: an informer (LIST + WATCH) of the
// Runners of one namespace or all, and reads of a Runner's Jobs, Events, pods and logs only when its page asks.
// It writes one thing, the trigger annotation, and only when the user presses Trigger.
import { makeInformer, type KubernetesListObject, type V1Pod } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type Runner } from '../api/runner.ts';
import { collectionPath } from '../k8s/api-paths.ts';
import { jobPodsSelector } from '../runner/job.ts';
import { Backoff } from '../time/backoff.ts';
import { RESTART_BACKOFF } from '../k8s/watch-restart.ts';
import type { Connection } from '../commands/kube.ts';
import { apiServerWords } from './views.ts';
import type { Scope, SourceChange, UiSource, WatchHealth } from './source.ts';

/** Starts the watch; resolves once the first LIST has answered (or failed: health() then says why). */
export async function clusterSource(conn: Connection, scope: Scope): Promise<UiSource> {
  const namespace = 'namespace' in scope ? scope.namespace : undefined;
  const list = async () =>
    (namespace === undefined
      ? await conn.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })
      : await conn.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })) as KubernetesListObject<Runner>;
  const informer = makeInformer<Runner>(conn.kc, collectionPath(`${GROUP}/${VERSION}`, PLURAL, namespace), list);

  const listeners = new Set<(change: SourceChange) => void>();
  const tell = (change: SourceChange) => {
    for (const listener of listeners) listener(change);
  };
  let health: WatchHealth = { ok: true };
  const setHealth = (next: WatchHealth) => {
    // Told only when it changes: a watch that keeps failing the same way is one message, not one per retry.
    if (JSON.stringify(next) === JSON.stringify(health)) return;
    health = next;
    tell({ kind: 'health', health });
  };

  // The page shows none of managedFields; the informer's cache keeps the objects it hands out, so they are slimmed here.
  const slim = (runner: Runner): Runner => {
    delete runner.metadata.managedFields;
    return runner;
  };
  const backoff = new Backoff(RESTART_BACKOFF);
  const changed = (kind: 'upsert' | 'delete') => (runner: Runner) => {
    backoff.reset();
    setHealth({ ok: true });
    tell({ kind, runner: slim(runner) });
  };
  informer.on('add', changed('upsert'));
  informer.on('update', changed('upsert'));
  informer.on('delete', changed('delete'));

  // The informer stops at an error (a refused LIST, a broken WATCH); it is started again after the project's backoff.
  // A start that ends with no error in between has listed and opened its watch: the watch works again.
  let stopped = false;
  let errors = 0;
  let restart: NodeJS.Timeout | undefined;
  const start = () => {
    const before = errors;
    return informer.start().then(
      () => {
        if (errors !== before) return;
        backoff.reset();
        setHealth({ ok: true });
      },
      () => {},
    );
  };
  informer.on('error', (err: unknown) => {
    errors++;
    setHealth({ ok: false, message: `cannot watch the Runners of ${namespace === undefined ? 'all namespaces' : `namespace ${namespace}`}: ${apiServerWords(err)}` });
    if (stopped) return;
    clearTimeout(restart);
    restart = setTimeout(() => {
      if (!stopped) void start();
    }, backoff.next());
    restart.unref();
  });
  await start();

  return {
    scope,
    runners: () => informer.list().map(slim),
    runner: (ns, name) => {
      const runner = informer.get(name, ns);
      return runner && slim(runner);
    },
    health: () => health,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    jobsOf: (runner) => conn.jobsOf(runner),
    eventsOf: (runner) => conn.eventsOf(runner),
    podsOf: async (job) => (await conn.core.listNamespacedPod({ namespace: job.metadata!.namespace!, labelSelector: jobPodsSelector(job) })).items,
    podLog: (pod: V1Pod, container: string, tailLines: number) =>
      conn.core.readNamespacedPodLog({ namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, container, tailLines }),
    requestRun: (runner, value) => conn.requestRun(runner.metadata.namespace!, runner.metadata.name!, value),
    async close() {
      stopped = true;
      clearTimeout(restart);
      listeners.clear();
      await informer.stop();
    },
  };
}

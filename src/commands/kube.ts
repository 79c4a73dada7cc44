// The CLI's connection to the cluster: kubeconfig (KUBECONFIG, --kubeconfig, --context) and the
// namespace (-n, else the context's, else "default"), as kubectl resolves them.
import { AppsV1Api, BatchV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type CoreV1Event, type V1Job, type V1Lease } from '@kubernetes/client-node';
import { ANNOTATION_TRIGGER, GROUP, PLURAL, VERSION, type Runner } from '../api/runner.ts';
import { controllingRunnerUid, identityOf, runnerJobsSelector } from '../runner/job.ts';
import { MEMBER_OF_LABEL } from '../shard/labels.ts';

export interface ConnectionFlags {
  namespace?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/** The kubeconfig as kubectl reads it: --kubeconfig, else KUBECONFIG, else ~/.kube/config; --context, else its current one. */
export function loadKubeConfig(flags: Pick<ConnectionFlags, 'kubeconfig' | 'context'>): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(`hestia: cannot read the kubeconfig ${flags.kubeconfig ?? process.env.KUBECONFIG ?? ''}: ${(err as Error).message}`);
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) throw new UsageError(`hestia: no context named "${flags.context}" in the kubeconfig: see kubectl config get-contexts`);
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) throw new UsageError('hestia: no cluster in the kubeconfig: set KUBECONFIG or pass --kubeconfig');
  return kc;
}

export function connect(flags: ConnectionFlags) {
  return connectWith(loadKubeConfig(flags), flags.namespace);
}

/** The clients of a loaded kubeconfig; the namespace is -n, else the context's, else "default". */
export function connectWith(kc: KubeConfig, namespaceFlag?: string) {
  const namespace = namespaceFlag ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const custom = kc.makeApiClient(CustomObjectsApi);
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    kc,
    namespace,
    custom,
    core,
    batch,
    apps: kc.makeApiClient(AppsV1Api),
    getRunner: async (name: string): Promise<Runner> =>
      (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as Runner,
    /** The Runner's kept Jobs: those its labels select and it controls (a Runner of the same name before it had another uid). */
    jobsOf: async (runner: Runner): Promise<V1Job[]> =>
      (await batch.listNamespacedJob({ namespace: runner.metadata.namespace!, labelSelector: runnerJobsSelector(identityOf(runner)) })).items.filter(
        (job) => controllingRunnerUid(job) === runner.metadata.uid,
      ),
    /** The Events about the Runner (the API server keeps them for an hour by default). */
    eventsOf: async (runner: Runner): Promise<CoreV1Event[]> =>
      (await core.listNamespacedEvent({ namespace: runner.metadata.namespace!, fieldSelector: `involvedObject.uid=${runner.metadata.uid}` })).items,
    /**
     * The member Leases of replicas that share the Runners (docs/operate.md, "Several replicas"): of every namespace,
     * else of hestia-system when only that may be read; none when neither may (describe then says nothing of them).
     */
    memberLeases: async (): Promise<V1Lease[]> => {
      const coordination = kc.makeApiClient(CoordinationV1Api);
      const labelSelector = MEMBER_OF_LABEL;
      return coordination
        .listLeaseForAllNamespaces({ labelSelector })
        .catch(() => coordination.listNamespacedLease({ namespace: 'hestia-system', labelSelector }))
        .then((list) => list.items, () => []);
    },
    /** Requests one run: a new value of the trigger annotation, merge-patched with the user's own credentials. */
    requestRun: async (namespace: string, name: string, value: string): Promise<void> => {
      await custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { metadata: { annotations: { [ANNOTATION_TRIGGER]: value } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    },
  };
}

export type Connection = ReturnType<typeof connect>;

/** Wrong use of the CLI: the message says what to change. */
export class UsageError extends Error {}

/** What to say when the API server did not answer at all (nothing listens where the kubeconfig points). */
export function unreachableText(err: unknown): string | undefined {
  const e = err as { message?: unknown; cause?: { code?: unknown } } | null | undefined;
  const refused = e?.cause?.code === 'ECONNREFUSED' || (typeof e?.message === 'string' && e.message.includes('ECONNREFUSED'));
  return refused ? 'cannot reach the API server (connection refused): check KUBECONFIG, --kubeconfig or --context' : undefined;
}

/** An API error in words that say what to do about it. */
export function apiErrorText(err: unknown, what: string): string {
  const e = err as { code?: number; message?: string; body?: unknown; cause?: { code?: string } };
  const unreachable = unreachableText(err);
  if (unreachable) return unreachable;
  if (e.code === 404) return `${what} not found`;
  if (e.code === 401) return `the cluster refused the credentials of the kubeconfig (401): log in again`;
  if (e.code === 403) return `not allowed to read ${what} (403): your user needs get on it (kubectl auth can-i get ${what.split(' ')[0]?.toLowerCase()}s)`;
  return `${what}: ${e.message ?? String(err)}`;
}

// The CLI's connection to the cluster: kubeconfig (KUBECONFIG, --kubeconfig, --context) and the
// namespace (-n, else the context's, else "default"), as kubectl resolves them.
import { AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type V1Job } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type Runner } from '../api/runner.ts';
import { controllingRunnerUid, identityOf, runnerJobsSelector } from '../runner/job.ts';

export interface ConnectionFlags {
  namespace?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export function connect(flags: ConnectionFlags) {
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
  const namespace = flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const custom = kc.makeApiClient(CustomObjectsApi);
  const batch = kc.makeApiClient(BatchV1Api);
  return {
    kc,
    namespace,
    custom,
    core: kc.makeApiClient(CoreV1Api),
    batch,
    apps: kc.makeApiClient(AppsV1Api),
    getRunner: async (name: string): Promise<Runner> =>
      (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as Runner,
    /** The Runner's kept Jobs: those its labels select and it controls (a Runner of the same name before it had another uid). */
    jobsOf: async (runner: Runner): Promise<V1Job[]> =>
      (await batch.listNamespacedJob({ namespace: runner.metadata.namespace!, labelSelector: runnerJobsSelector(identityOf(runner)) })).items.filter(
        (job) => controllingRunnerUid(job) === runner.metadata.uid,
      ),
  };
}

export type Connection = ReturnType<typeof connect>;

/** Wrong use of the CLI: the message says what to change. */
export class UsageError extends Error {}

/** An API error in words that say what to do about it. */
export function apiErrorText(err: unknown, what: string): string {
  const e = err as { code?: number; message?: string; body?: unknown; cause?: { code?: string } };
  if (e.cause?.code === 'ECONNREFUSED' || e.message?.includes('ECONNREFUSED')) {
    return `cannot reach the API server (connection refused): check KUBECONFIG, --kubeconfig or --context`;
  }
  if (e.code === 404) return `${what} not found`;
  if (e.code === 401) return `the cluster refused the credentials of the kubeconfig (401): log in again`;
  if (e.code === 403) return `not allowed to read ${what} (403): your user needs get on it (kubectl auth can-i get ${what.split(' ')[0]?.toLowerCase()}s)`;
  return `${what}: ${e.message ?? String(err)}`;
}

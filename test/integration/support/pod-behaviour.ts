// Test support: what kwok's simulated pods do besides passing and failing (test/cluster/README.md, "Pod logs
// and simulated failures"): logs served from a file, infrastructure errors, and pods that fail only on their
// first attempt. The behaviours are stages of the cluster (test/cluster/stages/hestia-*.yaml) chosen by a
// pod label; the flaky one also needs the agent below, because no stage can see a pod's earlier attempts.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, makeInformer, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { core, custom, FAIL_LABEL, kc, waitFor } from './kube.ts';

/** The label the Hestia stages select pods by; its values name the behaviours. */
const BEHAVIOUR = 'hestia.test/pod-behaviour';
const KWOK_FAIL = 'pod-container-running-failed.stage.kwok.x-k8s.io';
const AWAITS_VERDICT = 'awaits-verdict';

export interface PodTemplateMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Pod-template metadata (labels/annotations) to merge into a Job's or a Runner's spec.template.metadata.
 * Combine none of them with FAIL_LABEL: two stages of positive weight would match, and kwok picks at random.
 */
export const POD_BEHAVIOUR = {
  /** Pending, its containers waiting in ErrImagePull, a second later ImagePullBackOff, for good. */
  imagePullFails: { labels: { [BEHAVIOUR]: 'image-pull-fails' } },
  /** Running, then a second later evicted for node memory pressure: Failed, reason Evicted, DisruptionTarget. */
  evicted: { labels: { [BEHAVIOUR]: 'evicted' } },
  /** Running until deleted (as activeDeadlineSeconds deletes it); then Failed, exit code 143. */
  staysRunning: { labels: { [BEHAVIOUR]: 'stays-running' } },
  /** A Job's first pod fails (exit code 1, reason Error), every later one succeeds; needs startFlakyAgent. */
  failsFirstAttempt: {
    labels: { [BEHAVIOUR]: AWAITS_VERDICT },
    annotations: { [`${KWOK_FAIL}/exit-code`]: '1', [`${KWOK_FAIL}/reason`]: 'Error' },
  },
} as const satisfies Record<string, PodTemplateMetadata>;

/** The Runner with this metadata merged into its pod template's (it is changed in place, and returned). */
export function withPods<R extends { spec: { template: { metadata?: PodTemplateMetadata } } }>(runner: R, metadata: PodTemplateMetadata): R {
  const template = runner.spec.template;
  template.metadata = {
    ...template.metadata,
    labels: { ...template.metadata?.labels, ...metadata.labels },
    annotations: { ...template.metadata?.annotations, ...metadata.annotations },
  };
  return runner;
}

const CLUSTER_LOGS = { group: 'kwok.x-k8s.io', version: 'v1alpha1', plural: 'clusterlogs' } as const;

/**
 * Serves the content of `logFile` (absolute path, read now) as the log of every container of every pod in
 * `namespace`, through the pod log endpoint (`kubectl logs`, readNamespacedPodLog) with limitBytes, tailLines
 * and timestamps honoured. A later call for the same namespace replaces this one. Resolves once kwok serves
 * it; returns the cleanup, which stops serving it.
 */
export async function servePodLogs(namespace: string, logFile: string): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'hestia-pod-logs-'));
  try {
    const file = join(dir, 'container.log');
    await writeFile(file, criLogOf(await readFile(logFile), new Date()));
    // A container name no pod has, served only by this call's rule: kwok serving it proves this rule (not
    // an earlier one for the namespace) is in kwok's cache.
    const probe = `probe-${randomUUID()}`;
    const name = `pod-logs.${namespace}`;
    const uid = await createOrReplaceClusterLogs({
      apiVersion: `${CLUSTER_LOGS.group}/${CLUSTER_LOGS.version}`,
      kind: 'ClusterLogs',
      metadata: { name },
      spec: { selector: { matchNamespaces: [namespace] }, logs: [{ logsFile: file }, { containers: [probe], logsFile: file }] },
    });
    await waitFor(`kwok to serve ${logFile} as the pods' log in ${namespace}`, () => kwokServesLog(namespace, probe), 30_000);
    return async () => {
      await custom.deleteClusterCustomObject({ ...CLUSTER_LOGS, name, body: { preconditions: { uid } } }).catch(ignoreCodes(404, 409));
      await rm(dir, { recursive: true, force: true });
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * `text` as a container log file in the CRI format, which kwok's log server reads as a kubelet reads the
 * runtime's files: one stdout record per line, the last one partial when `text` does not end in a newline,
 * so that the log served is `text` byte for byte.
 */
function criLogOf(text: Buffer, at: Date): Buffer {
  const stamp = at.toISOString();
  const full = Buffer.from(`${stamp} stdout F `);
  const partial = Buffer.from(`${stamp} stdout P `);
  const records: Buffer[] = [];
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf(0x0a, start);
    if (end < 0) {
      records.push(partial, text.subarray(start), Buffer.from('\n'));
      break;
    }
    records.push(full, text.subarray(start, end + 1));
    start = end + 1;
  }
  return Buffer.concat(records);
}

interface ClusterLogs {
  apiVersion: string;
  kind: 'ClusterLogs';
  metadata: { name: string; resourceVersion?: string };
  spec: { selector: { matchNamespaces: string[] }; logs: { containers?: string[]; logsFile: string }[] };
}

async function createOrReplaceClusterLogs(body: ClusterLogs): Promise<string> {
  const { name } = body.metadata;
  try {
    return uidOf(await custom.createClusterCustomObject({ ...CLUSTER_LOGS, body }));
  } catch (err) {
    if (!(err instanceof ApiException) || err.code !== 409) throw err;
  }
  const existing = (await custom.getClusterCustomObject({ ...CLUSTER_LOGS, name })) as { metadata: { resourceVersion: string } };
  body.metadata.resourceVersion = existing.metadata.resourceVersion;
  return uidOf(await custom.replaceClusterCustomObject({ ...CLUSTER_LOGS, name, body }));
}

const uidOf = (obj: unknown): string => (obj as { metadata: { uid: string } }).metadata.uid;

/**
 * Whether kwok serves a log for `container` in `namespace`, asked where the API server asks a kubelet: at a
 * node's Hostname address and kubelet port. (The API server's node proxy refuses loopback addresses, and
 * the pod log endpoint needs a pod.) Like the API server here, it does not verify kwok's certificate.
 */
async function kwokServesLog(namespace: string, container: string): Promise<boolean> {
  const node = (await core.listNode({ limit: 1 })).items[0];
  const hostname = node?.status?.addresses?.find((a) => a.type === 'Hostname')?.address;
  const port = node?.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!hostname || !port) return false;
  const path = `/containerLogs/${namespace}/probe/${container}?limitBytes=1`;
  return new Promise((resolve, reject) => {
    request({ hostname, port, path, rejectUnauthorized: false }, (res) => res.resume().on('end', () => resolve(res.statusCode === 200)))
      .on('error', reject)
      .end();
  });
}

const ignoreCodes = (...codes: number[]) => (err: unknown) => {
  if (!(err instanceof ApiException) || !codes.includes(err.code)) throw err;
};

/**
 * Decides the pods of POD_BEHAVIOUR.failsFirstAttempt in `namespace` (held Running until then): the first
 * pod of each Job fails, every later one passes. Without it such pods run forever. Returns stop().
 */
export function startFlakyAgent(namespace: string): () => Promise<void> {
  const selector = `${BEHAVIOUR}=${AWAITS_VERDICT}`;
  const informer = makeInformer<V1Pod>(kc, `/api/v1/namespaces/${namespace}/pods`, () => core.listNamespacedPod({ namespace, labelSelector: selector }), selector);
  const decided = new Set<string>();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  let restart: NodeJS.Timeout | undefined;
  const onPod = (pod: V1Pod) => {
    const uid = pod.metadata?.uid;
    if (stopped || !uid || decided.has(uid)) return;
    decided.add(uid);
    // A held pod sees no further events, so a failed write is retried here rather than on the next event.
    const work = waitFor(`a verdict for pod ${namespace}/${pod.metadata?.name}`, () => stopped || decide(namespace, pod).then(() => true), 30_000)
      .catch(() => undefined)
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  };
  informer.on('add', onPod);
  informer.on('update', onPod);
  informer.on('error', () => {
    if (!stopped) restart = setTimeout(() => void informer.start().catch(() => undefined), 500);
  });
  void informer.start().catch(() => undefined);
  return async () => {
    stopped = true;
    clearTimeout(restart);
    await informer.stop();
    await Promise.all(inFlight);
  };
}

/** Relabels `pod` so that kwok's stages end it: as a failure (the vendored chaos stage) or a success (pod-complete). */
async function decide(namespace: string, pod: V1Pod): Promise<void> {
  const siblings = (await core.listNamespacedPod({ namespace })).items.filter((p) => attemptGroupOf(p) === attemptGroupOf(pod));
  const labels = isFirstAttempt(pod, siblings) ? { [BEHAVIOUR]: 'failed-first-attempt', ...FAIL_LABEL } : { [BEHAVIOUR]: 'passed-retry' };
  await core
    .patchNamespacedPod({ namespace, name: pod.metadata!.name!, body: { metadata: { labels } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
    .catch(ignoreCodes(404));
}

/** The pods that are attempts of the same thing: those of one controller (a Job), or a bare pod alone. */
const attemptGroupOf = (pod: V1Pod): string => pod.metadata?.ownerReferences?.find((o) => o.controller)?.uid ?? pod.metadata?.uid ?? '';

/** Whether `pod` is the earliest created of `siblings` (by creation time, then name: the same answer for every caller). */
function isFirstAttempt(pod: V1Pod, siblings: V1Pod[]): boolean {
  const key = (p: V1Pod) => [new Date(p.metadata?.creationTimestamp ?? 0).getTime(), p.metadata?.name ?? ''] as const;
  const [time, name] = key(pod);
  return siblings.every((s) => {
    const [t, n] = key(s);
    return t > time || (t === time && n >= name);
  });
}

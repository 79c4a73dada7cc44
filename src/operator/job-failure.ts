// What a failed Job said: the Job controller's reason (BackoffLimitExceeded, DeadlineExceeded)
// and the failed container's termination message (/dev/termination-log) or reason, for
// status.lastRun.message, the RunFailed Event and `hestia wait`. Reading the container's words
// needs the Job's pods: one LIST per failed run (by the Job's controller-uid label), sent only
// while the run is the Runner's active one, never per watch event.
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RunnerEvent } from '../../machines/runner.ts';
import type { JobOutcome } from '../runner/job.ts';
import type { KubeClient } from '../k8s/client.ts';
import { errorText } from '../k8s/informer.ts';
import { collectionPath } from '../k8s/api-paths.ts';

/** A termination message may be 4 KiB; status and Events keep the first part. */
export const TERMINATION_TEXT_LIMIT = 1024;
const LIST_TIMEOUT_MS = 5_000;

const cut = (text: string) =>
  text.length <= TERMINATION_TEXT_LIMIT ? text : `${text.slice(0, TERMINATION_TEXT_LIMIT - 1)}…`;

interface FailedContainer {
  pod: string;
  status: V1ContainerStatus;
  finishedAt: number;
}

function failedContainers(pod: V1Pod): FailedContainer[] {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses
    .filter((s) => (s.state?.terminated?.exitCode ?? 0) !== 0 || (s.lastState?.terminated?.exitCode ?? 0) !== 0)
    .map((s) => ({
      pod: pod.metadata?.name ?? '',
      status: s,
      finishedAt: new Date((s.state?.terminated ?? s.lastState?.terminated)?.finishedAt ?? 0).getTime(),
    }));
}

/**
 * The latest failed container among the Job's pods, in words: "container check in pod smoke-x
 * exited with code 3 (Error): connection refused". Null when no container failed (e.g. the
 * deadline killed a pod that was still running).
 */
export function terminationDetail(pods: readonly V1Pod[]): string | null {
  const latest = pods.flatMap(failedContainers).sort((a, b) => b.finishedAt - a.finishedAt)[0];
  if (!latest) return null;
  const terminated = (latest.status.state?.terminated?.exitCode ?? 0) !== 0 ? latest.status.state!.terminated! : latest.status.lastState!.terminated!;
  const reason = terminated.reason ? ` (${terminated.reason})` : '';
  const said = terminated.message?.trim() ? `: ${cut(terminated.message.trim())}` : '';
  return `container ${latest.status.name} in pod ${latest.pod} exited with code ${terminated.exitCode}${reason}${said}`;
}

/** "BackoffLimitExceeded: Job has reached the specified backoff limit; container check in pod … exited with code 3: …". */
export const failureMessage = (jobMessage: string, detail: string | null): string =>
  detail ? `${jobMessage}; ${detail}` : jobMessage;

export interface JobEndDeps {
  client: KubeClient;
  log: Logger;
  now: () => Date;
  isActiveRun(uid: string, runKey: string): boolean;
  send(uid: string, event: RunnerEvent): void;
}

/**
 * Tells a Runner's actor that its Job finished. A failed active run is told once its pods have
 * been read (at most LIST_TIMEOUT_MS later; without the detail if they cannot be).
 */
export function jobEndReporter(deps: JobEndDeps) {
  const reading = new Set<string>();

  const podsOf = async (job: V1Job): Promise<V1Pod[]> =>
    (
      await deps.client.request<{ items: V1Pod[] }>('GET', collectionPath('v1', 'pods', job.metadata!.namespace!), {
        query: { labelSelector: `batch.kubernetes.io/controller-uid=${job.metadata!.uid}` },
        timeoutMs: LIST_TIMEOUT_MS,
      })
    ).items;

  return function jobEnded(uid: string, runKey: string, job: V1Job, outcome: Exclude<JobOutcome, { phase: 'Running' }>): void {
    const finished = (message: string): RunnerEvent => ({
      type: 'JOB.FINISHED', at: deps.now().toISOString(), key: runKey, succeeded: outcome.phase === 'Succeeded', message,
    });
    const jobUid = job.metadata?.uid;
    if (outcome.phase === 'Succeeded' || !jobUid || !deps.isActiveRun(uid, runKey)) return deps.send(uid, finished(outcome.message));
    if (reading.has(jobUid)) return;
    reading.add(jobUid);
    podsOf(job)
      .then((pods) => terminationDetail(pods))
      .catch((err: unknown) => {
        deps.log.warn({ job: `${job.metadata?.namespace}/${job.metadata?.name}`, err: errorText(err) }, "could not read the failed Job's pods; reporting the Job's reason only");
        return null;
      })
      .then((detail) => {
        reading.delete(jobUid);
        deps.send(uid, finished(failureMessage(outcome.message, detail)));
      });
  };
}

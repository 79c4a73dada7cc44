// What a finished Job and its pods say about the run, as pure functions: how many attempts it took (flaky when a
// success came after a failure), whether the infrastructure rather than the check ended it (result Error), the
// failed container's own words, and where its test report is. src/operator/run-end.ts reads the pods and the log.
import type { CoreV1Event, V1ContainerStatus, V1Job, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import type { RunFindings } from '../../machines/runner-context.ts';
import type { RunnerSpec } from '../api/runner.ts';

/** A termination message may be 4 KiB; status and Events keep the first part. */
export const TERMINATION_TEXT_LIMIT = 1024;

const cut = (text: string, limit = TERMINATION_TEXT_LIMIT) => (text.length <= limit ? text : `${text.slice(0, limit - 1)}…`);

/** Pods the Job started: its failed and succeeded attempts. */
const podsStartedBy = (job: V1Job): number => (job.status?.failed ?? 0) + (job.status?.succeeded ?? 0);

/**
 * What the Job alone says: attempts, and flaky when it succeeded after a failed pod (backoffLimit > 0). The operator
 * reads the pods of such a run to tell the check's failure from the infrastructure's (flakyFrom).
 */
export function jobFindings(job: V1Job, succeeded: boolean): RunFindings {
  const attempts = podsStartedBy(job);
  return { ...(attempts > 0 ? { attempts } : {}), ...(succeeded && (job.status?.failed ?? 0) > 0 ? { flaky: true } : {}) };
}

/** A success after a failed pod: its pods are read to tell whether the check or the infrastructure failed. */
export const succeededAfterFailedPod = (job: V1Job): boolean => (job.status?.failed ?? 0) > 0;

const statusesOf = (pod: V1Pod): V1ContainerStatus[] => [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
const condition = (pod: V1Pod, type: string): V1PodCondition | undefined => pod.status?.conditions?.find((c) => c.type === type && c.status === 'True');
const unscheduled = (pod: V1Pod): V1PodCondition | undefined =>
  pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
const newestFirst = (pods: readonly V1Pod[]) =>
  [...pods].sort((a, b) => new Date(b.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.metadata?.creationTimestamp ?? 0).getTime());

/** Waiting reasons of a container that never started because its image could not be had. */
const IMAGE_REASONS = ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable'];
/** Waiting reasons of a container the kubelet could not create (a missing ConfigMap or Secret, a bad command). */
const CREATE_REASONS = ['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError'];
/** DisruptionTarget reasons that mean the pod's node went away. */
const NODE_LOST_REASONS = ['DeletionByTaintManager', 'DeletionByPodGC'];

/** A pod the infrastructure stopped: evicted, preempted, or lost with its node. */
function disruption(pod: V1Pod): { reason: 'PodEvicted' | 'NodeLost'; message: string } | null {
  const target = condition(pod, 'DisruptionTarget');
  const name = pod.metadata?.name ?? '';
  if (pod.status?.reason === 'NodeLost' || (target && NODE_LOST_REASONS.includes(target.reason ?? ''))) {
    return { reason: 'NodeLost', message: `pod ${name} was lost with its node${target?.message ? `: ${cut(target.message, 300)}` : ''}` };
  }
  if (pod.status?.reason === 'Evicted' || target) {
    const said = pod.status?.message ?? target?.message;
    return { reason: 'PodEvicted', message: `pod ${name} was evicted (${target?.reason ?? pod.status?.reason})${said ? `: ${cut(said, 300)}` : ''}` };
  }
  return null;
}

/**
 * A container of the pod exited non-zero by itself: the check's own failure, in this pod or (restarted under
 * restartPolicy OnFailure) an earlier run of its container. A pod being deleted does not count for the exit it is
 * in now: the Job controller deletes the pods still running when its deadline passes, and their containers then exit
 * non-zero because they were stopped.
 */
export const checkFailed = (pod: V1Pod): boolean =>
  disruption(pod) === null &&
  statusesOf(pod).some(
    (s) => (s.lastState?.terminated?.exitCode ?? 0) !== 0 || (!pod.metadata?.deletionTimestamp && (s.state?.terminated?.exitCode ?? 0) !== 0),
  );

/** The kubelet's word for a container it stopped before it ever ran, or lost track of. */
const NEVER_RAN = 'ContainerStatusUnknown';

/** Whether a container of the pod ran its check at all (so its pod, not Events, says how the run went). */
export const checkRan = (pod: V1Pod): boolean =>
  statusesOf(pod).some((s) => s.state?.running !== undefined || s.lastState?.terminated !== undefined || (s.state?.terminated !== undefined && s.state.terminated.reason !== NEVER_RAN));

/**
 * Flaky: the run succeeded after the check itself failed — in an earlier pod, or in a restart of its container.
 * An attempt the infrastructure ended (evicted, node lost) is no flakiness of the check; when the pods are gone, the
 * Job's count of failed pods is all there is.
 */
export function flakyFrom(job: V1Job, pods: readonly V1Pod[]): boolean {
  if (pods.length === 0) return (job.status?.failed ?? 0) > 0;
  return pods.some((p) => checkFailed(p) || statusesOf(p).some((s) => s.restartCount > 0));
}

/** Why the newest pod that never got to run its check did not: its image, its container, or no node for it. */
function notStarted(pod: V1Pod): { reason: string; message: string } | null {
  const name = pod.metadata?.name ?? '';
  for (const s of statusesOf(pod)) {
    const waiting = s.state?.waiting;
    if (!waiting?.reason) continue;
    const said = waiting.message ? `: ${cut(waiting.message, 300)}` : '';
    if (IMAGE_REASONS.includes(waiting.reason)) {
      return { reason: 'ImagePullFailed', message: `container ${s.name} in pod ${name} could not pull image ${s.image} (${waiting.reason}${said})` };
    }
    if (CREATE_REASONS.includes(waiting.reason)) {
      return { reason: 'ContainerNotStarted', message: `container ${s.name} in pod ${name} could not be started (${waiting.reason}${said})` };
    }
  }
  const pending = unscheduled(pod);
  if (pending) return { reason: 'Unschedulable', message: `pod ${name} could not be scheduled${pending.message ? `: ${cut(pending.message, 300)}` : ''}` };
  return null;
}

/** The Job controller's reason for a failed Job: "DeadlineExceeded", "BackoffLimitExceeded", ... */
const failedReason = (job: V1Job): string | undefined => job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True')?.reason;

/**
 * Why the infrastructure, not the check, ended a failed run — or null when the check itself failed (a container
 * of an undisturbed pod exited non-zero in any attempt) or nothing tells. In order, for the newest pod that says:
 * evicted or lost with its node, an image not pulled or a container not created, no node to run on; then the
 * Job's deadline (activeDeadlineSeconds) ending a check that had not finished. Pods already gone tell nothing:
 * such a run stays Failed (docs/verdicts.md).
 */
export function infrastructureCause(job: V1Job, pods: readonly V1Pod[]): { reason: string; message: string } | null {
  if (pods.some(checkFailed)) return null;
  for (const pod of newestFirst(pods)) {
    const cause = disruption(pod) ?? notStarted(pod);
    if (cause) return cause;
  }
  if (failedReason(job) === 'DeadlineExceeded') {
    return { reason: 'DeadlineExceeded', message: `the check did not finish within spec.deadlineSeconds (${job.spec?.activeDeadlineSeconds ?? '?'} s)` };
  }
  return null;
}

/** An Event about a pod that says why it never ran its check: the scheduler's, or the kubelet's about its image. */
function causeOfEvent(e: CoreV1Event): string | null {
  const message = e.message ?? '';
  if (e.reason === 'FailedScheduling') return 'Unschedulable';
  if ((e.reason === 'Failed' || e.reason === 'BackOff') && /ErrImagePull|ImagePullBackOff|pull(ing)? image|InvalidImageName/.test(message)) return 'ImagePullFailed';
  if (e.reason === 'Evicted') return 'PodEvicted';
  return null;
}

/**
 * Why the Job's pods never ran their check, from the Warning Events about them (kept an hour by the API server):
 * when a Job's deadline passes, its pods are stopped and deleted — one never bound to a node at once — so by the
 * time the Job has failed these Events may be all that still says why. The newest telling Event wins; null when
 * none is about a pod of this Job.
 */
export function causeFromEvents(job: V1Job, events: readonly CoreV1Event[]): { reason: string; message: string } | null {
  const prefix = `${job.metadata?.name}-`;
  const time = (e: CoreV1Event) => new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? 0).getTime();
  const telling = events
    .filter((e) => e.involvedObject?.kind === 'Pod' && e.involvedObject.name?.startsWith(prefix))
    .map((e) => ({ e, reason: causeOfEvent(e) }))
    .filter((t): t is { e: CoreV1Event; reason: string } => t.reason !== null)
    .sort((a, b) => time(a.e) - time(b.e));
  const latest = telling.at(-1);
  if (!latest) return null;
  return { reason: latest.reason, message: `pod ${latest.e.involvedObject.name}: ${latest.e.reason}: ${cut(latest.e.message ?? '', 300)}` };
}

interface FailedContainer {
  pod: string;
  status: V1ContainerStatus;
  finishedAt: number;
}

function failedContainers(pod: V1Pod): FailedContainer[] {
  return statusesOf(pod)
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
 * deadline killed a pod that was still running). `reportIn`: the container whose termination message is a test
 * report, left out of the words.
 */
export function terminationDetail(pods: readonly V1Pod[], reportIn?: string): string | null {
  const latest = pods.flatMap(failedContainers).sort((a, b) => b.finishedAt - a.finishedAt)[0];
  if (!latest) return null;
  const terminated = (latest.status.state?.terminated?.exitCode ?? 0) !== 0 ? latest.status.state!.terminated! : latest.status.lastState!.terminated!;
  const reason = terminated.reason ? ` (${terminated.reason})` : '';
  // A container whose termination message is its test report (spec.testResults) says it in status.lastRun.tests.
  const said = terminated.message?.trim() && latest.status.name !== reportIn ? `: ${cut(terminated.message.trim())}` : '';
  return `container ${latest.status.name} in pod ${latest.pod} exited with code ${terminated.exitCode}${reason}${said}`;
}

/** "BackoffLimitExceeded: Job has reached the specified backoff limit; container check in pod … exited with code 3: …". */
export const failureMessage = (jobMessage: string, detail: string | null): string => (detail ? `${jobMessage}; ${detail}` : jobMessage);

/** The container whose output holds the run's test report: spec.testResults.container, else the template's first. */
export const reportContainerOf = (spec: RunnerSpec): string | undefined => spec.testResults?.container ?? spec.template?.spec?.containers?.[0]?.name;

/**
 * The pod whose report tells the run's result: the newest that succeeded in a successful run (a flaky run's passing
 * attempt), else the newest that ran its containers to the end.
 */
export function reportPodOf(pods: readonly V1Pod[], succeeded: boolean): V1Pod | undefined {
  const ordered = newestFirst(pods);
  const ended = (p: V1Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  return succeeded ? (ordered.find((p) => p.status?.phase === 'Succeeded') ?? ordered.find(ended)) : ordered.find(ended);
}

/** What the container wrote to its termination message (/dev/termination-log), in full (at most 4 KiB by the kubelet). */
export function terminationMessageOf(pod: V1Pod, container: string): string | null {
  const status = statusesOf(pod).find((s) => s.name === container);
  return (status?.state?.terminated ?? status?.lastState?.terminated)?.message ?? null;
}

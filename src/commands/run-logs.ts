// `hestia logs`: which Job a flag means, the Job's pods as attempts, the header over each log and, when the
// Job or its pods are gone, what the Runner still knows about the run. Pure; src/commands/logs.ts does the I/O.
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Runner } from '../api/runner.ts';
import { parseRunKey } from '../../machines/runner.ts';
import { ANNOTATION_RUN_KEY } from '../runner/job.ts';
import { formatRunHistory, type RunEntry } from './run-history.ts';

/** What the user asked the logs of: the latest run, run number n (--run), or a Job by name (--job). */
export type LogTarget = { kind: 'latest' } | { kind: 'run'; n: number } | { kind: 'job'; name: string };

export type Selection =
  | { kind: 'found'; job: V1Job }
  /** The run existed (or may have: a --job name not kept), its Job is not kept; explainMissing says what is known. */
  | { kind: 'missing'; target: LogTarget; run: number | null; jobName: string | null }
  /** No such run, certainly: exit 4 with this message. */
  | { kind: 'none'; message: string };

/** The label the Job controller puts on its pods: the uid of their Job. */

const runnerId = (runner: Runner) => `${runner.metadata.namespace}/${runner.metadata.name}`;

/** The run number a Hestia Job's run key starts with, or null for a Job without one. */
export function runNumberOf(job: V1Job): number | null {
  const key = job.metadata?.annotations?.[ANNOTATION_RUN_KEY];
  return key === undefined ? null : (parseRunKey(key)?.n ?? null);
}

/** The persisted machine context's counters: how many runs were started, and the number of the latest. */
function snapshotRuns(runner: Runner): { runs: number | null; latest: number | null } {
  const context = (runner.status?.snapshot as { context?: { runs?: unknown; run?: { key?: unknown } | null } } | undefined)?.context;
  const runs = typeof context?.runs === 'number' ? context.runs : null;
  const key = context?.run?.key;
  return { runs, latest: typeof key === 'string' ? (parseRunKey(key)?.n ?? null) : null };
}

/** The highest run number the Runner is known to have reached, from its snapshot and its kept Jobs (0: none). */
export function runsStarted(runner: Runner, jobs: readonly V1Job[]): number {
  return Math.max(snapshotRuns(runner).runs ?? 0, ...jobs.map((j) => runNumberOf(j) ?? 0));
}

/** Jobs newest first: by run number, then by creation. */
const newestFirst = (jobs: readonly V1Job[]): V1Job[] => [...jobs].sort((a, b) => (runNumberOf(b) ?? 0) - (runNumberOf(a) ?? 0) || createdAt(b) - createdAt(a));

const createdAt = (o: V1Job | V1Pod): number => (o.metadata?.creationTimestamp ? new Date(o.metadata.creationTimestamp).getTime() : 0);

/** The Job `target` means among the Runner's kept Jobs, or why there is none. */
export function selectJob(runner: Runner, jobs: readonly V1Job[], target: LogTarget): Selection {
  const named = (name: string) => jobs.find((j) => j.metadata?.name === name);
  switch (target.kind) {
    case 'job': {
      const job = named(target.name);
      return job ? { kind: 'found', job } : { kind: 'missing', target, run: null, jobName: target.name };
    }
    case 'latest': {
      const name = runner.status?.lastRun?.jobName;
      // A status emptied by another client still leaves the kept Jobs to read.
      if (name === undefined) {
        const newest = newestFirst(jobs)[0];
        return newest ? { kind: 'found', job: newest } : { kind: 'none', message: `Runner ${runnerId(runner)} has not run yet: it has no run to show the logs of` };
      }
      const job = named(name);
      return job ? { kind: 'found', job } : { kind: 'missing', target, run: snapshotRuns(runner).latest, jobName: name };
    }
    case 'run': {
      const job = jobs.find((j) => runNumberOf(j) === target.n);
      if (job) return { kind: 'found', job };
      const started = runsStarted(runner, jobs);
      if (target.n < 1 || target.n > started) {
        const range = started === 0 ? 'it has not run yet' : started === 1 ? 'it has had run 1 only' : `its runs are numbered 1 to ${started}`;
        return { kind: 'none', message: `Runner ${runnerId(runner)} has no run ${target.n}: ${range} (kubectl hestia runs ${runner.metadata.name} -n ${runner.metadata.namespace})` };
      }
      // Only the latest run's Job name outlives its Job for sure (status.lastRun); an earlier one may be in the Events.
      const latest = snapshotRuns(runner).latest;
      const jobName = latest === target.n ? (runner.status?.lastRun?.jobName ?? null) : null;
      return { kind: 'missing', target, run: target.n, jobName };
    }
  }
}

const runsHint = (runner: Runner) => `See every run the Runner remembers: kubectl hestia runs ${runner.metadata.name} -n ${runner.metadata.namespace}`;

/** The run's line of the run history, as `hestia runs` prints it, indented under the explanation. */
const knownLine = (runner: Runner, entry: RunEntry) =>
  `What the Runner still knows about it:\n${formatRunHistory(runner, [entry])
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}`;

const runWords = (run: number | null) => (run === null ? 'the run' : `run ${run}`);

/** The words (stderr) and exit code for a run whose Job is not kept: 1 when it ran and is gone, 4 when no such run is known. */
export function explainMissing(runner: Runner, missing: Extract<Selection, { kind: 'missing' }>, history: readonly RunEntry[]): { code: 1 | 4; text: string } {
  const entry = missing.jobName === null ? undefined : history.find((e) => e.job === missing.jobName);
  if (missing.target.kind === 'job' && entry === undefined) {
    return { code: 4, text: `Runner ${runnerId(runner)} has no Job ${missing.jobName}: it is neither kept nor in the run history.\n${runsHint(runner)}\n` };
  }
  const what = missing.jobName === null ? `The Job of ${runWords(missing.run)} of Runner ${runnerId(runner)}` : `Job ${missing.jobName} (${runWords(missing.run)} of Runner ${runnerId(runner)})`;
  const lines = [
    `${what} is no longer kept, and its pods' logs went with it: the Runner's history limits (successfulRunsHistoryLimit, failedRunsHistoryLimit) or the Job's ttlSecondsAfterFinished removed it.`,
    // The history numbers only the runs whose Job is kept; this one's number is known here.
    entry ? knownLine(runner, { ...entry, run: entry.run ?? missing.run }) : `The run history no longer names ${runWords(missing.run)}'s Job (Events are kept for an hour by default).`,
    runsHint(runner),
  ];
  return { code: 1, text: lines.join('\n') + '\n' };
}

/** The words (stderr) for a kept Job that has no pod to read a log from; exit 1. */
export function explainNoPods(runner: Runner, job: V1Job, entry: RunEntry | undefined): string {
  const name = job.metadata!.name!;
  const finished = (job.status?.conditions ?? []).some((c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'));
  const first = finished
    ? `The pods of Job ${name} are gone (deleted, or removed by the pod garbage collector), and their logs with them.`
    : `Job ${name} has started no pod yet: there is no log to print (hestia logs ${runner.metadata.name} -f waits for it).`;
  return [first, ...(entry ? [knownLine(runner, entry)] : []), runsHint(runner)].join('\n') + '\n';
}

/** A Job's pods in the order the Job controller started them: attempt 1 first. */
export function attemptsOf(pods: readonly V1Pod[]): V1Pod[] {
  return [...pods].sort((a, b) => createdAt(a) - createdAt(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/**
 * The containers to print, in the pod template's order: every container, or the one named (an init container
 * only when named). A name the template lacks is a usage error naming the ones it has.
 */
export function containersToShow(job: V1Job, named: string | undefined): { ok: true; containers: string[] } | { ok: false; message: string } {
  const spec = job.spec?.template.spec;
  const containers = (spec?.containers ?? []).map((c) => c.name);
  if (named === undefined) return { ok: true, containers };
  const init = (spec?.initContainers ?? []).map((c) => c.name);
  if (containers.includes(named) || init.includes(named)) return { ok: true, containers: [named] };
  const has = [...containers, ...init.map((n) => `${n} (init)`)].join(', ');
  return { ok: false, message: `Job ${job.metadata?.name} has no container "${named}": its pods have ${has || 'none'}` };
}

const statusOf = (pod: V1Pod, container: string): V1ContainerStatus | undefined =>
  [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.name === container);

/** "exited 3", "exited 137 (OOMKilled)", "running", "waiting: ImagePullBackOff", "not started". */
export function containerState(pod: V1Pod, container: string): string {
  const state = statusOf(pod, container)?.state;
  if (state?.terminated) {
    const reason = state.terminated.reason;
    return `exited ${state.terminated.exitCode}${reason && reason !== 'Error' && reason !== 'Completed' ? ` (${reason})` : ''}`;
  }
  if (state?.running) return 'running';
  if (state?.waiting) return `waiting${state.waiting.reason ? `: ${state.waiting.reason}` : ''}`;
  return 'not started';
}

/** "Succeeded", "Running", "Failed: container check exited 3", "Failed: DeadlineExceeded", "Pending: container check waiting: ContainerCreating". */
export function podState(pod: V1Pod): string {
  const phase = pod.status?.phase ?? 'Pending';
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  if (phase === 'Failed') {
    const failed = statuses.find((s) => (s.state?.terminated?.exitCode ?? 0) !== 0);
    if (failed) return `Failed: container ${failed.name} ${containerState(pod, failed.name)}`;
    return pod.status?.reason ? `Failed: ${pod.status.reason}` : 'Failed';
  }
  if (phase === 'Pending') {
    const waiting = statuses.find((s) => s.state?.waiting);
    return waiting ? `Pending: container ${waiting.name} ${containerState(pod, waiting.name)}` : 'Pending';
  }
  return phase;
}

export interface Section {
  pod: V1Pod;
  container: string;
  /** 1-based, in attemptsOf order. */
  attempt: number;
  attempts: number;
  /** More than one container is printed per pod: the header names the container. */
  namesContainer: boolean;
}

/** One section per pod and container, attempts oldest first, each pod's containers in template order. */
export function sectionsOf(pods: readonly V1Pod[], containers: readonly string[]): Section[] {
  const attempts = attemptsOf(pods);
  return attempts.flatMap((pod, i) => containers.map((container) => ({ pod, container, attempt: i + 1, attempts: attempts.length, namesContainer: containers.length > 1 })));
}

/** Headers are printed only when there is more than one log to tell apart. */
export const needsHeaders = (sections: readonly Section[]): boolean => sections.length > 1;

/** `==> attempt 1 of 2: pod smoke-x7k2p (Failed: container check exited 3) <==`; the container's own state when it is named. */
export function sectionHeader(s: Section): string {
  const attempt = s.attempts > 1 ? `attempt ${s.attempt} of ${s.attempts}: ` : '';
  const container = s.namesContainer ? `, container ${s.container}` : '';
  const state = s.namesContainer ? containerState(s.pod, s.container) : podState(s.pod);
  return `==> ${attempt}pod ${s.pod.metadata?.name}${container} (${state}) <==`;
}

/** Whether a container's log is complete: it terminated, or its pod did (a pod that ended never runs it again). */
export function containerEnded(pod: V1Pod, container: string): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || statusOf(pod, container)?.state?.terminated !== undefined;
}

/** Whether a container has a log to read yet: it runs or ran. */
export function containerStarted(pod: V1Pod, container: string): boolean {
  const state = statusOf(pod, container)?.state;
  return state?.running !== undefined || state?.terminated !== undefined;
}

/**
 * With -f: the section to follow, the newest pod's, when that pod may still write (it has not ended); every other
 * section is printed as it is. A pod that ended is printed whole, as kubectl logs -f does.
 */
export const followsSection = (s: Section): boolean => s.attempt === s.attempts && !containerEnded(s.pod, s.container);

/** What a 403 means here: the permission missing, and the kubectl command that checks it. */
export function refusal(what: { verb: 'get'; resource: 'pods/log'; pod: string } | { verb: 'list'; resource: 'pods' | 'jobs'; of: string }, namespace: string): string {
  if (what.resource === 'pods/log') {
    return `not allowed to read the log of pod ${namespace}/${what.pod} (403): your user needs get on pods/log in namespace ${namespace} (kubectl auth can-i get pods --subresource=log -n ${namespace})`;
  }
  const resource = what.resource === 'jobs' ? 'jobs.batch' : 'pods';
  return `not allowed to list the ${what.resource === 'jobs' ? 'Jobs' : 'pods'} of ${what.of} (403): your user needs list on ${resource} in namespace ${namespace} (kubectl auth can-i list ${resource} -n ${namespace})`;
}

/** A non-negative whole number flag (--tail, --run); null when it is not one. */
export function wholeNumber(text: string): number | null {
  return /^\d+$/.test(text) ? Number(text) : null;
}

// What a finished run said, told to its Runner's actor as JOB.FINISHED: the Job's result, how many attempts it took
// (flaky), whether the infrastructure ended it (Error), the failed container's words and, with spec.testResults, the
// counts of its JUnit report. Reading them needs the Job's pods: one LIST (by the Job's controller-uid label) per
// failed run, success after a failed pod, or run with a report; one bounded read of the report container's log when
// the report is in the log; and, for a run its deadline ended whose pods never ran the check, the Warning Events
// about its pods. Sent only while the run is the Runner's active one, never per watch event, and at most
// READS_AT_ONCE at a time so that a storm of finished runs cannot flood the API server.
import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RunFindings, RunnerEvent, RunTests } from '../../machines/runner.ts';
import type { Runner } from '../api/runner.ts';
import { jobPodsSelector, type JobOutcome } from '../runner/job.ts';
import type { KubeClient } from '../k8s/client.ts';
import { errorText } from '../k8s/informer.ts';
import { collectionPath, objectPath } from '../k8s/api-paths.ts';
import { readJUnitFromInSlices } from '../runner/results/junit.ts';
import {
  causeFromEvents,
  checkRan,
  failureMessage,
  flakyFrom,
  infrastructureCause,
  jobFindings,
  reportContainerOf,
  reportPodOf,
  succeededAfterFailedPod,
  terminationDetail,
  terminationMessageOf,
} from '../runner/run-outcome.ts';

const READ_TIMEOUT_MS = 5_000;
/**
 * A report is read from the end of the log: its last 10,000 lines, of which the kubelet returns at most the first
 * 1 MiB — so the report must lie within both.
 */
export const LOG_READ = { tailLines: 10_000, limitBytes: 1_048_576 } as const;
const READS_AT_ONCE = 8;
/** Warning Events about pods read per page, and pages read at most, for a run its deadline ended. */
const EVENTS_PAGE = 500;
const EVENTS_PAGES = 4;
/** How long pods read at FailureTarget wait for the Job's Failed condition. */
const EARLY_READ_KEPT_MS = 10 * 60_000;

export type FinishedOutcome = Exclude<JobOutcome, { phase: 'Running' }>;

export interface RunEndDeps {
  client: KubeClient;
  log: Logger;
  now: () => Date;
  runnerByUid(uid: string): Runner | undefined;
  isActiveRun(uid: string, runKey: string): boolean;
  send(uid: string, event: RunnerEvent): void;
}

/** At most `n` of the functions given run at once; the others wait their turn in order. */
function limiter(n: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    // A finished call hands its slot straight to the next in line, so that no newcomer slips in between.
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

/** What a pod says about a run, and nothing else (a pod read early is kept a while). */
const slimPod = (pod: V1Pod): V1Pod => ({
  metadata: {
    name: pod.metadata?.name,
    namespace: pod.metadata?.namespace,
    creationTimestamp: pod.metadata?.creationTimestamp,
    ...(pod.metadata?.deletionTimestamp ? { deletionTimestamp: pod.metadata.deletionTimestamp } : {}),
  },
  status: {
    phase: pod.status?.phase,
    reason: pod.status?.reason,
    message: pod.status?.message,
    conditions: pod.status?.conditions,
    initContainerStatuses: pod.status?.initContainerStatuses,
    containerStatuses: pod.status?.containerStatuses,
  },
});

/**
 * Tells a Runner's actor that its Job finished. A run whose end needs its pods read (a failure, a success after a
 * failed pod, a test report) is told once they have been read — a few seconds later at most; without the detail if
 * they cannot be. `ended` runs once the actor has been told (the Job may be pruned from then on).
 */
export function runEndReporter(deps: RunEndDeps) {
  const reading = new Set<string>();
  const limit = limiter(READS_AT_ONCE);
  const nameOf = (job: V1Job) => `${job.metadata?.namespace}/${job.metadata?.name}`;

  const podsOf = async (job: V1Job): Promise<V1Pod[]> =>
    (
      await deps.client.request<{ items: V1Pod[] }>('GET', collectionPath('v1', 'pods', job.metadata!.namespace!), {
        query: { labelSelector: jobPodsSelector(job) },
        timeoutMs: READ_TIMEOUT_MS,
      })
    ).items.map(slimPod);

  const readPods = (job: V1Job): Promise<V1Pod[] | null> =>
    limit(() => podsOf(job)).catch((err: unknown) => {
      deps.log.warn({ job: nameOf(job), err: errorText(err) }, "could not read the finished Job's pods; reporting the Job's own words only");
      return null;
    });

  const logOf = (pod: V1Pod, container: string): Promise<string> =>
    limit(() =>
      deps.client.getText(`${objectPath('v1', 'pods', pod.metadata!.namespace!, pod.metadata!.name!)}/log`, {
        query: { container, ...LOG_READ },
        timeoutMs: READ_TIMEOUT_MS,
      }),
    );

  /**
   * For a run its deadline ended whose pods never ran the check (stopped before they could, or gone): the Warning
   * Events about pods in its namespace — the scheduler's (no node) and the kubelet's (no image) — a few pages at most.
   */
  async function causeInEvents(job: V1Job): Promise<ReturnType<typeof causeFromEvents>> {
    const events: CoreV1Event[] = [];
    let next: string | undefined;
    for (let page = 0; page < EVENTS_PAGES && (page === 0 || next); page += 1) {
      const list = await limit(() =>
        deps.client.request<{ items: CoreV1Event[]; metadata?: { continue?: string } }>('GET', collectionPath('v1', 'events', job.metadata!.namespace!), {
          query: { fieldSelector: 'involvedObject.kind=Pod,type=Warning', limit: EVENTS_PAGE, continue: next },
          timeoutMs: READ_TIMEOUT_MS,
        }),
      ).catch(() => null);
      if (!list) break;
      events.push(...list.items.filter((e) => e.involvedObject?.name?.startsWith(`${job.metadata?.name}-`)));
      next = list.metadata?.continue || undefined;
    }
    return causeFromEvents(job, events);
  }

  /** The run's test report, read as spec.testResults says, or why it could not be. */
  async function testsOf(runner: Runner, pods: readonly V1Pod[], succeeded: boolean): Promise<RunTests> {
    const settings = runner.spec.testResults!;
    const container = reportContainerOf(runner.spec);
    const pod = reportPodOf(pods, succeeded);
    if (!pod || !container) return { problem: 'no pod of the Job is left to read the test report from' };
    const where = `container ${container} of pod ${pod.metadata?.name}`;
    let text: string | null;
    if (settings.from === 'TerminationMessage') {
      text = terminationMessageOf(pod, container);
      if (text === null) return { problem: `the termination message of ${where} is empty` };
    } else {
      try {
        text = await logOf(pod, container);
      } catch (err) {
        return { problem: `could not read the log of ${where}: ${errorText(err)}` };
      }
    }
    const reading = await readJUnitFromInSlices(text);
    return reading.ok ? reading.summary : { problem: `${reading.problem} (in the ${settings.from === 'TerminationMessage' ? 'termination message' : 'log'} of ${where})` };
  }

  /** The message and findings of a run whose pods were read. */
  async function fromPods(runner: Runner, job: V1Job, outcome: FinishedOutcome, pods: V1Pod[]): Promise<{ message: string; findings: RunFindings }> {
    const succeeded = outcome.phase === 'Succeeded';
    const { flaky: _jobSays, ...counted } = jobFindings(job, succeeded);
    const findings: RunFindings = { ...counted, ...(succeeded && flakyFrom(job, pods) ? { flaky: true } : {}) };
    const fromPodsAlone = succeeded ? null : infrastructureCause(job, pods);
    // Only pods that never ran the check leave the question to Events: a check that ran and hung was not stopped by
    // an image or a node, whatever an Event said earlier.
    const askEvents = fromPodsAlone?.reason === 'DeadlineExceeded' && !pods.some(checkRan);
    const cause = askEvents ? ((await causeInEvents(job)) ?? fromPodsAlone) : fromPodsAlone;
    if (cause) return { message: failureMessage(outcome.message, `${cause.reason}: ${cause.message}`), findings: { ...findings, errorReason: cause.reason } };
    const reportIn = runner.spec.testResults?.from === 'TerminationMessage' ? reportContainerOf(runner.spec) : undefined;
    const message = succeeded ? outcome.message : failureMessage(outcome.message, terminationDetail(pods, reportIn));
    return { message, findings: runner.spec.testResults ? { ...findings, tests: await testsOf(runner, pods, succeeded) } : findings };
  }

  /**
   * Pods read when the Job controller marked the Job FailureTarget, before it stops them: the Failed condition comes
   * only once they are gone, and a pod that never ran its check (an image not pulled) no longer says why by then.
   */
  const earlyReads = new Map<string, Promise<V1Pod[] | null>>();

  function jobFailing(uid: string, runKey: string, job: V1Job): void {
    const jobUid = job.metadata?.uid;
    if (!jobUid || earlyReads.has(jobUid) || !deps.isActiveRun(uid, runKey)) return;
    earlyReads.set(jobUid, readPods(job));
    // A Job deleted before it reached Failed is never asked about again.
    setTimeout(() => earlyReads.delete(jobUid), EARLY_READ_KEPT_MS).unref();
  }

  function jobEnded(uid: string, runKey: string, job: V1Job, outcome: FinishedOutcome, ended: () => void = () => {}): void {
    const succeeded = outcome.phase === 'Succeeded';
    const tell = (message: string, findings: RunFindings) => {
      deps.send(uid, { type: 'JOB.FINISHED', at: deps.now().toISOString(), key: runKey, succeeded, message, findings });
      ended();
    };
    const runner = deps.runnerByUid(uid);
    const jobUid = job.metadata?.uid;
    const needsPods = !succeeded || succeededAfterFailedPod(job) || runner?.spec.testResults !== undefined;
    const jobOnly = () => ({ message: outcome.message, findings: jobFindings(job, succeeded) });
    if (!runner || !needsPods || !jobUid || !deps.isActiveRun(uid, runKey)) return tell(outcome.message, jobOnly().findings);
    if (reading.has(jobUid)) return;
    reading.add(jobUid);
    const early = earlyReads.get(jobUid);
    earlyReads.delete(jobUid);
    (early ?? readPods(job))
      .then((pods) => (pods ? fromPods(runner, job, outcome, pods) : jobOnly()))
      .catch((err: unknown) => {
        deps.log.error({ job: nameOf(job), err: errorText(err) }, "could not read what the finished Job's pods said");
        return jobOnly();
      })
      .then(({ message, findings }) => {
        reading.delete(jobUid);
        tell(message, findings);
      });
  }

  return { jobFailing, jobEnded };
}

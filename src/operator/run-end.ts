// What a finished run said, told to its Runner's actor as JOB.FINISHED: the Job's result, how many attempts it took
// (flaky), whether the infrastructure ended it (Error), the failed container's words and, with spec.testResults, the
// counts of its JUnit report. Reading the container's words needs the Job's pods: one LIST (by the Job's
// controller-uid label) per failed run or run with a report, and one bounded read of the report container's log
// when the report is in the log — sent only while the run is the Runner's active one, never per watch event, and
// at most READS_AT_ONCE at a time so that a storm of finished runs cannot flood the API server.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RunFindings, RunnerEvent, RunTests } from '../../machines/runner.ts';
import type { Runner } from '../api/runner.ts';
import type { JobOutcome } from '../runner/job.ts';
import type { KubeClient } from '../k8s/client.ts';
import { errorText } from '../k8s/informer.ts';
import { collectionPath, objectPath } from '../k8s/api-paths.ts';
import { readJUnitFrom } from '../runner/results/junit.ts';
import {
  failureMessage,
  infrastructureCause,
  jobFindings,
  reportContainerOf,
  reportPodOf,
  terminationDetail,
  terminationMessageOf,
} from '../runner/run-outcome.ts';

const READ_TIMEOUT_MS = 5_000;
/** A report is read from the end of the log: its last lines, at most this many bytes of them (the kubelet cuts). */
export const LOG_READ = { tailLines: 10_000, limitBytes: 1_048_576 } as const;
const READS_AT_ONCE = 8;

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
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await work();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}

/**
 * Tells a Runner's actor that its Job finished. A run whose end needs its pods read (a failure, a test report) is
 * told once they have been read — at most a few seconds later; without the detail if they cannot be.
 */
export function runEndReporter(deps: RunEndDeps) {
  const reading = new Set<string>();
  const limit = limiter(READS_AT_ONCE);

  const podsOf = async (job: V1Job): Promise<V1Pod[]> =>
    (
      await deps.client.request<{ items: V1Pod[] }>('GET', collectionPath('v1', 'pods', job.metadata!.namespace!), {
        query: { labelSelector: `batch.kubernetes.io/controller-uid=${job.metadata!.uid}` },
        timeoutMs: READ_TIMEOUT_MS,
      })
    ).items;

  const logOf = (pod: V1Pod, container: string): Promise<string> =>
    deps.client.getText(`${objectPath('v1', 'pods', pod.metadata!.namespace!, pod.metadata!.name!)}/log`, {
      query: { container, ...LOG_READ },
      timeoutMs: READ_TIMEOUT_MS,
    });

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
    const reading = readJUnitFrom(text);
    return reading.ok ? reading.summary : { problem: `${reading.problem} (in the ${settings.from === 'TerminationMessage' ? 'termination message' : 'log'} of ${where})` };
  }

  /** The message and findings of a run whose pods were read. */
  async function fromPods(runner: Runner, job: V1Job, outcome: FinishedOutcome, pods: V1Pod[]): Promise<{ message: string; findings: RunFindings }> {
    const succeeded = outcome.phase === 'Succeeded';
    const findings: RunFindings = jobFindings(job, succeeded);
    const cause = succeeded ? null : infrastructureCause(job, pods);
    if (cause) return { message: failureMessage(outcome.message, `${cause.reason}: ${cause.message}`), findings: { ...findings, errorReason: cause.reason } };
    const message = succeeded ? outcome.message : failureMessage(outcome.message, terminationDetail(pods));
    return { message, findings: runner.spec.testResults ? { ...findings, tests: await testsOf(runner, pods, succeeded) } : findings };
  }

  return function jobEnded(uid: string, runKey: string, job: V1Job, outcome: FinishedOutcome): void {
    const finished = (message: string, findings: RunFindings): RunnerEvent => ({
      type: 'JOB.FINISHED', at: deps.now().toISOString(), key: runKey, succeeded: outcome.phase === 'Succeeded', message, findings,
    });
    const runner = deps.runnerByUid(uid);
    const jobUid = job.metadata?.uid;
    const needsPods = outcome.phase === 'Failed' || runner?.spec.testResults !== undefined;
    if (!runner || !needsPods || !jobUid || !deps.isActiveRun(uid, runKey)) {
      return deps.send(uid, finished(outcome.message, jobFindings(job, outcome.phase === 'Succeeded')));
    }
    if (reading.has(jobUid)) return;
    reading.add(jobUid);
    const jobName = `${job.metadata?.namespace}/${job.metadata?.name}`;
    limit(async () => {
      const pods = await podsOf(job).catch((err: unknown) => {
        deps.log.warn({ job: jobName, err: errorText(err) }, "could not read the finished Job's pods; reporting the Job's own words only");
        return null;
      });
      return pods ? fromPods(runner, job, outcome, pods) : { message: outcome.message, findings: jobFindings(job, outcome.phase === 'Succeeded') };
    })
      .catch((err: unknown) => {
        deps.log.error({ job: jobName, err: errorText(err) }, "could not read what the finished Job's pods said");
        return { message: outcome.message, findings: jobFindings(job, outcome.phase === 'Succeeded') };
      })
      .then(({ message, findings }) => {
        reading.delete(jobUid);
        deps.send(uid, finished(message, findings));
      });
  };
}

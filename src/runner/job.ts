// The Job for one run, and what a Job says about its run: pure functions of their inputs.
import type { V1Job, V1OwnerReference } from '@kubernetes/client-node';
import {
  API_VERSION,
  KIND,
  LABEL_JOB_NAME,
  LABEL_REVISION,
  LABEL_SLOT,
  LABEL_RUNNER_NAME,
  LABEL_RUNNER_NAMESPACE,
  type Runner,
} from '../api/runner.ts';
import { slotOf } from '../shard/ring.ts';
import { jobNameFor, shortHash } from './job-name.ts';

export const jobPrefixOf = (runner: Runner): string => runner.spec?.jobName || runner.metadata.name!;

/** A Job name unique to this Runner and run, stable across retries and restarts (SPEC §4). */
export const jobNameForRun = (runner: Runner, runKey: string): string =>
  jobNameFor(jobPrefixOf(runner), `${runner.metadata.uid}:${runKey}`);

/** The run a Job belongs to; the machine's run key, so a finished Job is matched to its run. */
export const ANNOTATION_RUN_KEY = 'runner.stakater.com/run-key';

export interface JobSettings {
  backoffLimit: number;
  ttlSecondsAfterFinished: number;
  deadlineSeconds?: number;
}

/** A label value is at most 63 characters; longer names keep a readable head and a hash. */
export function labelValue(text: string): string {
  if (text.length <= 63) return text;
  return `${text.slice(0, 52).replace(/[^A-Za-z0-9]+$/, '')}-${shortHash(text, 10)}`;
}

/** Who a Runner is, as far as its Jobs' labels tell: its namespace and name. */
export interface RunnerIdentity {
  namespace: string;
  name: string;
}

/** The labels that tie a Job to its Runner (SPEC §4), each value shortened to fit a label. */
export function runnerJobLabels(runner: RunnerIdentity): Record<string, string> {
  return {
    [LABEL_RUNNER_NAME]: labelValue(runner.name),
    [LABEL_RUNNER_NAMESPACE]: labelValue(runner.namespace),
  };
}

/**
 * The label selector of a Runner's Jobs: the one way every reader asks the API server for them. It matches the
 * labels buildJob writes, shortened values included (the raw name of a Runner longer than 63 characters is not a
 * valid label value, and the API server answers 400). A shortened value ends in a hash, so it could in principle
 * be shared; readers still keep only the Jobs whose controller is the Runner (controllingRunnerUid).
 */
export function runnerJobsSelector(runner: RunnerIdentity): string {
  return Object.entries(runnerJobLabels(runner))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/**
 * Slots named in one selector at most: at 20 Runners a slot (20,000 Runners), a list or two of 500 Jobs, so that a
 * replica taking a quarter of the slots lists their Jobs side by side rather than page after page.
 */
const SLOTS_PER_SELECTOR = 32;

/**
 * The label selectors that together match every Job of the Runners in `slots`: their slot label names one of them,
 * or (a Job made before Jobs carried it) it has none.
 */
export function slotJobsSelectors(slots: Iterable<number>): string[] {
  const sorted = [...new Set(slots)].sort((a, b) => a - b);
  const selectors = [`!${LABEL_SLOT}`];
  for (let i = 0; i < sorted.length; i += SLOTS_PER_SELECTOR) selectors.push(`${LABEL_SLOT} in (${sorted.slice(i, i + SLOTS_PER_SELECTOR).join(',')})`);
  return selectors;
}

/** The namespace and name of a Runner object. */
export const identityOf = (runner: Runner): RunnerIdentity => ({ namespace: runner.metadata.namespace!, name: runner.metadata.name! });

export function ownerReferenceTo(runner: Runner): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: runner.metadata.name!,
    uid: runner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function buildJob(runner: Runner, run: { key: string; revision: string }, jobName: string, settings: JobSettings): V1Job {
  const labels = { ...runnerJobLabels(identityOf(runner)), [LABEL_REVISION]: labelValue(run.revision) };
  const template = runner.spec.template;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName,
      // Always the Runner's own namespace (SPEC §6): the template cannot move it elsewhere.
      namespace: runner.metadata.namespace!,
      // A Job name is a valid label value (at most 63 characters, DNS-1123); only the Job carries it and the slot,
      // not its pods.
      labels: { ...labels, [LABEL_JOB_NAME]: jobName, [LABEL_SLOT]: String(slotOf(runner.metadata.uid!)) },
      annotations: { [ANNOTATION_RUN_KEY]: run.key },
      ownerReferences: [ownerReferenceTo(runner)],
    },
    spec: {
      backoffLimit: settings.backoffLimit,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      ...(settings.deadlineSeconds !== undefined ? { activeDeadlineSeconds: settings.deadlineSeconds } : {}),
      template: {
        ...template,
        metadata: {
          ...template.metadata,
          namespace: undefined,
          labels: { ...template.metadata?.labels, ...labels },
        },
        spec: {
          ...template.spec!,
          restartPolicy: template.spec?.restartPolicy ?? 'Never',
        },
      },
    },
  };
}

export type JobOutcome =
  | { phase: 'Running' }
  | { phase: 'Succeeded'; message: string }
  | { phase: 'Failed'; message: string };

/** Complete and Failed are the Job controller's final word; anything else is still running. */
export function jobOutcome(job: V1Job): JobOutcome {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return { phase: 'Succeeded', message: c.message || 'Job completed' };
    if (c.type === 'Failed') {
      const text = [c.reason, c.message].filter(Boolean).join(': ');
      return { phase: 'Failed', message: text || 'Job failed' };
    }
  }
  return { phase: 'Running' };
}

/**
 * The Job controller has decided the Job fails (condition FailureTarget) but has not yet stopped its pods: the last
 * moment at which a pod that never ran its check (an image not pulled, no node) still says why.
 */
export const isFailing = (job: V1Job): boolean =>
  (job.status?.conditions ?? []).some((c) => c.type === 'FailureTarget' && c.status === 'True');

/** When a finished Job finished: its completion time, or (a failed Job has none) when its final condition came. */
export function jobFinishTime(job: V1Job): Date | string | undefined {
  return job.status?.completionTime ?? job.status?.conditions?.find((c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'))?.lastTransitionTime;
}

/** The label selector of a Job's pods: the Job controller labels each with the Job's uid. */
export const jobPodsSelector = (job: V1Job): string => `batch.kubernetes.io/controller-uid=${job.metadata!.uid!}`;

/** The uid of the Runner that controls this Job, if any. */
export function controllingRunnerUid(job: V1Job): string | undefined {
  return job.metadata?.ownerReferences?.find((o) => o.controller && o.kind === KIND && o.apiVersion === API_VERSION)?.uid;
}

// The Runner resource (e2e.stakater.com/v1alpha1), written once and used everywhere.
// The CRD schema in crds/ is the admission-time contract; src/runner/spec/spec.ts validates what it cannot.
import type { V1Condition, V1LabelSelector, V1ObjectMeta, V1ObjectReference, V1PodTemplateSpec } from '@kubernetes/client-node';

export const GROUP = 'e2e.stakater.com';
export const VERSION = 'v1alpha1';
export const PLURAL = 'runners';
export const KIND = 'Runner';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const LABEL_ENABLE = 'runner.stakater.com/enable';
/** A ClusterRole with this label set to "true" adds its rules to what the operator may read (deploy/rbac). */
export const LABEL_AGGREGATE = 'runner.stakater.com/aggregate-to-hestia';
export const LABEL_RUNNER_NAME = 'runner.stakater.com/name';
export const LABEL_RUNNER_NAMESPACE = 'runner.stakater.com/namespace';
export const LABEL_REVISION = 'runner.stakater.com/revision';
/** On each Job the operator creates, its own name: the history limits delete several at once by it. */
export const LABEL_JOB_NAME = 'runner.stakater.com/job';
/**
 * On each Job the operator creates, its Runner's slot (src/shard/ring.ts): a replica taking slots over lists only
 * their Jobs. Its values follow SLOT_BITS; slots of another size would need a label of another name.
 */
export const LABEL_SLOT = 'runner.stakater.com/slot';
export const ANNOTATION_TRIGGER = 'runner.stakater.com/trigger';

export type ConcurrencyPolicy = 'Forbid' | 'Replace';

/** spec.resources[]: objects of any kind that must be ready (SPEC §2.3). */
export interface ResourceInput {
  apiVersion: string;
  kind: string;
  /** Over objects that also carry LABEL_ENABLE="true", in every namespace namespaceSelector allows. */
  selector: V1LabelSelector;
  /** A CEL expression over `object`; absent: ready means kstatus Current. */
  readyWhen?: string;
}

/** spec.probes[]: HTTP endpoints that must answer as expected before a run starts (SPEC §2.3). */
export interface ProbeSpec {
  name: string;
  http: {
    url: string;
    /** Status codes that count as an answer as expected; absent: 200–399. */
    expectStatus?: number[];
    headers?: Record<string, string>;
  };
  /** How long one probe may take (default 5). */
  timeoutSeconds?: number;
  /** How often a probe that did not answer as expected is tried again, at first (default 10; then backing off). */
  periodSeconds?: number;
}

/** spec.testResults: where a run's JUnit XML report is read from (status.lastRun.tests). */
export interface TestResultsSpec {
  /** The report's format; JUnit XML is the one read today. */
  format: 'JUnit';
  /** Log: the container's log holds the report (e.g. pytest --junitxml=/dev/stdout); TerminationMessage: /dev/termination-log does. */
  from?: 'Log' | 'TerminationMessage';
  /** The container whose output holds the report (default: the template's first container). */
  container?: string;
}

export interface RunnerSpec {
  workloadSelector?: V1LabelSelector;
  runnerSelector?: V1LabelSelector;
  namespaceSelector?: V1LabelSelector;
  template: V1PodTemplateSpec;
  schedule?: string;
  timeZone?: string;
  deadlineSeconds?: number;
  jobName?: string;
  suspend?: boolean;
  concurrencyPolicy?: ConcurrencyPolicy;
  startingDeadlineSeconds?: number;
  backoffLimit?: number;
  ttlSecondsAfterFinished?: number;
  successfulRunsHistoryLimit?: number;
  failedRunsHistoryLimit?: number;
  stableStateTimeout?: string;
  resources?: ResourceInput[];
  probes?: ProbeSpec[];
  /** Read a test report from each run (opt-in). */
  testResults?: TestResultsSpec;
  /** A failed run is reported everywhere but keeps the Runner healthy and does not block downstream Runners. */
  advisory?: boolean;
}

/** A workload kind, Runner, or (for spec.resources) the kind of the selected object. */
export type WatchedKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'DeploymentConfig' | 'Runner' | (string & {});

export interface WatchedResource {
  name: string;
  namespace: string;
  kind: WatchedKind;
  /** Only for objects selected through spec.resources, e.g. `helm.toolkit.fluxcd.io/v2`. */
  apiVersion?: string;
  ready: boolean;
  /** Human detail, e.g. "2/3 available" or "latest run failed". */
  message?: string;
}

/** status.probes[]: what each probe answered last. */
export interface ProbeStatus {
  name: string;
  url: string;
  ready: boolean;
  /** "answered 200", "answered 503, not 200–399", "not probed yet", ... */
  message: string;
}

export interface FailedTestStatus {
  name: string;
  classname?: string;
  kind: 'failure' | 'error';
  message: string;
}

/** status.lastRun.tests: the counts of the run's test report (spec.testResults), or why it could not be read. */
export interface TestResultsStatus {
  tests?: number;
  failures?: number;
  errors?: number;
  skipped?: number;
  timeSeconds?: number;
  /** The first failing test cases (at most 5), in report order. */
  failed?: FailedTestStatus[];
  /** Why no counts could be read: no report found, not well-formed, too large, refused. */
  problem?: string;
}

export type RunResultStatus = 'Running' | 'Succeeded' | 'Failed' | 'Error';

export interface LastRunStatus {
  jobName: string;
  revision: string;
  /** What caused it: "rollout of Deployment shop/cart", "schedule 12:00", "upstream qa/a", "manual trigger x". */
  trigger: string;
  reason: 'Revision' | 'Schedule' | 'Manual';
  startTime: string;
  completionTime?: string;
  /** Error: the infrastructure ended the run (errorReason says how), not the check's own exit. */
  result: RunResultStatus;
  message?: string;
  /** Succeeded after at least one failed attempt (a retry within backoffLimit). */
  flaky?: boolean;
  /** Pods the Job started, when more than one. */
  attempts?: number;
  /** With result Error: ImagePullFailed, ContainerNotStarted, PodEvicted, NodeLost, Unschedulable or DeadlineExceeded. */
  errorReason?: string;
  tests?: TestResultsStatus;
  /** Succeeded, and the run before it had failed or ended in an error: the first success after a failure. */
  recovered?: boolean;
}

export interface RunnerStatus {
  conditions?: V1Condition[];
  observedGeneration?: number;
  state?: string;
  message?: string;
  /**
   * The revision of the inputs as the operator sees them now (SPEC §3.3). When `lastRun.revision`
   * equals it, the latest run is the run of the current revision (what `hestia wait` waits for).
   */
  revision?: string;
  lastSuccessfulRunTime?: string;
  lastFailedRunTime?: string;
  lastRun?: LastRunStatus;
  lastScheduleTime?: string;
  nextScheduleTime?: string;
  progressingSince?: string;
  /** At most MAX_WATCHED_LISTED entries, those not ready first; watchedResourcesCount has the total. */
  watchedResources?: WatchedResource[];
  watchedResourcesCount?: number;
  probes?: ProbeStatus[];
  /** The Runner actor's persisted XState snapshot, from which it is restored after a restart. */
  snapshot?: Record<string, unknown>;
}

export interface Runner {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec: RunnerSpec;
  status?: RunnerStatus;
}

export const SPEC_DEFAULTS = {
  concurrencyPolicy: 'Forbid' as ConcurrencyPolicy,
  backoffLimit: 1,
  ttlSecondsAfterFinished: 1800,
  successfulRunsHistoryLimit: 3,
  failedRunsHistoryLimit: 1,
  stableStateTimeout: '30m',
  timeZone: 'UTC',
  suspend: false,
  /** Of the Job's pod template; a Job accepts only Never or OnFailure. */
  restartPolicy: 'Never' as 'Never' | 'OnFailure',
  probeTimeoutSeconds: 5,
  probePeriodSeconds: 10,
};

/** What an Event about a Runner names as the object it regards. */
export const runnerReference = (runner: Runner): V1ObjectReference => ({
  apiVersion: API_VERSION,
  kind: KIND,
  namespace: runner.metadata.namespace!,
  name: runner.metadata.name!,
  uid: runner.metadata.uid!,
});

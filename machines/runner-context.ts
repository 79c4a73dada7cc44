// What the Runner machine knows: its inputs, its context, its events, and the pure updates of its context.
// No I/O, no clock, no Kubernetes types; the operator stamps every event with its time in `at`.

/** The values of a Runner's `status.state`: the states a Runner rests or runs in (the CRD lists them as an enum). */
export const RUNNER_STATES = [
  'Invalid',
  'Stalled',
  'Suspended',
  'WaitingForWorkloads',
  'WaitingForUpstream',
  'Scheduled',
  'Running',
  'Succeeded',
  'Failed',
] as const;
export type RunnerStateName = (typeof RUNNER_STATES)[number];

/** What the operator observed about a Runner's inputs, reduced to what decides behaviour. */
export interface RunnerInputs {
  /** The spec passed validation. */
  valid: boolean;
  suspended: boolean;
  /** The Runner is part of a dependency cycle. */
  cycle: boolean;
  /**
   * Every selected workload is ready and at least one matched (true without a workloadSelector); the operator folds
   * spec.resources and, once everything else holds, spec.probes into it (SPEC §2.3).
   */
  workloadsReady: boolean;
  /** Every selected upstream's latest run succeeded (true without a runnerSelector). */
  upstreamReady: boolean;
  /** The spec has a `schedule`: runs happen at ticks, not on new revisions. */
  scheduled: boolean;
  concurrencyPolicy: 'Forbid' | 'Replace';
  /** Identity of the inputs (SPEC §3.3); an event-triggered Runner runs once per value. */
  revision: string;
  /** The parts the revision is made of, kept so a run can say what triggered it. */
  parts: readonly string[];
  /** Value of the manual-trigger annotation, or null. */
  trigger: string | null;
}

export type RunReason = 'Revision' | 'Schedule' | 'Manual';
/** Error: the run ended because of the infrastructure (an image not pulled, a pod evicted or lost, a deadline), not the check. */
export type RunResult = 'Succeeded' | 'Failed' | 'Error';

/** A failing test case as a test report names it. */
export interface FailedTestCase {
  name: string;
  classname?: string;
  kind: 'failure' | 'error';
  message: string;
}

/** The counts of a run's test report (spec.testResults), and its first failing cases. */
export interface TestCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  timeSeconds: number | null;
  failed: FailedTestCase[];
}

/** A test report read, or why none could be. */
export type RunTests = TestCounts | { problem: string };

/**
 * What the operator read about a finished run beyond pass or fail. The machine carries it to status and decides
 * nothing on it, except that an error reason makes the run's result Error.
 */
export interface RunFindings {
  /** Pods the Job started (failed and succeeded attempts). */
  attempts?: number;
  /** Succeeded after at least one failed attempt. */
  flaky?: boolean;
  /** Why the infrastructure ended the run (ImagePullFailed, PodEvicted, NodeLost, Unschedulable, DeadlineExceeded, ...). */
  errorReason?: string;
  tests?: RunTests;
}

export interface RunRecord {
  /** Unique key of the run; the operator derives the Job name from it. */
  key: string;
  reason: RunReason;
  revision: string;
  parts: readonly string[];
  /** Parts of the previous run, so the trigger ("rollout of X") can be told. */
  previousParts: readonly string[] | null;
  /** The tick this run is for (scheduled runs). */
  tick: string | null;
  startedAt: string;
  finishedAt: string | null;
  result: RunResult | null;
  message: string | null;
  /** Absent in snapshots written before findings existed, and for runs that have none. */
  findings?: RunFindings;
  /**
   * How the last finished run before this one ended (a run replaced before it ended passes on what it was given):
   * a success after Failed or Error is a recovery. Absent in snapshots written before it existed.
   */
  previousResult?: RunResult | null;
}

export interface RunnerContext {
  inputs: RunnerInputs;
  /** Revision of the latest run started (any reason). */
  lastRevision: string | null;
  /** Trigger value already consumed (a run was started for it, or it was the baseline). */
  lastTrigger: string | null;
  /** A tick that arrived while a run could start, not started yet (e.g. during a run under Forbid). */
  dueTick: string | null;
  /** The latest tick handled (run or skipped); the operator schedules the next one after it. */
  lastTick: string | null;
  lastSkippedTick: string | null;
  /** The latest run; active while the state is Running. */
  run: RunRecord | null;
  lastSucceededAt: string | null;
  lastFailedAt: string | null;
  /** When the workloads stopped being ready (cleared when they are ready again). */
  progressingSince: string | null;
  /** Time of the latest event, so transitions without an event of their own have a time. */
  now: string;
  /** Runs started so far; part of each run key, so a revision seen again (a rollback) is a new run. */
  runs: number;
}

export type RunnerEvent =
  | { type: 'INPUTS'; at: string; inputs: RunnerInputs }
  | { type: 'TICK'; at: string; tick: string }
  /** A tick that passed while the operator could not act (down, or past startingDeadlineSeconds). */
  | { type: 'TICK.MISSED'; at: string; tick: string }
  | { type: 'JOB.FINISHED'; at: string; key: string; succeeded: boolean; message: string; findings?: RunFindings };

/**
 * What has run already, for a Runner that has no snapshot but has Jobs (its status was emptied by another
 * client, or restored from a backup without it): so that it does not run again what its Jobs show has run.
 */
export interface RunHistory {
  /** The run number of the newest run; the next run key counts on from it. */
  runs: number;
  /** The revision of the newest run. */
  lastRevision: string | null;
  /** The trigger value of the newest manual run, if any. */
  lastTrigger: string | null;
  /** The newest run: finished, or (result null) its Job still running, when the actor resumes in Running. */
  run: RunRecord | null;
}

export interface RunnerMachineInput {
  inputs: RunnerInputs;
  at: string;
  history?: RunHistory;
}

// ---------------------------------------------------------------------------------------------
// Pure facts about a context.

/**
 * Whether two observations are the same. Field by field, not by serialising: a snapshot restored
 * from the API server has its keys in another order, and that must not count as a change.
 */
export function sameInputs(a: RunnerInputs, b: RunnerInputs): boolean {
  return (
    a.valid === b.valid &&
    a.suspended === b.suspended &&
    a.cycle === b.cycle &&
    a.workloadsReady === b.workloadsReady &&
    a.upstreamReady === b.upstreamReady &&
    a.scheduled === b.scheduled &&
    a.concurrencyPolicy === b.concurrencyPolicy &&
    a.revision === b.revision &&
    a.trigger === b.trigger &&
    a.parts.length === b.parts.length &&
    a.parts.every((part, i) => part === b.parts[i])
  );
}

/** Valid, in no cycle, not suspended, workloads and upstreams ready (SPEC §3.1). */
export const inputsSatisfied = (i: RunnerInputs): boolean =>
  i.valid && !i.cycle && !i.suspended && i.workloadsReady && i.upstreamReady;

/** The manual-trigger annotation holds a value no run has consumed yet (once per value, SPEC §2.2). */
export const hasNewTrigger = (c: RunnerContext): boolean => c.inputs.trigger !== null && c.inputs.trigger !== c.lastTrigger;

/** A scheduled Runner holds a tick that has not run yet (SPEC §3.4). */
export const hasDueTick = (c: RunnerContext): boolean => c.inputs.scheduled && c.dueTick !== null;

/** An event-triggered Runner's inputs are at a revision it has not run yet (SPEC §3.3). */
export const hasNewRevision = (c: RunnerContext): boolean => !c.inputs.scheduled && c.inputs.revision !== c.lastRevision;

/** A run is due: its inputs hold and a manual trigger, a remembered tick or a new revision has not run yet. */
export const runDue = (c: RunnerContext): boolean => inputsSatisfied(c.inputs) && (hasNewTrigger(c) || hasDueTick(c) || hasNewRevision(c));

/** A tick can start a run (now or, under Forbid, after the active one). */
export const tickCanRun = (c: RunnerContext): boolean => c.inputs.scheduled && inputsSatisfied(c.inputs);

export const runIsActive = (c: RunnerContext): boolean => c.run !== null && c.run.result === null;

/** `<run number>:<reason>:<what>`: unique per run, and the same again after a restart that lost it. */
export const runKeyFor = (ctx: RunnerContext, reason: RunReason): string => {
  const n = ctx.runs + 1;
  switch (reason) {
    case 'Manual':
      return `${n}:manual:${ctx.inputs.trigger}:${ctx.inputs.revision}`;
    case 'Schedule':
      return `${n}:schedule:${ctx.dueTick}`;
    case 'Revision':
      return `${n}:revision:${ctx.inputs.revision}`;
  }
};

export interface ParsedRunKey {
  n: number;
  reason: RunReason;
  revision: string | null;
  trigger: string | null;
  tick: string | null;
}

/** Reads a run key (`<n>:revision:<rev>`, `<n>:manual:<trigger>:<rev>`, `<n>:schedule:<tick>`); null if it is none. */
export function parseRunKey(key: string): ParsedRunKey | null {
  const m = /^(\d+):(revision|manual|schedule):(.*)$/s.exec(key);
  if (!m) return null;
  const n = Number(m[1]);
  const rest = m[3]!;
  switch (m[2]) {
    case 'revision':
      return { n, reason: 'Revision', revision: rest, trigger: null, tick: null };
    case 'manual': {
      // The revision is a hash (no colon); the trigger is whatever the user wrote.
      const cut = rest.lastIndexOf(':');
      return cut < 0 ? null : { n, reason: 'Manual', revision: rest.slice(cut + 1), trigger: rest.slice(0, cut), tick: null };
    }
    default:
      return { n, reason: 'Schedule', revision: null, trigger: null, tick: rest };
  }
}

// ---------------------------------------------------------------------------------------------
// Pure updates of the context, one per action of the machine that changes it.

export function initialContext({ inputs, at, history }: RunnerMachineInput): RunnerContext {
  const run = history?.run ?? null;
  return {
    inputs,
    lastRevision: history?.lastRevision ?? null,
    // The trigger value present when a Runner is first seen is a baseline, not a request — unless its Jobs show
    // the value a manual run was last made for.
    lastTrigger: history?.lastTrigger ?? inputs.trigger,
    dueTick: null,
    lastTick: null,
    lastSkippedTick: null,
    run,
    lastSucceededAt: run?.result === 'Succeeded' ? run.finishedAt : null,
    lastFailedAt: run?.result === 'Failed' || run?.result === 'Error' ? run.finishedAt : null,
    progressingSince: inputs.workloadsReady ? null : at,
    now: at,
    runs: history?.runs ?? 0,
  };
}

export function withInputs(c: RunnerContext, inputs: RunnerInputs, at: string): RunnerContext {
  const becameNotReady = !inputs.workloadsReady && c.progressingSince === null;
  return { ...c, now: at, inputs, progressingSince: inputs.workloadsReady ? null : becameNotReady ? at : c.progressingSince };
}

/**
 * A new run, for the reason it is due: a new trigger value first, then (scheduled) the tick, else the revision.
 * Under Replace a tick still due would replace this very run at once, so it is served by it — unless the Runner is no
 * longer scheduled: then the tick is skipped, visibly, when the run ends.
 */
export function withNewRun(c: RunnerContext, at: string): RunnerContext {
  const reason: RunReason = hasNewTrigger(c) ? 'Manual' : c.inputs.scheduled ? 'Schedule' : 'Revision';
  const run: RunRecord = {
    key: runKeyFor(c, reason),
    reason,
    revision: c.inputs.revision,
    parts: c.inputs.parts,
    previousParts: c.run?.parts ?? null,
    previousResult: c.run ? (c.run.result ?? c.run.previousResult ?? null) : null,
    tick: reason === 'Schedule' ? c.dueTick : null,
    startedAt: at,
    finishedAt: null,
    result: null,
    message: null,
  };
  const tickServed = reason === 'Schedule' || (c.inputs.concurrencyPolicy === 'Replace' && c.inputs.scheduled);
  return {
    ...c,
    run,
    runs: c.runs + 1,
    lastRevision: c.inputs.revision,
    lastTrigger: c.inputs.trigger,
    dueTick: tickServed ? null : c.dueTick,
  };
}

/** Succeeded, or (not succeeded) Error when the infrastructure ended the run, else Failed. */
export const resultOf = (event: { succeeded: boolean; findings?: RunFindings }): RunResult =>
  event.succeeded ? 'Succeeded' : event.findings?.errorReason ? 'Error' : 'Failed';

/** The latest run finished without succeeding (Failed or Error): an event-triggered Runner rests in Failed. */
export const lastRunFailed = (c: RunnerContext): boolean => c.run?.result === 'Failed' || c.run?.result === 'Error';

export function withResult(c: RunnerContext, event: Extract<RunnerEvent, { type: 'JOB.FINISHED' }>): RunnerContext {
  if (c.run === null) return c;
  const result = resultOf(event);
  const findings = event.findings && Object.keys(event.findings).length > 0 ? { findings: event.findings } : {};
  return {
    ...c,
    now: event.at,
    run: { ...c.run, finishedAt: event.at, result, message: event.message, ...findings },
    ...(event.succeeded ? { lastSucceededAt: event.at } : { lastFailedAt: event.at }),
  };
}

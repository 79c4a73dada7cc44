// A Runner's status (SPEC §5) as a pure function of its actor's snapshot and its assessment.
// Conditions keep their lastTransitionTime unless their status moves, so an unchanged Runner
// renders to an identical status and no write is sent.
import type { V1Condition } from '@kubernetes/client-node';
import type { RunFindings, RunnerContext, RunnerStateName, RunTests } from '../../machines/runner.ts';
import type { LastRunStatus, Runner, RunnerStatus, TestResultsStatus } from '../api/runner.ts';
import type { Assessment } from './assess.ts';
import { jobNameForRun } from './job.ts';
import { failedUpstreams, kstatusConditions, runEndHow, stallOf, type Condition } from './kstatus-conditions.ts';
import { describeTrigger } from './messages.ts';

export interface RenderArgs {
  runner: Runner;
  state: RunnerStateName;
  context: RunnerContext;
  snapshot: Record<string, unknown>;
  assessment: Assessment;
  now: string;
  nextScheduleTime: string | null;
  /** Workloads not ready for longer than spec.stableStateTimeout. */
  stableStateTimedOut: boolean;
  reconcileError: string | null;
  /** The name of the latest run's Job as it exists, if it does. */
  runJobName?: string;
}

/** `jobName`: the name the run's Job really has, when known (the prefix may have changed since). */
export function lastRunStatus(runner: Runner, context: RunnerContext, jobName?: string): LastRunStatus | undefined {
  const run = context.run;
  if (!run) return undefined;
  const trigger =
    run.reason === 'Schedule' ? `schedule (tick ${run.tick})` : describeTrigger(run.previousParts, run.parts, run.reason);
  return {
    jobName: jobName ?? jobNameForRun(runner, run.key),
    revision: run.revision,
    trigger,
    reason: run.reason,
    startTime: run.startedAt,
    ...(run.finishedAt ? { completionTime: run.finishedAt } : {}),
    result: run.result ?? 'Running',
    ...(run.message ? { message: run.message } : {}),
    ...findingsStatus(run.findings),
    ...(run.result === 'Succeeded' && (run.previousResult === 'Failed' || run.previousResult === 'Error') ? { recovered: true } : {}),
  };
}

/** What status.lastRun shows of a run's findings: only what is there, so a plain run's status stays as it was. */
function findingsStatus(findings: RunFindings | undefined): Partial<LastRunStatus> {
  if (!findings) return {};
  const { attempts, flaky, errorReason, tests } = findings;
  return {
    ...(flaky ? { flaky: true } : {}),
    ...(attempts !== undefined && attempts > 1 ? { attempts } : {}),
    ...(errorReason ? { errorReason } : {}),
    ...(tests ? { tests: testsStatus(tests) } : {}),
  };
}

function testsStatus(tests: RunTests): TestResultsStatus {
  if ('problem' in tests) return { problem: tests.problem };
  const { timeSeconds, failed, ...counts } = tests;
  return { ...counts, ...(timeSeconds !== null ? { timeSeconds } : {}), ...(failed.length > 0 ? { failed } : {}) };
}

export function renderStatus(args: RenderArgs): RunnerStatus {
  const { runner, state, context, assessment, now } = args;
  const lastRun = lastRunStatus(runner, context, args.runJobName);
  const previous = runner.status?.conditions ?? [];
  const condition = (c: Condition): V1Condition => keepTransitionTime(c, previous, now);
  const message = stateMessage(args, lastRun);
  const stall = stallOf({
    state,
    lastRun,
    advisory: runner.spec?.advisory === true,
    valid: assessment.inputs.valid,
    cycle: assessment.cycle !== null,
    blockedMessage: assessment.blockedMessage,
    watchedResources: assessment.watchedResources,
    stableStateTimedOut: args.stableStateTimedOut,
    progressingSince: context.progressingSince,
  });

  const status: RunnerStatus = {
    conditions: [
      condition(
        args.reconcileError === null
          ? { type: 'ReconcileSuccess', status: 'True', reason: 'LastReconcileCycleSucceded', message: '' }
          : { type: 'ReconcileSuccess', status: 'False', reason: 'LastReconcileCycleFailed', message: args.reconcileError },
      ),
      condition(jobCompleted(lastRun)),
      ...kstatusConditions(state, lastRun, stall, message, runner.spec?.advisory === true).map(condition),
    ],
    observedGeneration: runner.metadata.generation ?? 0,
    state,
    message,
    revision: assessment.inputs.revision,
    watchedResources: listedWatchedResources(assessment.watchedResources).map(({ name, namespace, kind, apiVersion, ready, message }) => ({
      name,
      namespace,
      kind,
      ...(apiVersion ? { apiVersion } : {}),
      ready,
      ...(message ? { message } : {}),
    })),
    watchedResourcesCount: assessment.watchedResources.length,
    ...(assessment.probes.length > 0 ? { probes: assessment.probes } : {}),
    snapshot: args.snapshot,
  };
  if (lastRun) status.lastRun = lastRun;
  if (context.lastSucceededAt) status.lastSuccessfulRunTime = context.lastSucceededAt;
  if (context.lastFailedAt) status.lastFailedRunTime = context.lastFailedAt;
  if (context.lastTick) status.lastScheduleTime = context.lastTick;
  if (args.nextScheduleTime) status.nextScheduleTime = args.nextScheduleTime;
  if (context.progressingSince) status.progressingSince = context.progressingSince;
  return status;
}

/**
 * What of an assessment a Runner's status shows besides what its actor holds: two assessments with the same shown
 * part render the same status, so a reconcile that changes none of it needs no status render.
 */
export function shownOfAssessment(assessment: Assessment): unknown {
  const { inputs, watchedResources, probes, blockedMessage, cycle } = assessment;
  // The Stalled condition names every failed upstream, listed or not (stallOf reads the full list).
  const failed = failedUpstreams(watchedResources).map((u) => `${u.namespace}/${u.name}`);
  return [inputs.valid, inputs.revision, inputs.scheduled, blockedMessage, cycle !== null, watchedResources.length, listedWatchedResources(watchedResources), failed, probes];
}

/** How many inputs status.watchedResources lists: a Runner selecting thousands keeps a small status. */
export const MAX_WATCHED_LISTED = 100;

/** The inputs status lists: all when few; else those not ready first, in their usual order. */
export function listedWatchedResources<T extends { ready: boolean }>(all: readonly T[]): T[] {
  if (all.length <= MAX_WATCHED_LISTED) return [...all];
  const kept = new Set([...all.filter((w) => !w.ready), ...all.filter((w) => w.ready)].slice(0, MAX_WATCHED_LISTED));
  return all.filter((w) => kept.has(w));
}

function jobCompleted(lastRun: LastRunStatus | undefined): Condition {
  if (!lastRun) return { type: 'JobCompleted', status: 'False', reason: 'JobNotFound', message: 'no run yet' };
  switch (lastRun.result) {
    case 'Running':
      return { type: 'JobCompleted', status: 'False', reason: 'Pending', message: `Job ${lastRun.jobName} is running` };
    case 'Succeeded':
      return { type: 'JobCompleted', status: 'True', reason: 'Successful', message: lastRun.message ?? '' };
    case 'Failed':
      return { type: 'JobCompleted', status: 'False', reason: 'Failed', message: lastRun.message ?? '' };
    case 'Error':
      return { type: 'JobCompleted', status: 'False', reason: 'Error', message: lastRun.message ?? '' };
  }
}

function stateMessage(args: RenderArgs, lastRun: LastRunStatus | undefined): string {
  const { state, assessment, context } = args;
  switch (state) {
    case 'Running':
      return `running Job ${lastRun?.jobName} (${lastRun?.trigger})`;
    case 'Succeeded':
      return `Job ${lastRun?.jobName} succeeded (${lastRun?.trigger}); waiting for a new revision`;
    case 'Failed':
      return `Job ${lastRun?.jobName} ${lastRun ? runEndHow(lastRun) : 'failed'} (${lastRun?.trigger}): ${lastRun?.message ?? ''}; waiting for a new revision`.trim();
    case 'Scheduled': {
      const skipped = context.lastSkippedTick && context.lastSkippedTick === context.lastTick;
      const next = args.nextScheduleTime ? `next run at ${args.nextScheduleTime}` : 'waiting for the next tick';
      return skipped ? `tick ${context.lastSkippedTick} was skipped; ${next}` : next;
    }
    default: {
      const blocked = assessment.blockedMessage ?? state;
      const skipped = context.lastSkippedTick ? `; tick ${context.lastSkippedTick} was skipped` : '';
      return assessment.inputs.scheduled ? `${blocked}${skipped}` : blocked;
    }
  }
}

/** A condition with the lastTransitionTime it had, unless its status moved. */
export function keepTransitionTime(
  next: Condition,
  previous: V1Condition[],
  now: string,
): V1Condition {
  const before = previous.find((c) => c.type === next.type);
  const lastTransitionTime = before && before.status === next.status ? before.lastTransitionTime : now;
  return { ...next, lastTransitionTime } as V1Condition;
}

// Ready, Reconciling and Stalled: the conditions that kstatus (and so Flux), Argo CD (through
// deploy/argocd/runner-health.lua) and `kubectl wait` read. A pure function of the Runner's state,
// its latest run and what blocks it; docs/verdicts.md has the resulting table, and
// test/integration/verdicts.test.ts checks it with the real kstatus library and Argo CD's Lua VM.
//
// kstatus reads, in this order: Reconciling=True → InProgress, Stalled=True → Failed, then
// Ready (True → Current, False → InProgress). So at most one of Reconciling and Stalled is True.
import type { V1Condition } from '@kubernetes/client-node';
import type { RunnerStateName } from '../../machines/runner.ts';
import type { LastRunStatus, WatchedResource } from '../api/runner.ts';
import { upstreamWords } from './messages.ts';

export type Condition = Omit<V1Condition, 'lastTransitionTime'>;

export type StallReason = 'InvalidSpec' | 'DependencyCycle' | 'RunFailed' | 'RunError' | 'UpstreamFailed' | 'StableStateTimeout';

/** The stall reasons that are a run's result, not something that keeps the Runner from running. */
export const RUN_RESULT_STALLS: readonly string[] = ['RunFailed', 'RunError'];

export interface Stall {
  reason: StallReason;
  message: string;
}

export interface StallArgs {
  state: RunnerStateName;
  lastRun: LastRunStatus | undefined;
  /** spec.advisory: a failed run is reported but is no stall. */
  advisory: boolean;
  valid: boolean;
  cycle: boolean;
  /** Why the Runner cannot run now (the assessment's words), if anything blocks it. */
  blockedMessage: string | null;
  watchedResources: readonly WatchedResource[];
  /** Workloads not ready for longer than spec.stableStateTimeout. */
  stableStateTimedOut: boolean;
  progressingSince: string | null;
}

/** The upstream Runners whose latest run failed or ended in an error, as the assessment reports them. */
export const failedUpstreams = (watched: readonly WatchedResource[]) =>
  watched.filter((w) => w.kind === 'Runner' && !w.ready && (w.message === upstreamWords('Failed') || w.message === upstreamWords('Error')));

/** A run that did not succeed: Failed or Error. */
export const runDidNotSucceed = (run: LastRunStatus | undefined): boolean => run?.result === 'Failed' || run?.result === 'Error';

/** "failed", "succeeded" or "ended in an error (ImagePullFailed)". */
export const runEndHow = (run: LastRunStatus): string =>
  run.result === 'Error' ? `ended in an error (${run.errorReason ?? 'infrastructure'})` : run.result === 'Succeeded' ? 'succeeded' : 'failed';

/** "Job x failed: …" or "Job x ended in an error (ImagePullFailed): …". */
export const runEndWords = (run: LastRunStatus): string => `Job ${run.jobName} ${runEndHow(run)}: ${run.message ?? 'no reason given'}`;

/**
 * Why the Runner will not move without a change from outside — a new revision, a fixed spec, a
 * new upstream run, or (scheduled) its next tick — or null when it is moving or at rest.
 */
export function stallOf(a: StallArgs): Stall | null {
  if (!a.valid) return { reason: 'InvalidSpec', message: a.blockedMessage ?? 'invalid spec' };
  if (a.cycle) return { reason: 'DependencyCycle', message: a.blockedMessage ?? 'dependency cycle' };
  if (runDidNotSucceed(a.lastRun) && !a.advisory && (a.state === 'Failed' || a.state === 'Scheduled')) {
    return { reason: a.lastRun!.result === 'Error' ? 'RunError' : 'RunFailed', message: runEndWords(a.lastRun!) };
  }
  if (a.state === 'WaitingForUpstream') {
    const failed = failedUpstreams(a.watchedResources);
    if (failed.length > 0) {
      const names = failed.map((u) => `${u.namespace}/${u.name}`).join(', ');
      return { reason: 'UpstreamFailed', message: `the latest run of upstream Runner ${names} failed` };
    }
  }
  if (a.stableStateTimedOut && a.state === 'WaitingForWorkloads') {
    return {
      reason: 'StableStateTimeout',
      message: `workloads not ready since ${a.progressingSince}: ${a.blockedMessage ?? ''}`.trim(),
    };
  }
  return null;
}

const MOVING: readonly RunnerStateName[] = ['Running', 'WaitingForWorkloads', 'WaitingForUpstream'];

function ready(state: RunnerStateName, lastRun: LastRunStatus | undefined, stall: Stall | null, message: string, advisory: boolean): Condition {
  if (stall) return { type: 'Ready', status: 'False', reason: stall.reason, message: stall.message };
  // Decision (docs/verdicts.md): an advisory Runner's failed run is reported (status, Warning Event, metrics,
  // `hestia wait` exit 1) but keeps it healthy for kstatus and Argo CD.
  if (advisory && state === 'Failed' && runDidNotSucceed(lastRun)) {
    return { type: 'Ready', status: 'True', reason: 'AdvisoryRunFailed', message: `advisory: ${runEndWords(lastRun!)}` };
  }
  if (state === 'Succeeded') return { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'latest run succeeded' };
  if (state === 'Scheduled') return { type: 'Ready', status: 'True', reason: 'Scheduled', message };
  // Decision (docs/verdicts.md): a suspended check is switched off and gates nothing, as Flux
  // treats its own suspended objects; `hestia wait` still refuses to wait on it (exit 3).
  if (state === 'Suspended') {
    const latest = lastRun ? `latest run ${lastRun.result.toLowerCase()}` : 'no run yet';
    return { type: 'Ready', status: 'True', reason: 'Suspended', message: `suspended (spec.suspend is true): no new runs; ${latest}` };
  }
  return { type: 'Ready', status: 'False', reason: state, message };
}

/** [Ready, Reconciling, Stalled] for a Runner in `state` whose status message is `message` (`advisory`: spec.advisory). */
export function kstatusConditions(state: RunnerStateName, lastRun: LastRunStatus | undefined, stall: Stall | null, message: string, advisory = false): Condition[] {
  const moving = MOVING.includes(state) && stall === null;
  return [
    ready(state, lastRun, stall, message, advisory),
    moving
      ? { type: 'Reconciling', status: 'True', reason: state, message }
      : { type: 'Reconciling', status: 'False', reason: state, message: '' },
    stall
      ? { type: 'Stalled', status: 'True', reason: stall.reason, message: stall.message }
      : { type: 'Stalled', status: 'False', reason: 'NotStalled', message: '' },
  ];
}

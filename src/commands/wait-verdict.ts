// What `hestia wait` concludes from a Runner as it is now: a pure function of the Runner (and,
// right after a rollout, the live workloads), so that every exit code is decided in one place
// and unit-tested without a cluster. The CLI polls the Runner and calls this until it is final.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { LastRunStatus, Runner, WatchedResource } from '../api/runner.ts';
import { RUN_RESULT_STALLS } from '../runner/kstatus-conditions.ts';
import { readinessOf, WORKLOAD_KINDS, type WorkloadKind } from '../runner/readiness/readiness.ts';

/** Which run to wait for. */
export type WaitTarget =
  /** The run of the revision the operator sees now (`hestia wait`). */
  | { kind: 'current' }
  /** The first run that starts after `baselineJob` was the latest (`hestia wait --after-now`). */
  | { kind: 'after'; baselineJob: string | null }
  /** The run requested by setting the trigger annotation to `value` (`hestia trigger --wait`). */
  | { kind: 'trigger'; value: string };

export type Verdict =
  | { outcome: 'pending'; why: string }
  /** errored: the infrastructure ended the run (an image not pulled, a pod evicted, a deadline): inconclusive. */
  | { outcome: 'succeeded' | 'failed' | 'errored'; run: LastRunStatus }
  /** The Runner cannot run without a change from outside (SPEC §5 Stalled, or suspended). */
  | { outcome: 'blocked'; reason: string; message: string; fix: string };

export const EXIT = { succeeded: 0, failed: 1, timeout: 2, blocked: 3, error: 4, errored: 5 } as const;

/** The latest run, if it is the one `target` asks for. */
export function targetRun(runner: Runner, target: WaitTarget): LastRunStatus | undefined {
  const run = runner.status?.lastRun;
  if (!run) return undefined;
  switch (target.kind) {
    case 'current':
      return run.revision === runner.status?.revision ? run : undefined;
    case 'after':
      return run.jobName !== target.baselineJob ? run : undefined;
    case 'trigger':
      return run.reason === 'Manual' && run.trigger === `manual trigger "${target.value}"` ? run : undefined;
  }
}

const FIXES: Record<string, (runner: Runner) => string> = {
  InvalidSpec: () => 'fix the field named above in the Runner spec',
  DependencyCycle: () => 'change spec.runnerSelector of one Runner in the cycle so that it no longer selects the next',
  UpstreamFailed: () => 'the failed upstream Runner must pass first: fix its check, then trigger it (kubectl hestia trigger <upstream>)',
  StableStateTimeout: () => 'the workloads named above have not become ready: fix their rollout',
  Suspended: (r) => `resume it: kubectl patch runner ${r.metadata.name} -n ${r.metadata.namespace} --type merge -p '{"spec":{"suspend":false}}'`,
};

/** Why the Runner cannot run at all, or null. A failed run is a result, not a block. */
function blockOf(runner: Runner): Extract<Verdict, { outcome: 'blocked' }> | null {
  const stalled = runner.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
  if (stalled && !RUN_RESULT_STALLS.includes(stalled.reason)) {
    return { outcome: 'blocked', reason: stalled.reason, message: stalled.message, fix: (FIXES[stalled.reason] ?? (() => 'see kubectl hestia describe'))(runner) };
  }
  if (runner.status?.state === 'Suspended') {
    return { outcome: 'blocked', reason: 'Suspended', message: 'spec.suspend is true: the Runner starts no runs', fix: FIXES.Suspended!(runner) };
  }
  return null;
}

export function waitVerdict(runner: Runner, target: WaitTarget, behind: readonly string[] = []): Verdict {
  const status = runner.status;
  if (!status?.state) return { outcome: 'pending', why: 'the operator has not reported on this Runner yet' };
  const generation = runner.metadata.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation) {
    return { outcome: 'pending', why: `the operator has not seen generation ${generation} of the Runner yet` };
  }
  if (target.kind === 'current' && behind.length > 0) {
    return { outcome: 'pending', why: `the operator has not seen the change of ${behind.join(', ')} yet` };
  }
  const run = targetRun(runner, target);
  if (run?.result === 'Succeeded') return { outcome: 'succeeded', run };
  if (run?.result === 'Failed') return { outcome: 'failed', run };
  if (run?.result === 'Error') return { outcome: 'errored', run };
  if (run) return { outcome: 'pending', why: `Job ${run.jobName} is running (${run.trigger})` };
  return blockOf(runner) ?? { outcome: 'pending', why: startAwaited(target, status.message ?? status.state) };
}

function startAwaited(target: WaitTarget, message: string): string {
  switch (target.kind) {
    case 'current':
      return message;
    case 'after':
      return `a run after ${target.baselineJob ? `Job ${target.baselineJob}` : 'now'} to start; Runner: ${message}`;
    case 'trigger':
      return `the run of trigger "${target.value}" to start; Runner: ${message}`;
  }
}

export type WatchedWorkload = WatchedResource & { kind: WorkloadKind };

export const watchedWorkloads = (watched: readonly WatchedResource[]): WatchedWorkload[] =>
  watched.filter((w): w is WatchedWorkload => (WORKLOAD_KINDS as readonly string[]).includes(w.kind));

export const refName = (w: { kind: string; namespace: string; name: string }) => `${w.kind} ${w.namespace}/${w.name}`;

/**
 * Workloads the status calls ready that are not ready now — a rollout (`kubectl apply`) the
 * operator has not reported yet. Waiting for "the current revision" must not answer with the
 * previous rollout's run, so the CLI waits until the status has caught up with these.
 */
export function workloadsAhead(watched: readonly WatchedResource[], live: ReadonlyMap<string, KubernetesObject>): string[] {
  return watchedWorkloads(watched)
    .filter((w) => {
      const object = live.get(refName(w));
      return w.ready && object !== undefined && !readinessOf(w.kind, object).ready;
    })
    .map(refName);
}

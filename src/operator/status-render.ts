// The status a Runner should have now (SPEC §5), gathered from its actor, its assessment and its
// Jobs, for the status writer. The rendering itself is pure (src/runner/status.ts).
import type { RunnerStatus } from '../api/runner.ts';
import type { Clock } from '../time/clock.ts';
import { stableStateDeadline } from '../runner/runner-time.ts';
import { renderStatus } from '../runner/status.ts';
import type { RunnerActors } from './actors.ts';
import type { CachedRunner } from './cached-objects.ts';
import type { JobHistory } from './job-history.ts';

export interface StatusInputs {
  runner: CachedRunner | undefined;
  actors: RunnerActors;
  jobHistory: JobHistory;
  clock: Clock;
}

export function statusFor(key: string, { runner, actors, jobHistory, clock }: StatusInputs): { uid: string; desired: RunnerStatus; currentDigest: string; resourceVersion?: string } | null {
  const rt = actors.runtime(key);
  const view = rt ? actors.view(rt.uid) : null;
  if (!runner || !rt || !view) return null;
  const now = clock.now();
  const deadline = stableStateDeadline(runner, view.context.progressingSince);
  const runJobName = view.context.run ? jobHistory.jobOfRun(rt.uid, view.context.run.key)?.metadata?.name : undefined;
  return {
    uid: rt.uid,
    currentDigest: runner.statusDigest,
    ...(runner.metadata.resourceVersion ? { resourceVersion: runner.metadata.resourceVersion } : {}),
    desired: renderStatus({
      runner,
      state: view.state,
      context: view.context,
      snapshot: view.persisted,
      assessment: rt.assessment,
      now: now.toISOString(),
      nextScheduleTime: rt.tickTimer.armedFor,
      stableStateTimedOut: deadline !== null && deadline <= now && view.state === 'WaitingForWorkloads',
      // A failed write says so first; else an actor stopped by a failure, until it runs again.
      reconcileError: rt.reconcileError ?? actors.failureOf(rt.uid),
      ...(runJobName ? { runJobName } : {}),
    }),
  };
}

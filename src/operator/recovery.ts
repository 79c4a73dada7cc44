// A Runner restored in Running at start-up: its Job may have finished meanwhile, or be missing.
// Missing soon after the run began means the operator stopped before creating it: create it
// (same name, so never twice). Missing later means it is gone — removed by ttlSecondsAfterFinished
// or by hand while the operator was down — and its result is unknown: the run ends Failed rather
// than run twice.
import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RunnerEvent } from '../../machines/runner.ts';
import type { RunnerSnapshotView } from './actor-system.ts';
import type { Runner } from '../api/runner.ts';
import type { Clock } from '../time/clock.ts';
import { jobNameForRun } from '../runner/job.ts';
import { withDefaults } from '../runner/spec/spec.ts';
import type { RunToCreate } from './runner-effects.ts';
import { runnerKey } from './selections.ts';

/** A run this young whose Job is missing was not created yet, even with ttlSecondsAfterFinished 0. */
const RECREATE_GRACE_MS = 60_000;

export interface RecoveryDeps {
  log: Logger;
  clock: Clock;
  view(uid: string): RunnerSnapshotView | null;
  jobOfRun(uid: string, runKey: string): V1Job | undefined;
  /** Tells the actor what the Job says, as a watch event would. */
  jobChanged(job: V1Job): void;
  ensureJob(uid: string, run: RunToCreate): void;
  send(uid: string, event: RunnerEvent): void;
}

export function recoverRun(runner: Runner, deps: RecoveryDeps): void {
  const uid = runner.metadata.uid!;
  const run = deps.view(uid)?.context.run;
  if (!run || run.result !== null) return;
  const job = deps.jobOfRun(uid, run.key);
  if (job) return deps.jobChanged(job);
  const now = deps.clock.now();
  const ageMs = now.getTime() - new Date(run.startedAt).getTime();
  const ttlMs = withDefaults(runner.spec).ttlSecondsAfterFinished * 1000;
  if (ageMs < Math.max(ttlMs, RECREATE_GRACE_MS)) {
    deps.log.info({ runner: runnerKey(runner), run: run.key }, 'restored a running Runner whose Job was never created; creating it');
    deps.ensureJob(uid, run);
  } else {
    const message = `Job ${jobNameForRun(runner, run.key)} is gone (deleted, or removed after ttlSecondsAfterFinished while the operator was down): its result is unknown`;
    deps.send(uid, { type: 'JOB.FINISHED', at: now.toISOString(), key: run.key, succeeded: false, message });
  }
}

// The Jobs of each Runner (SPEC §4): which Job is which run, a finished Job told to its Runner's
// actor as JOB.FINISHED, and finished Jobs beyond the history limits deleted, oldest first.
import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RunnerEvent } from '../../machines/runner.ts';
import type { Runner } from '../api/runner.ts';
import { ANNOTATION_RUN_KEY, controllingRunnerUid, isFailing, jobFinishTime, jobOutcome, type JobOutcome } from '../runner/job.ts';
import { objectKey } from '../k8s/object-key.ts';
import { Relation } from '../runner/selection/selection.ts';
import { withDefaults } from '../runner/spec/spec.ts';

export interface JobHistoryDeps {
  log: Logger;
  job(key: string): V1Job | undefined;
  runnerByUid(uid: string): Runner | undefined;
  send(uid: string, event: RunnerEvent): void;
  /** Tells the Runner's actor that the Job of run `key` finished (src/operator/run-end.ts). */
  jobEnded(uid: string, key: string, job: V1Job, outcome: Exclude<JobOutcome, { phase: 'Running' }>, ended: () => void): void;
  /** The Job of run `key` is about to fail (FailureTarget): its pods are read now, before they are stopped. */
  jobFailing(uid: string, key: string, job: V1Job): void;
  /** Deletes a finished Job beyond its Runner's history limits (src/operator/job-pruner.ts). */
  deleteJob(job: V1Job): void;
  /** Whether this replica acts on the Runner with this uid: the Jobs of others are indexed, never acted on. */
  owns(uid: string): boolean;
  now(): string;
}

export class JobHistory {
  private readonly deps: JobHistoryDeps;
  /** Runner uid → keys of its Jobs. */
  private readonly jobKeysOf = new Relation();

  constructor(deps: JobHistoryDeps) {
    this.deps = deps;
  }

  index(job: V1Job): void {
    const uid = controllingRunnerUid(job);
    if (uid) this.jobKeysOf.link(uid, objectKey(job));
  }

  /** Every cached Job of this Runner. */
  jobsOf(uid: string): V1Job[] {
    return [...this.jobKeysOf.targetsOf(uid)].map((k) => this.deps.job(k)).filter((j): j is V1Job => j !== undefined);
  }

  /** The Job of this run if the cache has one (found by its run-key annotation, whatever its name). */
  jobOfRun(uid: string, runKey: string): V1Job | undefined {
    return this.jobsOf(uid).find((job) => job.metadata?.annotations?.[ANNOTATION_RUN_KEY] === runKey);
  }

  changed(job: V1Job): void {
    this.index(job);
    const uid = controllingRunnerUid(job);
    if (!uid || !this.deps.owns(uid)) return;
    const outcome = jobOutcome(job);
    const key = job.metadata?.annotations?.[ANNOTATION_RUN_KEY];
    if (outcome.phase === 'Running') {
      if (key && isFailing(job)) this.deps.jobFailing(uid, key, job);
      return;
    }
    // Pruned once its run's end has been told: the pods and log of the newest Job may still be being read.
    if (key) this.deps.jobEnded(uid, key, job, outcome, () => this.prune(uid));
    else this.prune(uid);
  }

  deleted(job: V1Job): void {
    const uid = controllingRunnerUid(job);
    if (!uid) return;
    this.jobKeysOf.unlink(uid, objectKey(job));
    if (!this.deps.owns(uid)) return;
    const key = job.metadata?.annotations?.[ANNOTATION_RUN_KEY];
    // Only the active run is affected; the machine ignores a key that is not its active run.
    if (key && jobOutcome(job).phase === 'Running') {
      this.deps.send(uid, { type: 'JOB.FINISHED', at: this.deps.now(), key, succeeded: false, message: `Job ${job.metadata?.name} was deleted before it finished` });
    }
  }

  /** Deletes finished Jobs beyond the Runner's history limits (SPEC §4), newest kept. */
  private prune(uid: string): void {
    const runner = this.deps.runnerByUid(uid);
    // Given to another replica while its run's end was being read: the history is that replica's to keep.
    if (!runner || !this.deps.owns(uid)) return;
    const settings = withDefaults(runner.spec);
    const finished = this.jobsOf(uid)
      .filter((j) => !j.metadata?.deletionTimestamp)
      .map((j) => ({ job: j, outcome: jobOutcome(j), time: finishTime(j) }))
      .filter((j) => j.outcome.phase !== 'Running')
      .sort((a, b) => b.time - a.time);
    const keep = { Succeeded: settings.successfulRunsHistoryLimit, Failed: settings.failedRunsHistoryLimit };
    const seen = { Succeeded: 0, Failed: 0 };
    for (const { job, outcome } of finished) {
      const phase = outcome.phase as 'Succeeded' | 'Failed';
      seen[phase] += 1;
      if (seen[phase] > keep[phase]) this.deps.deleteJob(job);
    }
  }
}

function finishTime(job: V1Job): number {
  const t = jobFinishTime(job) ?? job.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

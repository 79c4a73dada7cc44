// What a Runner's own Jobs say has run (SPEC §4: each Job carries its run key and revision), for a
// Runner whose status lost its snapshot: another client emptied it, or a restore from a backup
// left it out. Its actor then starts from this history instead of from nothing, so that the
// current revision, which has run already, does not run a second time.
import type { V1Job } from '@kubernetes/client-node';
import { parseRunKey, type ParsedRunKey, type RunHistory, type RunRecord } from '../../machines/runner.ts';
import { LABEL_REVISION } from '../api/runner.ts';
import { ANNOTATION_RUN_KEY, jobFinishTime, jobOutcome } from './job.ts';
import { jobFindings } from './run-outcome.ts';

/** The history the Jobs of one Runner show, or undefined when none of them is a run of it. */
export function historyFromJobs(jobs: Iterable<V1Job>): RunHistory | undefined {
  const runs = [...jobs]
    .map((job) => ({ job, key: job.metadata?.annotations?.[ANNOTATION_RUN_KEY] ?? '' }))
    .map(({ job, key }) => ({ job, key, parsed: parseRunKey(key) }))
    .filter((r): r is { job: V1Job; key: string; parsed: ParsedRunKey } => r.parsed !== null)
    .sort((a, b) => b.parsed.n - a.parsed.n);
  const newest = runs[0];
  if (!newest) return undefined;
  const lastManual = runs.find((r) => r.parsed.reason === 'Manual');
  return {
    runs: newest.parsed.n,
    lastRevision: newest.parsed.revision ?? newest.job.metadata?.labels?.[LABEL_REVISION] ?? null,
    lastTrigger: lastManual?.parsed.trigger ?? null,
    run: runOfJob(newest.job, newest.key, newest.parsed),
  };
}

/**
 * The run a Job records: finished, or still running (result null: its end comes as the Job's own watch events, and
 * the actor resumes in that run, src/operator/actor-system.ts — else the end of a run whose status was never
 * written would never be recorded, and a downstream Runner would wait for it for good).
 */
function runOfJob(job: V1Job, key: string, parsed: ParsedRunKey): RunRecord {
  const outcome = jobOutcome(job);
  const startedAt = toIso(job.metadata?.creationTimestamp);
  const finished = outcome.phase !== 'Running';
  return {
    key,
    reason: parsed.reason,
    revision: parsed.revision ?? job.metadata?.labels?.[LABEL_REVISION] ?? '',
    // The parts of the revision are not on the Job, so the trigger this run is told with is its reason alone.
    parts: [],
    previousParts: null,
    tick: parsed.tick,
    startedAt: startedAt ?? '',
    finishedAt: finished ? (toIso(jobFinishTime(job)) ?? startedAt ?? '') : null,
    result: finished ? outcome.phase : null,
    message: finished ? outcome.message : null,
    // What the Job alone says of how its run went (attempts, flaky); an Error's cause is not on it, so such a run
    // comes back Failed (docs/behaviour.md).
    ...(finished ? { findings: jobFindings(job, outcome.phase === 'Succeeded') } : {}),
  };
}

const toIso = (t: Date | string | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());

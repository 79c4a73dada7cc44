// Counting runs after a fault test: pure functions of the Jobs that exist and of what the test
// expected, so that "0 duplicates, 0 missed" means the same thing in every test.
//
// An event-triggered run is identified by its revision (the Job label runner.stakater.com/revision):
// every trigger the tests make — a rollout to a new template, a new trigger value, a new upstream
// run — is a new revision. Two Jobs of one Runner with the same revision are a duplicate; so is any
// run beyond the expected number. A scheduled run is identified by its tick (the end of the Job's
// run-key annotation, "<n>:schedule:<tick>").
import type { V1Job } from '@kubernetes/client-node';
import { parseRunKey } from '../../../machines/runner.ts';
import { LABEL_REVISION, LABEL_RUNNER_NAME } from '../../../src/api/runner.ts';
import { ANNOTATION_RUN_KEY } from '../../../src/runner/job.ts';

export const runnerOfJob = (job: V1Job): string => job.metadata?.labels?.[LABEL_RUNNER_NAME] ?? '';

export interface RunnerCount {
  runner: string;
  expected: number;
  jobs: number;
  duplicates: number;
  missed: number;
  /** Scheduled Runners: the ticks that should have run and have no Job. */
  missedTicks?: string[];
  /** Scheduled Runners: ticks without a Job that the operator had no chance to run. */
  skippedTicks?: string[];
}

export interface Totals {
  runners: number;
  expected: number;
  jobs: number;
  duplicates: number;
  missed: number;
}

/** Per Runner: how many runs it was expected to have, how many Jobs it got, and the difference either way. */
export function countEventRuns(jobs: readonly V1Job[], expected: ReadonlyMap<string, number>): RunnerCount[] {
  return [...expected].map(([runner, want]) => {
    const own = jobs.filter((j) => runnerOfJob(j) === runner);
    const revisions = new Set(own.map((j) => j.metadata?.labels?.[LABEL_REVISION] ?? ''));
    const sameRevisionTwice = own.length - revisions.size;
    return {
      runner,
      expected: want,
      jobs: own.length,
      duplicates: sameRevisionTwice + Math.max(0, revisions.size - want),
      missed: Math.max(0, want - revisions.size),
    };
  });
}

export const tickOf = (job: V1Job): string | null => parseRunKey(job.metadata?.annotations?.[ANNOTATION_RUN_KEY] ?? '')?.tick ?? null;

/**
 * Per scheduled Runner (a `* * * * *` schedule): every minute from `firstTick` (the first tick after the
 * Runners were created; without it, the first run's tick) to `upTo` must have exactly one Job — except a
 * tick `mustRun` excuses (the operator had no chance at it), which may have none; those are listed as
 * `skippedTicks`. Ticks after `upTo` are not counted: a window that ends before the first tick expects none.
 */
export function countScheduledRuns(
  jobs: readonly V1Job[],
  runners: readonly string[],
  upTo: Date,
  mustRun: (tickMs: number) => boolean = () => true,
  firstTick?: number,
): RunnerCount[] {
  return runners.map((runner) => {
    const ticks = jobs
      .filter((j) => runnerOfJob(j) === runner)
      .map(tickOf)
      .filter((t): t is string => t !== null && Date.parse(t) <= upTo.getTime())
      .map((t) => Date.parse(t));
    const distinct = new Set(ticks);
    const first = Math.min(firstTick ?? Number.POSITIVE_INFINITY, ...distinct);
    // Without a first tick to count from, a Runner that never ran has missed its first run.
    const unknownStart = first === Number.POSITIVE_INFINITY;
    const all = unknownStart || first > upTo.getTime() ? [] : Array.from({ length: Math.floor((upTo.getTime() - first) / 60_000) + 1 }, (_, i) => first + i * 60_000);
    const missing = all.filter((t) => !distinct.has(t));
    const iso = (t: number) => new Date(t).toISOString();
    const missedTicks = missing.filter(mustRun).map(iso);
    const skippedTicks = missing.filter((t) => !mustRun(t)).map(iso);
    return {
      runner,
      expected: unknownStart ? 1 : all.length - skippedTicks.length,
      jobs: ticks.length,
      duplicates: ticks.length - distinct.size,
      missed: unknownStart ? 1 : missedTicks.length,
      ...(missedTicks.length > 0 ? { missedTicks } : {}),
      ...(skippedTicks.length > 0 ? { skippedTicks } : {}),
    };
  });
}

export function totals(counts: readonly RunnerCount[]): Totals {
  return counts.reduce(
    (t, c) => ({ runners: t.runners + 1, expected: t.expected + c.expected, jobs: t.jobs + c.jobs, duplicates: t.duplicates + c.duplicates, missed: t.missed + c.missed }),
    { runners: 0, expected: 0, jobs: 0, duplicates: 0, missed: 0 },
  );
}

/** The Runners whose counts are off, for the failure message. */
export const offCounts = (counts: readonly RunnerCount[]): RunnerCount[] => counts.filter((c) => c.duplicates > 0 || c.missed > 0);

// `hestia runs`: a Runner's run history as a person reads it, merged from the three places a run
// leaves a trace — status.lastRun (the latest run, in full), the Jobs still kept (history limits
// and ttlSecondsAfterFinished remove older ones) and the Runner's Events (RunSucceeded, RunFlaky, RunFailed,
// RunError, each naming the run's trigger and start; RunStarted from operators before that; the API server keeps Events
// for an hour by default). Pure; the CLI fetches the inputs.
import type { CoreV1Event, V1Job } from '@kubernetes/client-node';
import type { Runner } from '../api/runner.ts';
import { parseRunKey } from '../../machines/runner.ts';
import { ANNOTATION_RUN_KEY, jobFinishTime, jobOutcome } from '../runner/job.ts';
import { jobFindings } from '../runner/run-outcome.ts';
import { testsWords } from '../runner/run-words.ts';

export type RunResult = 'Running' | 'Succeeded' | 'Failed' | 'Error' | 'Unknown';

export interface RunEntry {
  /** The run's number (the first part of its run key), when its Job is kept. */
  run: number | null;
  job: string;
  /** Whether the Job still exists (it is the place to read logs from). */
  jobKept: boolean;
  startTime: string | null;
  completionTime: string | null;
  durationSeconds: number | null;
  trigger: string;
  result: RunResult;
  /** With result Error: how the infrastructure ended it (ImagePullFailed, PodEvicted, ...). */
  errorReason: string | null;
  /** Succeeded after a failed attempt. */
  flaky: boolean;
  /** The test counts in words ("12 tests: 2 failed (3.1 s)"), when the run read a report. */
  tests: string | null;
  message: string;
}

const STARTED = /^Started Job (\S+): (.*)$/s;
/** A finished run's Event; since one Event tells a whole run, it names its trigger and start (src/runner/run-words.ts). */
const FINISHED = /^Job (\S+) (succeeded|failed|ended in an error \(([^)]*)\))(?: \((.*?); started (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)\))?(?:: (.*))?$/s;
const FINISHED_REASONS = ['RunSucceeded', 'RunFlaky', 'RunFailed', 'RunError'];
/** The parts of a finished run's Event message that are findings, not the Job's own words (src/runner/run-words.ts). */
const TESTS_PART = /^(\d+ tests?( passed|:)|no test counts:)/;
const FLAKY_PART = /^passed after \d+ failed attempts? \(flaky\)$/;
const ADVISORY_PART = 'advisory: does not block';

/** UTC to the second, as kubectl prints times. */
const iso = (t: Date | string | undefined | null): string | null => {
  const time = t ? new Date(t) : null;
  return time && !Number.isNaN(time.getTime()) ? time.toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
};
const eventTime = (e: CoreV1Event) => iso(e.eventTime ?? e.lastTimestamp ?? e.firstTimestamp ?? e.metadata?.creationTimestamp);

/** What the run key annotation says about why a Job ran, when no Event or status tells more. */
function triggerFromRunKey(key: string | undefined): string {
  const reason = key === undefined ? undefined : parseRunKey(key)?.reason;
  return reason === 'Manual' ? 'manual trigger' : reason === 'Schedule' ? 'schedule' : reason === 'Revision' ? 'new revision' : '';
}

export function runHistory(runner: Runner, jobs: readonly V1Job[], events: readonly CoreV1Event[]): RunEntry[] {
  const byJob = new Map<string, RunEntry>();
  const entry = (job: string): RunEntry => {
    let e = byJob.get(job);
    if (!e) {
      e = { run: null, job, jobKept: false, startTime: null, completionTime: null, durationSeconds: null, trigger: '', result: 'Unknown', errorReason: null, flaky: false, tests: null, message: '' };
      byJob.set(job, e);
    }
    return e;
  };

  const chronological = [...events].sort((a, b) => String(eventTime(a)).localeCompare(String(eventTime(b))));
  for (const event of chronological) {
    const text = event.message ?? '';
    const started = event.reason === 'RunStarted' ? STARTED.exec(text) : null;
    if (started) {
      const e = entry(started[1]!);
      e.startTime ??= eventTime(event);
      e.trigger ||= started[2]!;
      if (e.result === 'Unknown') e.result = 'Running';
      continue;
    }
    const finished = FINISHED_REASONS.includes(event.reason ?? '') ? FINISHED.exec(text) : null;
    if (finished) {
      const e = entry(finished[1]!);
      e.result = finished[2] === 'succeeded' ? 'Succeeded' : finished[3] !== undefined ? 'Error' : 'Failed';
      e.errorReason = finished[3] ?? null;
      e.flaky = event.reason === 'RunFlaky';
      e.completionTime = eventTime(event);
      if (finished[4] !== undefined) e.trigger ||= finished[4];
      if (finished[5] !== undefined) e.startTime ??= iso(finished[5]);
      const parts = (finished[6] ?? '').split('; ');
      e.tests = parts.find((p) => TESTS_PART.test(p)) ?? null;
      e.message = parts.filter((p) => !TESTS_PART.test(p) && !FLAKY_PART.test(p) && p !== ADVISORY_PART).join('; ');
    }
  }

  for (const job of jobs) {
    const e = entry(job.metadata!.name!);
    e.jobKept = true;
    e.run = parseRunKey(job.metadata?.annotations?.[ANNOTATION_RUN_KEY] ?? '')?.n ?? null;
    e.startTime = iso(job.status?.startTime ?? job.metadata?.creationTimestamp) ?? e.startTime;
    const outcome = jobOutcome(job);
    if (outcome.phase !== 'Running') {
      // The Job cannot tell an infrastructure error from a failure: an Event or the status that did is kept.
      if (e.result !== 'Error') e.result = outcome.phase;
      e.flaky ||= jobFindings(job, outcome.phase === 'Succeeded').flaky === true;
      e.completionTime = iso(jobFinishTime(job)) ?? e.completionTime;
      e.message ||= outcome.message;
    } else if (e.result === 'Unknown') e.result = 'Running';
    e.trigger ||= triggerFromRunKey(job.metadata?.annotations?.[ANNOTATION_RUN_KEY]);
  }

  const last = runner.status?.lastRun;
  if (last) {
    const e = entry(last.jobName);
    Object.assign(e, {
      startTime: iso(last.startTime),
      completionTime: iso(last.completionTime),
      trigger: last.trigger,
      result: last.result,
      errorReason: last.errorReason ?? null,
      flaky: last.flaky === true,
      tests: last.tests ? testsWords(last.tests) : e.tests,
      message: last.message ?? e.message,
    });
  }

  for (const e of byJob.values()) {
    if (e.startTime && e.completionTime) e.durationSeconds = Math.max(0, Math.round((Date.parse(e.completionTime) - Date.parse(e.startTime)) / 1000));
  }
  return [...byJob.values()].sort((a, b) => String(b.startTime ?? '').localeCompare(String(a.startTime ?? '')));
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const MESSAGE_WIDTH = 100;

/** "Succeeded (flaky)", "Error (ImagePullFailed)", "Failed (advisory)". */
function resultWords(e: RunEntry, advisory: boolean): string {
  const marks = [...(e.flaky ? ['flaky'] : []), ...(e.errorReason ? [e.errorReason] : []), ...(advisory && (e.result === 'Failed' || e.result === 'Error') ? ['advisory'] : [])];
  return marks.length > 0 ? `${e.result} (${marks.join(', ')})` : e.result;
}

/** The table `hestia runs` prints, newest run first. */
export function formatRunHistory(runner: Runner, entries: readonly RunEntry[]): string {
  if (entries.length === 0) return `No runs of Runner ${runner.metadata.namespace}/${runner.metadata.name} are recorded (no kept Job, Event or status.lastRun).\n`;
  const rows = [
    ['RUN', 'START', 'DURATION', 'RESULT', 'TESTS', 'TRIGGER', 'JOB', 'MESSAGE'],
    ...entries.map((e) => [
      e.run === null ? '-' : String(e.run),
      e.startTime ?? '-',
      formatDuration(e.durationSeconds),
      resultWords(e, runner.spec?.advisory === true),
      e.tests ?? '-',
      e.trigger || '-',
      e.jobKept ? e.job : `${e.job} (deleted)`,
      e.message.length > MESSAGE_WIDTH ? `${e.message.slice(0, MESSAGE_WIDTH - 1)}…` : e.message || '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

// `hestia runs`: a Runner's run history as a person reads it, merged from the three places a run
// leaves a trace — status.lastRun (the latest run, in full), the Jobs still kept (history limits
// and ttlSecondsAfterFinished remove older ones) and the Runner's Events (RunStarted, RunSucceeded,
// RunFailed; the API server keeps Events for an hour by default). Pure; the CLI fetches the inputs.
import type { CoreV1Event, V1Job } from '@kubernetes/client-node';
import type { Runner } from '../api/runner.ts';
import { parseRunKey } from '../../machines/runner.ts';
import { ANNOTATION_RUN_KEY, jobFinishTime, jobOutcome } from '../runner/job.ts';

export type RunResult = 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface RunEntry {
  job: string;
  /** Whether the Job still exists (it is the place to read logs from). */
  jobKept: boolean;
  startTime: string | null;
  completionTime: string | null;
  durationSeconds: number | null;
  trigger: string;
  result: RunResult;
  message: string;
}

const STARTED = /^Started Job (\S+): (.*)$/s;
const FINISHED = /^Job (\S+) (succeeded|failed)(?:: (.*))?$/s;

/** UTC to the second, as kubectl prints times. */
const iso = (t: Date | string | undefined | null): string | null => (t ? new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z') : null);
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
      e = { job, jobKept: false, startTime: null, completionTime: null, durationSeconds: null, trigger: '', result: 'Unknown', message: '' };
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
    const finished = event.reason === 'RunSucceeded' || event.reason === 'RunFailed' ? FINISHED.exec(text) : null;
    if (finished) {
      const e = entry(finished[1]!);
      e.result = finished[2] === 'succeeded' ? 'Succeeded' : 'Failed';
      e.completionTime = eventTime(event);
      e.message = finished[3] ?? '';
    }
  }

  for (const job of jobs) {
    const e = entry(job.metadata!.name!);
    e.jobKept = true;
    e.startTime = iso(job.status?.startTime ?? job.metadata?.creationTimestamp) ?? e.startTime;
    const outcome = jobOutcome(job);
    if (outcome.phase !== 'Running') {
      e.result = outcome.phase;
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

/** The table `hestia runs` prints, newest run first. */
export function formatRunHistory(runner: Runner, entries: readonly RunEntry[]): string {
  if (entries.length === 0) return `No runs of Runner ${runner.metadata.namespace}/${runner.metadata.name} are recorded (no kept Job, Event or status.lastRun).\n`;
  const rows = [
    ['START', 'DURATION', 'RESULT', 'TRIGGER', 'JOB', 'MESSAGE'],
    ...entries.map((e) => [
      e.startTime ?? '-',
      formatDuration(e.durationSeconds),
      e.result,
      e.trigger || '-',
      e.jobKept ? e.job : `${e.job} (deleted)`,
      e.message.length > MESSAGE_WIDTH ? `${e.message.slice(0, MESSAGE_WIDTH - 1)}…` : e.message || '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

// What a Runner's status says has happened, as notices a Notification may send: its latest run started, its latest
// run ended (succeeded, failed, recovered, flaky, error), it stalled. Read from the status the API server holds — what
// a person and `kubectl` read — so a restart or a new leader finds the same notices, with the same ids, that the
// operator before it found. Pure.
import type { LastRunStatus, Runner } from '../api/runner.ts';
import { runFinishedEvent } from '../runner/run-words.ts';
import { shortHash } from '../runner/job-name.ts';
import type { Happening } from './api.ts';

/** The stall reasons that are news of their own (a failed run's stall is told as the run's end). */
export const STALL_NEWS: readonly string[] = ['InvalidSpec', 'DependencyCycle', 'StableStateTimeout'];

/** Something that happened to a Runner, before a Notification picks which of its happenings to tell. */
export interface Occurrence {
  /** Stable: the same occurrence read from the same status twice has the same key. */
  key: string;
  kind: 'started' | 'ended' | 'stalled';
  /** When it happened (the run's start or end; the Stalled condition's transition). */
  time: string;
  /** The happenings it may be told as, most specific first (a recovered flaky success: RunRecovered, RunFlaky, RunSucceeded). */
  happenings: readonly Happening[];
}

/** One happening of one Runner, ready to be sent. */
export interface Notice {
  /** Stable per run (or stall) and happening, so a receiver can de-duplicate: `<runner uid>/<job>/<happening>`. */
  id: string;
  happening: Happening;
  time: string;
  runner: { namespace: string; name: string; uid: string };
  /** The run (for Run* happenings): status.lastRun as it was. */
  run?: LastRunStatus;
  stall?: { reason: string; message: string };
  /** spec.advisory: a failure that blocks nothing. */
  advisory: boolean;
  /** One line in words: "qa/smoke: Job smoke-1a2b3 failed: exit code 1; 12 tests: 2 failed". */
  summary: string;
}

/** The happenings a run's end may be told as, most specific first. */
export function endHappenings(run: LastRunStatus): Happening[] {
  if (run.result === 'Succeeded') return [...(run.recovered ? ['RunRecovered' as const] : []), ...(run.flaky ? ['RunFlaky' as const] : []), 'RunSucceeded'];
  if (run.result === 'Error') return ['RunError', 'RunFailed'];
  return ['RunFailed'];
}

/** What a Runner's status says has happened, oldest first: its latest run's start and end, and a stall that is news. */
export function occurrencesOf(runner: Runner): Occurrence[] {
  const run = runner.status?.lastRun;
  const found: Occurrence[] = [];
  if (run) {
    found.push({ key: `${run.jobName}/started`, kind: 'started', time: run.startTime, happenings: ['RunStarted'] });
    if (run.result !== 'Running') found.push({ key: `${run.jobName}/ended`, kind: 'ended', time: run.completionTime ?? run.startTime, happenings: endHappenings(run) });
  }
  const stalled = runner.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
  if (stalled?.reason && STALL_NEWS.includes(stalled.reason)) {
    const t: unknown = stalled.lastTransitionTime;
    const since = t instanceof Date ? t.toISOString() : String(t ?? '');
    found.push({ key: `stalled/${stalled.reason}/${since}`, kind: 'stalled', time: since, happenings: ['Stalled'] });
  }
  return found;
}

/** The happening a Notification that subscribes to `events` tells this occurrence as, or null if none of them. */
export const happeningFor = (occurrence: Occurrence, events: ReadonlySet<Happening>): Happening | null =>
  occurrence.happenings.find((h) => events.has(h)) ?? null;

/** The notice of an occurrence told as `happening`. */
export function noticeOf(runner: Runner, occurrence: Occurrence, happening: Happening): Notice {
  const { namespace = '', name = '', uid = '' } = runner.metadata;
  const run = runner.status?.lastRun;
  const advisory = runner.spec?.advisory === true;
  const base = { id: `${uid}/${occurrence.key.replace(/\/(started|ended)$/, '')}/${happening}`, happening, time: occurrence.time, runner: { namespace, name, uid }, advisory };
  if (occurrence.kind === 'stalled') {
    const stalled = runner.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    const stall = { reason: stalled?.reason ?? 'Stalled', message: stalled?.message ?? '' };
    return { ...base, id: `${uid}/${occurrence.key}`, stall, summary: `${namespace}/${name} stalled (${stall.reason}): ${stall.message}` };
  }
  if (!run) return { ...base, summary: `${namespace}/${name}: ${happening}` };
  // A start read together with its end (an operator catching up) is told as the start was: still running.
  if (occurrence.kind === 'started') {
    const { jobName, revision, trigger, reason, startTime } = run;
    return { ...base, run: { jobName, revision, trigger, reason, startTime, result: 'Running' }, summary: `${namespace}/${name}: started Job ${run.jobName}: ${run.trigger}` };
  }
  return { ...base, run, summary: `${namespace}/${name}: ${endWords(run, happening, advisory)}` };
}

const endWords = (run: LastRunStatus, happening: Happening, advisory: boolean): string => {
  const said = runFinishedEvent(run, advisory).message;
  return happening === 'RunRecovered' ? `recovered: ${said}` : said;
};

/** The short digest of a notice's id a Notification's status keeps (`status.delivered`). */
export const deliveredDigest = (id: string): string => shortHash(id, 10);

// What every payload says of a notice, in one JSON shape: the data of a CloudEvent and of a Webhook, and the words
// Slack and Teams messages are built from. Free text from the cluster (a Job's message, a test's name or message, a
// stall's message) is bounded here, so that a hostile or merely verbose report never makes a delivery large.
import type { FailedTestStatus, LastRunStatus, TestResultsStatus } from '../../api/runner.ts';
import type { Happening } from '../api.ts';
import type { Notice } from '../happenings.ts';

/** The most characters of one free-text field (a message, the summary, a failing test's message) a payload carries. */
export const TEXT_LIMIT = 2_000;
/** The most characters of a name-like field (a test's name or classname, a trigger, a reason). */
export const NAME_LIMIT = 500;
/** The most failing tests a payload lists (a Runner's status keeps fewer today; this bounds what a later one may). */
export const LISTED_FAILED_TESTS = 20;

/**
 * The CloudEvents `type` of each happening (also the Webhook body's `type`). A receiver that speaks CDEvents can map
 * them onto `testsuiterun` events:
 *
 * | happening    | type                              | CDEvents counterpart                                   |
 * | ------------ | --------------------------------- | ------------------------------------------------------ |
 * | RunStarted   | com.stakater.e2e.run.started      | dev.cdevents.testsuiterun.started                      |
 * | RunSucceeded | com.stakater.e2e.run.succeeded    | dev.cdevents.testsuiterun.finished, outcome pass       |
 * | RunRecovered | com.stakater.e2e.run.recovered    | dev.cdevents.testsuiterun.finished, outcome pass       |
 * | RunFlaky     | com.stakater.e2e.run.flaky        | dev.cdevents.testsuiterun.finished, outcome pass       |
 * | RunFailed    | com.stakater.e2e.run.failed       | dev.cdevents.testsuiterun.finished, outcome fail       |
 * | RunError     | com.stakater.e2e.run.error        | dev.cdevents.testsuiterun.finished, outcome error      |
 * | Stalled      | com.stakater.e2e.runner.stalled   | none (not a run)                                       |
 */
export const CLOUDEVENTS_TYPES: Readonly<Record<Happening, string>> = {
  RunStarted: 'com.stakater.e2e.run.started',
  RunSucceeded: 'com.stakater.e2e.run.succeeded',
  RunFailed: 'com.stakater.e2e.run.failed',
  RunRecovered: 'com.stakater.e2e.run.recovered',
  RunFlaky: 'com.stakater.e2e.run.flaky',
  RunError: 'com.stakater.e2e.run.error',
  Stalled: 'com.stakater.e2e.runner.stalled',
};

/** A happening in words, after the Runner's name: "qa/smoke run failed". */
export const HAPPENING_WORDS: Readonly<Record<Happening, string>> = {
  RunStarted: 'run started',
  RunSucceeded: 'run succeeded',
  RunFailed: 'run failed',
  RunRecovered: 'recovered',
  RunFlaky: 'run was flaky',
  RunError: 'run ended in an error',
  Stalled: 'stalled',
};

/** How a run ended, in CDEvents' words. */
export type Outcome = 'pass' | 'fail' | 'error';

/**
 * A run's end, by its result rather than the happening it is told as: an Error run told as RunFailed (to a
 * Notification that subscribes to RunFailed only) is still an error. Undefined for a start or a stall.
 */
export function outcomeOf(notice: Notice): Outcome | undefined {
  if (notice.happening === 'RunStarted' || notice.happening === 'Stalled') return undefined;
  const result = notice.run?.result;
  if (result === 'Error' || notice.happening === 'RunError') return 'error';
  if (result === 'Failed' || notice.happening === 'RunFailed') return 'fail';
  return 'pass';
}

/** The data of a CloudEvent and of a Webhook body. */
export interface NoticeData {
  happening: Happening;
  runner: { namespace: string; name: string; uid: string };
  summary: string;
  advisory: boolean;
  outcome?: Outcome;
  run?: LastRunStatus;
  stall?: { reason: string; message: string };
}

/**
 * A notice's time as an ISO 8601 instant ("2026-03-01T10:00:00.000Z"), whatever form it was read in (a condition's
 * lastTransitionTime may arrive as a Date and be stringified); undefined when it says no time at all.
 */
export function isoTime(time: string): string | undefined {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** At most `limit` characters: a longer text is cut (never inside a surrogate pair) and ends in "…". */
export function capped(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const cut = text.slice(0, limit - 1);
  const last = cut.charCodeAt(cut.length - 1);
  return `${last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut}…`;
}

const cappedOptional = (text: string | undefined, limit: number) => (text === undefined ? undefined : capped(text, limit));

const cappedTest = (t: FailedTestStatus): FailedTestStatus => ({
  ...t,
  name: capped(t.name, NAME_LIMIT),
  ...(t.classname !== undefined ? { classname: capped(t.classname, NAME_LIMIT) } : {}),
  message: capped(t.message, TEXT_LIMIT),
});

const cappedTests = (tests: TestResultsStatus): TestResultsStatus => ({
  ...tests,
  ...(tests.failed ? { failed: tests.failed.slice(0, LISTED_FAILED_TESTS).map(cappedTest) } : {}),
  ...(tests.problem !== undefined ? { problem: capped(tests.problem, TEXT_LIMIT) } : {}),
});

/** status.lastRun with its free text bounded; only the fields the API documents, so nothing else leaks out. */
function cappedRun(run: LastRunStatus): LastRunStatus {
  return {
    jobName: run.jobName,
    revision: run.revision,
    trigger: capped(run.trigger, NAME_LIMIT),
    reason: run.reason,
    startTime: run.startTime,
    completionTime: run.completionTime,
    result: run.result,
    message: cappedOptional(run.message, TEXT_LIMIT),
    flaky: run.flaky,
    attempts: run.attempts,
    errorReason: run.errorReason,
    recovered: run.recovered,
    tests: run.tests ? cappedTests(run.tests) : undefined,
  };
}

/** What a notice says, as JSON data (fields that are undefined are left out when serialised). */
export function noticeData(notice: Notice): NoticeData {
  return {
    happening: notice.happening,
    runner: { ...notice.runner },
    summary: capped(notice.summary, TEXT_LIMIT),
    advisory: notice.advisory,
    outcome: outcomeOf(notice),
    ...(notice.run ? { run: cappedRun(notice.run) } : {}),
    ...(notice.stall ? { stall: { reason: capped(notice.stall.reason, NAME_LIMIT), message: capped(notice.stall.message, TEXT_LIMIT) } } : {}),
  };
}

/** The summary without the Runner's name it starts with (a message names the Runner in its own heading). */
export function summaryWords(notice: Notice): string {
  if (notice.stall) return `${notice.stall.reason}: ${notice.stall.message}`;
  const prefix = `${notice.runner.namespace}/${notice.runner.name}: `;
  return notice.summary.startsWith(prefix) ? notice.summary.slice(prefix.length) : notice.summary;
}

/** "qa/smoke run failed". */
export const headline = (notice: Notice): string => `${notice.runner.namespace}/${notice.runner.name} ${HAPPENING_WORDS[notice.happening]}`;

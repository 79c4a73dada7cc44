// A finished run's findings in words — test counts, failing tests, flaky, the infrastructure's error — said the same
// way by the Events, `hestia wait`, `hestia runs` and `hestia describe`.
import type { LastRunStatus, TestResultsStatus } from '../api/runner.ts';
import { EVENT_MESSAGE_LIMIT, type EventType } from '../k8s/events.ts';
import { runEndHow } from './kstatus-conditions.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "12 tests: 2 failed, 1 error, 1 skipped (3.2 s)", "12 tests passed, 1 skipped (0.4 s)", or why none were read. */
export function testsWords(tests: TestResultsStatus): string {
  if (tests.problem) return `no test counts: ${tests.problem}`;
  const total = tests.tests ?? 0;
  const time = tests.timeSeconds !== undefined ? ` (${Number(tests.timeSeconds.toFixed(3))} s)` : '';
  const parts = [
    ...(tests.failures ? [`${tests.failures} failed`] : []),
    ...(tests.errors ? [plural(tests.errors, 'error')] : []),
    ...(tests.skipped ? [`${tests.skipped} skipped`] : []),
  ];
  if (!tests.failures && !tests.errors) return `${plural(total, 'test')} passed${tests.skipped ? `, ${tests.skipped} skipped` : ''}${time}`;
  return `${plural(total, 'test')}: ${parts.join(', ')}${time}`;
}

/** One line per listed failing test: "failure: test_cart.py::test_checkout — AssertionError: 502 != 200". */
export function failedTestLines(tests: TestResultsStatus): string[] {
  // jest-junit writes the test's name as its classname too: said once.
  return (tests.failed ?? []).map((t) => `${t.kind}: ${t.classname && t.classname !== t.name ? `${t.classname}.` : ''}${t.name}${t.message ? ` — ${t.message}` : ''}`);
}

/** "passed after 1 failed attempt (flaky)", or null for a run that was not flaky. */
export const flakyWords = (run: Pick<LastRunStatus, 'flaky' | 'attempts'>): string | null =>
  run.flaky ? `passed after ${plural((run.attempts ?? 2) - 1, 'failed attempt')} (flaky)` : null;

/** What a finished run adds to its one-line message: flaky, test counts (an Error's reason is in its words already). */
export function findingsWords(run: Pick<LastRunStatus, 'flaky' | 'attempts' | 'errorReason' | 'tests'>): string[] {
  return [flakyWords(run), ...(run.tests ? [testsWords(run.tests)] : [])].filter((w): w is string => w !== null);
}

/** The Event reasons of a finished run, one per outcome, so that `kubectl get events --field-selector reason=RunFlaky` finds them. */
export const RUN_EVENT_REASONS = { Succeeded: 'RunSucceeded', Flaky: 'RunFlaky', Failed: 'RunFailed', Error: 'RunError' } as const;

/**
 * The Runner's Event for a finished run: "Job x succeeded: …; 12 tests passed", "Job x failed: …; 12 tests: 2 failed",
 * "Job x ended in an error (ImagePullFailed): …". A flaky success is a Warning: it passed, but deserves a look.
 * With `started`, the one Event a run leaves on its Runner (none is recorded when it starts): it also says what
 * started it and when, "Job x succeeded (rollout of Deployment shop/cart; started 2026-01-01T00:00:00Z): …".
 */
export function runFinishedEvent(run: LastRunStatus, advisory: boolean, options: { started?: boolean } = {}): { type: EventType; reason: string; message: string } {
  const ok = run.result === 'Succeeded';
  const reason = ok ? (run.flaky ? RUN_EVENT_REASONS.Flaky : RUN_EVENT_REASONS.Succeeded) : run.result === 'Error' ? RUN_EVENT_REASONS.Error : RUN_EVENT_REASONS.Failed;
  const head = `Job ${run.jobName} ${runEndHow(run)}${options.started ? ` (${startedWords(run)})` : ''}`;
  const after = [...findingsWords(run), ...(advisory && !ok ? ['advisory: does not block'] : [])].join('; ');
  // An Event keeps EVENT_MESSAGE_LIMIT characters: the Job's words give way, so the findings are never cut off.
  const room = EVENT_MESSAGE_LIMIT - head.length - after.length - 4;
  const words = run.message && run.message.length > room ? `${run.message.slice(0, Math.max(0, room - 1))}…` : run.message;
  const said = [words, after].filter(Boolean).join('; ');
  return { type: ok && !run.flaky ? 'Normal' : 'Warning', reason, message: `${head}${said ? `: ${said}` : ''}` };
}

/** "rollout of Deployment shop/cart; started 2026-01-01T00:00:00Z": a trigger longer than a tenth of an Event is cut. */
function startedWords(run: LastRunStatus): string {
  const most = EVENT_MESSAGE_LIMIT / 10;
  const trigger = run.trigger.length > most ? `${run.trigger.slice(0, most - 1)}…` : run.trigger;
  return `${trigger}; started ${run.startTime}`;
}

// What a probe answer means (SPEC §2.3), in words for the Runner's status: the expected status codes, the
// message for each kind of answer, and how long to wait before asking again. Pure; the requests themselves are
// made by src/operator/prober.ts.
import { SPEC_DEFAULTS, type ProbeSpec } from '../../api/runner.ts';
import { backoffDelay } from '../../time/backoff.ts';

export interface ProbeAnswer {
  ok: boolean;
  /** "answered 200", "answered 503, not 200–399", "no answer within 5s", ... */
  message: string;
}

export const NOT_PROBED = 'not probed yet';

/** Without expectStatus, any 2xx or 3xx (redirects are not followed: a 302 is an answer). */
export function expectedStatus(probe: ProbeSpec, code: number): boolean {
  const codes = probe.http.expectStatus;
  return codes && codes.length > 0 ? codes.includes(code) : code >= 200 && code <= 399;
}

/** "200–399", "200", "200 or 204", "200, 204 or 304". */
export function describeExpected(probe: ProbeSpec): string {
  const codes = probe.http.expectStatus;
  if (!codes || codes.length === 0) return '200–399';
  return codes.length === 1 ? String(codes[0]) : `${codes.slice(0, -1).join(', ')} or ${codes.at(-1)}`;
}

export function answerOf(probe: ProbeSpec, code: number): ProbeAnswer {
  return expectedStatus(probe, code)
    ? { ok: true, message: `answered ${code}` }
    : { ok: false, message: `answered ${code}, not ${describeExpected(probe)}` };
}

export const timeoutSecondsOf = (probe: ProbeSpec): number => probe.timeoutSeconds ?? SPEC_DEFAULTS.probeTimeoutSeconds;
export const periodSecondsOf = (probe: ProbeSpec): number => probe.periodSeconds ?? SPEC_DEFAULTS.probePeriodSeconds;

/** The longest wait between two rounds while a probe keeps failing (unless its own period is longer). */
export const MAX_BACKOFF_SECONDS = 300;

/**
 * How long to wait before the next round of probes, after `failures` rounds in a row in which one did not answer
 * as expected: the shortest period among the probes that failed, doubled after each failed round, up to
 * MAX_BACKOFF_SECONDS (or that period, if it is longer). Without jitter: the period is the Runner's own
 * (`periodSeconds`: a probe is never asked sooner than that), and the wait runs on the Runner's clock, which
 * tests move forward by exactly this much; Runners fall out of step by themselves, as each starts failing
 * at its own moment.
 */
export function nextRoundDelaySeconds(failing: readonly ProbeSpec[], failures: number): number {
  const period = Math.min(...failing.map(periodSecondsOf), Number.MAX_SAFE_INTEGER);
  const base = Number.isFinite(period) && period < Number.MAX_SAFE_INTEGER ? period : SPEC_DEFAULTS.probePeriodSeconds;
  return backoffDelay({ baseMs: base * 1000, maxMs: Math.max(MAX_BACKOFF_SECONDS, base) * 1000, jitter: 0 }, failures - 1) / 1000;
}

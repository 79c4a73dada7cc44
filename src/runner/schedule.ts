// Cron arithmetic for scheduled Runners (SPEC §2.1, §3.4), as pure functions of (schedule, zone,
// time): the next tick, the latest tick in a window, and what to do about ticks missed while the
// operator was down. Like the CronJob controller, the caller passes `now`; nothing reads a clock.
import type { CronExpression } from 'cron-parser';
import { whenNeeded } from './when-needed.ts';

/** cron-parser (and the Luxon it brings), loaded when a Runner first has a schedule. */
export const cronParser = whenNeeded<typeof import('cron-parser')>('cron-parser');

/** The macros SPEC §2.1 promises, plus `@annually`/`@midnight`, which Kubernetes CronJobs accept too. */
const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A schedule or time zone that cannot be evaluated; `field` names the Runner field at fault. */
export class ScheduleError extends Error {
  readonly field: 'spec.schedule' | 'spec.timeZone';
  constructor(field: 'spec.schedule' | 'spec.timeZone', message: string) {
    super(message);
    this.name = 'ScheduleError';
    this.field = field;
  }
}

/**
 * Five cron fields (minute hour day-of-month month day-of-week) or a macro. cron-parser alone would
 * also take a seconds field (a Job every second), an empty string (every minute) and Jenkins' `H`
 * (a random minute per process, so not deterministic across restarts); SPEC §2.1 allows none.
 */
function standardExpression(schedule: string): string {
  const trimmed = schedule.trim();
  if (trimmed.startsWith('@')) {
    const expanded = MACROS[trimmed.toLowerCase()];
    if (expanded === undefined) {
      throw new ScheduleError('spec.schedule', `unknown macro "${trimmed}"; use one of ${Object.keys(MACROS).join(', ')}`);
    }
    return expanded;
  }
  const fields = trimmed.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) {
    throw new ScheduleError('spec.schedule', `"${schedule}" has ${fields.length} fields; a schedule has 5 (minute hour day-of-month month day-of-week)`);
  }
  if (fields.some((f) => /(^|,)H([(/,]|$)/i.test(f))) {
    throw new ScheduleError('spec.schedule', `"${schedule}" uses H, which is not supported`);
  }
  return fields.join(' ');
}

/** Zones already found valid: asking Intl costs far more than the cron arithmetic itself. */
const knownZones = new Set<string>(['UTC']);

/** The IANA zone to evaluate in; undefined or "" mean UTC (SPEC §2.2). */
function zoneOf(timeZone: string | undefined): string {
  const zone = timeZone === undefined || timeZone === '' ? 'UTC' : timeZone;
  if (knownZones.has(zone)) return zone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new ScheduleError('spec.timeZone', `"${zone}" is not a known IANA time zone`);
  }
  if (knownZones.size < 1000) knownZones.add(zone);
  return zone;
}

/** An iterator positioned at `at`; `next()` is the first tick strictly after it, `prev()` strictly before. */
function cronAt(schedule: string, timeZone: string | undefined, at: Date): CronExpression {
  const expression = standardExpression(schedule);
  const tz = zoneOf(timeZone);
  try {
    return cronParser().CronExpressionParser.parse(expression, { currentDate: at, tz });
  } catch (err) {
    throw new ScheduleError('spec.schedule', `"${schedule}": ${(err as Error).message}`);
  }
}

function step(cron: CronExpression, direction: 'next' | 'prev', schedule: string): Date {
  try {
    return (direction === 'next' ? cron.next() : cron.prev()).toDate();
  } catch (err) {
    // e.g. "0 0 31 4 *" parses but never fires; cron-parser gives up after its loop limit.
    throw new ScheduleError('spec.schedule', `"${schedule}" never fires: ${(err as Error).message}`);
  }
}

/**
 * What is wrong with a schedule/time zone pair, as `{ field, message }`, or null when it can be
 * evaluated (it parses and has a tick after `at`).
 */
export function scheduleProblem(
  schedule: string,
  timeZone: string | undefined,
  at: Date,
): { field: ScheduleError['field']; message: string } | null {
  try {
    nextTick(schedule, timeZone, at);
    return null;
  } catch (err) {
    if (err instanceof ScheduleError) return { field: err.field, message: err.message };
    throw err;
  }
}

/** The first tick strictly after `after`. Throws ScheduleError for a bad schedule or zone. */
export function nextTick(schedule: string, timeZone: string | undefined, after: Date): Date {
  // At a tick every Runner of a schedule asks for the next one, a few milliseconds apart: computed once per minute.
  // Ticks fall on whole minutes (every zone's offset is), so the first after `after` is the first after its minute.
  const key = `${schedule}\u0000${timeZone ?? ''}\u0000${Math.floor(after.getTime() / 60_000)}`;
  const known = nextTicks.get(key);
  if (known !== undefined) return new Date(known);
  const tick = step(cronAt(schedule, timeZone, after), 'next', schedule);
  if (nextTicks.size >= NEXT_TICKS_KEPT) nextTicks.clear();
  nextTicks.set(key, tick.getTime());
  return tick;
}

const NEXT_TICKS_KEPT = 1000;
const nextTicks = new Map<string, number>();

/** How far forward `latestTickIn` may walk to correct `prev()`; only DST gaps ever need a step. */
const MAX_FORWARD_STEPS = 1000;

/**
 * The latest tick in (afterExclusive, upToInclusive], or null when there is none. Recorded as the
 * last tick handled, it leaves no tick of the window to handle again: `nextTick` of it is past
 * `upToInclusive`.
 *
 * Costs a few cron steps however long the window is (a `* * * * *` Runner after a year of downtime
 * is not half a million iterations): it jumps to the end with `prev()`, then walks forward with
 * `next()` while that stays in the window. The walk is needed because cron-parser's `prev()` misses
 * a tick that `next()` moves out of a DST gap (02:30 on a spring-forward day runs at 03:30 going
 * forward, but is missing going backward). In the repeated hour of a fall-back the two disagree the
 * other way: `prev()` finds the second occurrence of a local time that `next()` steps over; it is
 * still that local time's tick, and still at most one.
 */
export function latestTickIn(
  schedule: string,
  timeZone: string | undefined,
  afterExclusive: Date,
  upToInclusive: Date,
): Date | null {
  const first = nextTick(schedule, timeZone, afterExclusive);
  if (first > upToInclusive) return null;

  // Ticks fall on whole minutes, so 1 ms past the end makes prev() include a tick at the end itself.
  const jumped = step(cronAt(schedule, timeZone, new Date(upToInclusive.getTime() + 1)), 'prev', schedule);
  let latest = jumped > first ? jumped : first;
  const forward = cronAt(schedule, timeZone, latest);
  for (let i = 0; i < MAX_FORWARD_STEPS; i++) {
    const candidate = step(forward, 'next', schedule);
    if (candidate > upToInclusive) break;
    latest = candidate;
  }
  return latest;
}

export interface MissedTickArgs {
  schedule: string;
  timeZone: string | undefined;
  /** The latest tick already handled (run or skipped), or null when none was. */
  lastTick: Date | null;
  /** The Runner's creation: ticks before it were never due. */
  creationTime: Date;
  now: Date;
  startingDeadlineSeconds?: number | undefined;
}

export type MissedTickDecision = { run: Date } | { skip: Date } | null;

/**
 * What to do at start-up about ticks that passed unhandled (SPEC §3.4, CronJob semantics): find the
 * latest tick after max(lastTick, creationTime) and at or before `now`. If `startingDeadlineSeconds`
 * is set and that tick is at most that late, run it, once however many were missed; otherwise
 * skip it (the caller reports the skip and records it as handled). Null when no tick was missed.
 *
 * Without `startingDeadlineSeconds` a missed tick is skipped, as the original operator never ran
 * late; the live tick timer, not this function, runs ticks on time.
 */
export function missedTickDecision(args: MissedTickArgs): MissedTickDecision {
  const { schedule, timeZone, lastTick, creationTime, now, startingDeadlineSeconds } = args;
  const since = lastTick !== null && lastTick > creationTime ? lastTick : creationTime;
  if (since >= now) return null;
  const tick = latestTickIn(schedule, timeZone, since, now);
  if (tick === null) return null;
  const lateMs = now.getTime() - tick.getTime();
  if (startingDeadlineSeconds !== undefined && lateMs <= startingDeadlineSeconds * 1000) return { run: tick };
  return { skip: tick };
}

// When a Runner's next timed event is due: pure functions of the Runner, its actor's context and
// now, plus a TimerSlot that keeps one pending timer armed for a given time.
import type { Runner } from '../api/runner.ts';
import type { Clock } from '../time/clock.ts';
import { nextTick } from './schedule.ts';
import { withDefaults } from './spec/spec.ts';

/**
 * The next tick to fire: the first after the latest tick handled, the Runner's creation and now.
 * A tick already past is never fired here: ticks missed while the operator was down are decided
 * once at start-up (missedTickDecision), and a timer that fires late still sends its own tick.
 */
export function nextTickFor(runner: Runner, lastTick: string | null, now: Date): Date | null {
  const schedule = runner.spec?.schedule;
  if (!schedule) return null;
  const created = new Date(runner.metadata.creationTimestamp ?? 0);
  const handled = lastTick ? new Date(lastTick) : created;
  const after = new Date(Math.max(handled.getTime(), created.getTime(), now.getTime()));
  try {
    return nextTick(schedule, runner.spec.timeZone, after);
  } catch {
    return null; // an invalid schedule is reported as InvalidSpec, not timed
  }
}

/** When workloads that stopped being ready at `progressingSince` make the Runner Stalled; null if never. */
export function stableStateDeadline(runner: Runner, progressingSince: string | null): Date | null {
  if (!progressingSince) return null;
  const timeoutMs = withDefaults(runner.spec).stableStateTimeoutMs;
  return timeoutMs ? new Date(new Date(progressingSince).getTime() + timeoutMs) : null;
}

/** One timer, re-armed only when the time it should fire at changes. */
export class TimerSlot {
  private cancel: (() => void) | null = null;
  /** The time the armed timer fires at (ISO), or null. */
  armedFor: string | null = null;

  set(clock: Clock, at: Date | null, fire: (at: string) => void): void {
    const iso = at?.toISOString() ?? null;
    if (iso === this.armedFor) return;
    // A timer already due is about to fire (its callback is queued): replacing it would lose it.
    if (this.armedFor !== null && Date.parse(this.armedFor) <= clock.now().getTime()) return;
    this.clear();
    if (!at || !iso) return;
    this.armedFor = iso;
    this.cancel = clock.at(at, () => {
      this.cancel = null;
      this.armedFor = null;
      fire(iso);
    });
  }

  clear(): void {
    this.cancel?.();
    this.cancel = null;
    this.armedFor = null;
  }
}

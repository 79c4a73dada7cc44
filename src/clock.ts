// Time, injectable: the operator reads the time and sets timers only through a Clock, so tests
// of schedules on a real control plane move time forward instead of waiting for it.

export interface Clock {
  now(): Date;
  /** Calls `fn` once at (or soon after) `at`; returns a cancel function. */
  at(when: Date, fn: () => void): () => void;
}

// setTimeout cannot wait longer than ~24.8 days; longer waits re-arm in steps.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => new Date(),
  at(when, fn) {
    let timer: NodeJS.Timeout;
    const arm = () => {
      const wait = when.getTime() - Date.now();
      timer = setTimeout(wait > MAX_TIMEOUT_MS ? arm : fn, Math.max(0, Math.min(wait, MAX_TIMEOUT_MS)));
    };
    arm();
    return () => clearTimeout(timer);
  },
};

/**
 * A clock that runs at real speed from a chosen offset and can jump forward: timers due by the
 * new time fire in order. Used by integration tests (and available to `make dev` for demos).
 */
export class AdjustableClock implements Clock {
  private offsetMs: number;
  private readonly timers = new Set<{ when: number; fn: () => void; real: NodeJS.Timeout }>();

  constructor(start: Date = new Date()) {
    this.offsetMs = start.getTime() - Date.now();
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  at(when: Date, fn: () => void): () => void {
    const timer = { when: when.getTime(), fn, real: undefined as unknown as NodeJS.Timeout };
    const fire = () => {
      if (!this.timers.delete(timer)) return;
      fn();
    };
    timer.real = setTimeout(fire, Math.max(0, Math.min(timer.when - this.now().getTime(), MAX_TIMEOUT_MS)));
    this.timers.add(timer);
    return () => {
      clearTimeout(timer.real);
      this.timers.delete(timer);
    };
  }

  /** Moves time to `when` (never backwards); timers now due fire, earliest first. */
  set(when: Date): void {
    this.offsetMs = Math.max(this.offsetMs, when.getTime() - Date.now());
    const due = [...this.timers].filter((t) => t.when <= this.now().getTime()).sort((a, b) => a.when - b.when);
    for (const t of due) {
      clearTimeout(t.real);
      this.timers.delete(t);
      t.fn();
    }
    for (const t of this.timers) {
      clearTimeout(t.real);
      t.real = setTimeout(() => this.timers.delete(t) && t.fn(), Math.max(0, t.when - this.now().getTime()));
    }
  }

  advance(ms: number): void {
    this.set(new Date(this.now().getTime() + ms));
  }
}

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

/**
 * A clock that runs `rate` times faster than real time from `origin` on (where it agrees with the
 * real clock). It is a pure function of the real time, so every process given the same origin
 * and rate reads the same simulated time — an operator killed and restarted by a test carries on
 * where the previous one was, and a schedule of one tick a minute ticks every 60/rate seconds.
 */
export class ScaledClock implements Clock {
  readonly origin: number;
  readonly rate: number;

  constructor(origin: Date, rate: number) {
    this.origin = origin.getTime();
    this.rate = rate;
  }

  now(): Date {
    return new Date(this.origin + (Date.now() - this.origin) * this.rate);
  }

  at(when: Date, fn: () => void): () => void {
    let timer: NodeJS.Timeout;
    const arm = () => {
      const wait = (when.getTime() - this.now().getTime()) / this.rate;
      // A real timer may fire a little early for the scaled time: re-arm until it is due.
      timer = setTimeout(() => (this.now() >= when ? fn() : arm()), Math.max(0, Math.min(Math.ceil(wait), MAX_TIMEOUT_MS)));
    };
    arm();
    return () => clearTimeout(timer);
  }
}

/** A test setting of the clock that cannot work; `variable` names the environment variable at fault. */
export class ClockSettingsError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ClockSettingsError';
    this.variable = variable;
  }
}

/**
 * The operator process's clock: the system clock, unless HESTIA_TEST_CLOCK_RATE is set — for tests
 * only, so that a separate operator process runs schedules faster: the clock then runs that many
 * times faster than real time from HESTIA_TEST_CLOCK_ORIGIN (an ISO time; required with the rate).
 */
export function clockFromEnvironment(env: NodeJS.ProcessEnv): Clock {
  const rateText = env.HESTIA_TEST_CLOCK_RATE;
  if (rateText === undefined || rateText === '') return systemClock;
  const rate = Number(rateText);
  if (!Number.isFinite(rate) || rate < 1) {
    throw new ClockSettingsError('HESTIA_TEST_CLOCK_RATE', `"${rateText}" is not a number of at least 1`);
  }
  const originText = env.HESTIA_TEST_CLOCK_ORIGIN ?? '';
  const origin = new Date(originText);
  if (originText === '' || Number.isNaN(origin.getTime())) {
    throw new ClockSettingsError('HESTIA_TEST_CLOCK_ORIGIN', `"${originText}" is not an ISO time (required with HESTIA_TEST_CLOCK_RATE)`);
  }
  return new ScaledClock(origin, rate);
}

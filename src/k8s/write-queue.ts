// Every write the operator sends goes through one queue with a bounded number in flight (32 by
// default, HESTIA_WRITE_CONCURRENCY), so that
// 5,000 Runners created at once (or an operator restart under them) never open 5,000 requests.
// Lanes are served in priority order: a Job create jumps ahead of a backlog of status writes, so
// the time from "ready" to "Job" does not grow while the backlog drains. A 429 (API Priority and
// Fairness) pauses the whole queue for the server's Retry-After, then the write is tried again, and
// halves the writes allowed in flight; they grow back by one as writes succeed (as TCP does), so
// that a priority level of a few seats is not sent a burst it refuses after every pause.
import type { Logger } from 'pino';
import { ApiError } from './client.ts';
import { errorText } from './informer.ts';

/** Highest priority first. */
export const LANES = ['job', 'status', 'event'] as const;
export type Lane = (typeof LANES)[number];

interface Task {
  lane: Lane;
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Enough for the Jobs of a thousand Runners on one cron tick to be created about as fast as one
 * process can create them at all on the test control plane (BENCHMARKS.md, cron storm, against the
 * floor's 64 at once); few enough to be gentle with an API server.
 */
export const DEFAULT_WRITE_CONCURRENCY = 32;

export interface WriteQueueOptions {
  /** Writes in flight at most (default DEFAULT_WRITE_CONCURRENCY). */
  concurrency?: number;
  /** Pause after a 429 without Retry-After (default 1 s). */
  defaultRetryAfterMs?: number;
}

export class WriteQueue {
  private readonly waiting = new Map<Lane, Task[]>(LANES.map((lane) => [lane, []]));
  private readonly concurrency: number;
  private readonly defaultRetryAfterMs: number;
  private readonly log: Logger;
  private inFlight = 0;
  /** Writes allowed in flight now: at most `concurrency`, halved by a 429, one more after as many successes. */
  private limit: number;
  private successes = 0;
  private pausedUntil = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  /** Most writes ever in flight at once, and 429s honoured: for metrics and tests. */
  maxInFlight = 0;
  throttled = 0;

  constructor(log: Logger, options: WriteQueueOptions = {}) {
    this.log = log;
    this.concurrency = options.concurrency ?? DEFAULT_WRITE_CONCURRENCY;
    this.limit = this.concurrency;
    this.defaultRetryAfterMs = options.defaultRetryAfterMs ?? 1000;
  }

  /** Runs `write` when a slot is free and its lane's turn comes; settles as `write` finally does. */
  run<T>(lane: Lane, write: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.get(lane)!.push({ lane, run: write, resolve: resolve as (v: unknown) => void, reject });
      this.dispatch();
    });
  }

  /** Writes waiting for a slot, by lane. */
  get backlog(): Record<Lane, number> {
    return Object.fromEntries(LANES.map((lane) => [lane, this.waiting.get(lane)!.length])) as Record<Lane, number>;
  }

  stop(): void {
    clearTimeout(this.resumeTimer);
    for (const tasks of this.waiting.values()) tasks.splice(0);
  }

  private next(): Task | undefined {
    for (const lane of LANES) {
      const task = this.waiting.get(lane)!.shift();
      if (task) return task;
    }
    return undefined;
  }

  private dispatch(): void {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      this.resumeTimer ??= setTimeout(() => {
        this.resumeTimer = undefined;
        this.dispatch();
      }, wait);
      return;
    }
    while (this.inFlight < this.limit) {
      const task = this.next();
      if (!task) return;
      this.start(task);
    }
  }

  private start(task: Task): void {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    task
      .run()
      .then((value) => {
        this.succeeded();
        task.resolve(value);
      }, (err: unknown) => {
        if (err instanceof ApiError && err.code === 429) return this.throttle(task, err);
        task.reject(err);
      })
      .finally(() => {
        this.inFlight -= 1;
        this.dispatch();
      });
  }

  /** Writes allowed in flight now (for metrics and tests). */
  get allowedInFlight(): number {
    return this.limit;
  }

  private succeeded(): void {
    if (this.limit >= this.concurrency) return;
    this.successes += 1;
    if (this.successes >= this.limit) {
      this.limit += 1;
      this.successes = 0;
    }
  }

  /** The server asked us to slow down: everyone waits, and this write goes first again. */
  private throttle(task: Task, err: ApiError): void {
    this.throttled += 1;
    // The refusals of one burst arrive together: halve once for them, not once for each.
    if (this.pausedUntil <= Date.now()) {
      this.limit = Math.max(1, Math.floor(this.limit / 2));
      this.successes = 0;
    }
    const pauseMs = err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : this.defaultRetryAfterMs;
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + Math.max(pauseMs, 100));
    this.log.warn({ err: errorText(err), pauseMs }, 'API server asked to slow down (429); pausing writes');
    this.waiting.get(task.lane)!.unshift(task);
  }
}

// The notifier's own queue, apart from the operator's writes: runs, Job creates and status writes never wait on it.
// One line per Destination, so a dead or slow receiver holds up only its own notices: at most CONCURRENCY deliveries
// in flight each, one at a time per Runner (a run's start is told before its end), at most BOUND waiting (the oldest
// is dropped for a newer one). A failed delivery pauses its line with backoff and jitter (or for the receiver's
// Retry-After) and is tried again at the head, until it is older than the delivery horizon; a refusal (a 4xx, a
// forbidden address) is not tried again. Clock and timers are injected, so tests drive it exactly.
import { backoffDelay, type BackoffPolicy } from '../time/backoff.ts';
import type { Answer } from './sender.ts';

export const CONCURRENCY = 2;
export const BOUND = 1_000;
export const RETRY_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 5 * 60_000 };

export interface Delivery {
  /** Unique in its line: the notice's id and the Notification that sends it. */
  key: string;
  destination: string;
  /** One delivery per Runner at a time. */
  runner: string;
  /** When it happened (ms): past the horizon it is dropped. */
  happenedAt: number;
  attempts: number;
}

export type DropReason = 'queue-full' | 'expired' | 'refused' | 'cancelled' | 'stopped';
/** A delivery its sender declined to attempt. */
export type Withheld = 'cancelled' | 'handed-over';

export interface QueueHooks<D extends Delivery> {
  /**
   * 'cancelled': no longer to be sent (its Notification was deleted or suspended); 'handed-over': its Runner moved to
   * another replica, which sends it (dropped as at a stop). Either is dropped without a failure.
   */
  send(delivery: D): Promise<Answer | Withheld>;
  delivered(delivery: D): void;
  /** A failed attempt; `streak`: failures in a row on this destination that will be tried again (a refusal is not one). */
  failed(delivery: D, reason: string, streak: number, retrying: boolean): void;
  dropped(delivery: D, reason: DropReason, detail: string): void;
}

export interface QueueOptions {
  now: () => number;
  horizonMs: number;
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
  random?: () => number;
  concurrency?: number;
  bound?: number;
}

interface Line<D extends Delivery> {
  waiting: D[];
  /** The keys of `waiting`, for a check in constant time however long the line. */
  keys: Set<string>;
  inFlight: Set<string>;
  runnersInFlight: Set<string>;
  pausedUntil: number;
  streak: number;
  timer: { cancel(): void } | null;
}

const defaultTimer = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

export class DeliveryQueue<D extends Delivery> {
  private readonly lines = new Map<string, Line<D>>();
  private readonly hooks: QueueHooks<D>;
  private readonly options: Required<QueueOptions>;
  private stopped = false;
  private settledWaiters: (() => void)[] = [];

  constructor(hooks: QueueHooks<D>, options: QueueOptions) {
    this.hooks = hooks;
    this.options = { setTimer: defaultTimer, random: Math.random, concurrency: CONCURRENCY, bound: BOUND, ...options };
  }

  private line(destination: string): Line<D> {
    let line = this.lines.get(destination);
    if (!line) {
      line = { waiting: [], keys: new Set(), inFlight: new Set(), runnersInFlight: new Set(), pausedUntil: 0, streak: 0, timer: null };
      this.lines.set(destination, line);
    }
    return line;
  }

  /** Queues a delivery; one already queued or in flight under the same key is not queued twice. */
  enqueue(delivery: D): void {
    if (this.stopped) return this.hooks.dropped(delivery, 'stopped', 'the operator is stopping');
    const line = this.line(delivery.destination);
    if (line.keys.has(delivery.key)) return;
    if (line.waiting.length >= this.options.bound) {
      const oldest = line.waiting.findIndex((d) => !line.inFlight.has(d.key));
      if (oldest >= 0) {
        const gone = line.waiting[oldest]!;
        this.remove(line, gone);
        this.hooks.dropped(gone, 'queue-full', `more than ${this.options.bound} notices waiting for this destination`);
      }
    }
    line.waiting.push(delivery);
    line.keys.add(delivery.key);
    this.pump(delivery.destination);
  }

  /** Drops what waits for a destination (deleted, suspended); deliveries in flight finish. */
  forget(destination: string, reason: DropReason, detail: string): void {
    const line = this.lines.get(destination);
    if (!line) return;
    for (const d of line.waiting.filter((w) => !line.inFlight.has(w.key))) {
      this.remove(line, d);
      this.hooks.dropped(d, reason, detail);
    }
    line.timer?.cancel();
    line.timer = null;
    if (line.waiting.length === 0) this.lines.delete(destination);
  }

  /** Ends a destination's pause (it can deliver again: its Secret has been read): what waits is tried now. */
  resume(destination: string): void {
    const line = this.lines.get(destination);
    if (!line) return;
    line.pausedUntil = 0;
    line.timer?.cancel();
    line.timer = null;
    this.pump(destination);
  }

  /** Notices waiting or in flight, per destination. */
  backlog(): Map<string, number> {
    return new Map([...this.lines].map(([d, l]) => [d, l.waiting.length]));
  }

  get size(): number {
    let n = 0;
    for (const line of this.lines.values()) n += line.waiting.length;
    return n;
  }

  /** Stops starting deliveries, leaving what waits to the next operator; resolves once those in flight have settled, or after `ms`. */
  async stop(ms: number): Promise<void> {
    this.stopped = true;
    for (const line of this.lines.values()) {
      line.timer?.cancel();
      for (const d of line.waiting.filter((w) => !line.inFlight.has(w.key))) {
        this.remove(line, d);
        this.hooks.dropped(d, 'stopped', 'the operator is stopping');
      }
    }
    const inFlight = () => [...this.lines.values()].some((l) => l.inFlight.size > 0);
    if (!inFlight()) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.settledWaiters.push(() => {
        if (!inFlight()) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  private pump(destination: string): void {
    const line = this.lines.get(destination);
    if (!line || this.stopped) return;
    const now = this.options.now();
    if (now < line.pausedUntil) return this.wakeAt(destination, line, line.pausedUntil - now);
    if (line.inFlight.size >= this.options.concurrency) return;
    for (const d of [...line.waiting]) {
      if (line.inFlight.size >= this.options.concurrency) break;
      if (line.inFlight.has(d.key) || line.runnersInFlight.has(d.runner)) continue;
      if (now - d.happenedAt > this.options.horizonMs) {
        this.remove(line, d);
        this.hooks.dropped(d, 'expired', `not delivered within ${Math.round(this.options.horizonMs / 60_000)} minutes of happening`);
        continue;
      }
      this.start(destination, line, d);
    }
  }

  private wakeAt(destination: string, line: Line<D>, ms: number): void {
    if (line.timer) return;
    line.timer = this.options.setTimer(() => {
      line.timer = null;
      this.pump(destination);
    }, ms);
  }

  private remove(line: Line<D>, d: D): void {
    const i = line.waiting.indexOf(d);
    if (i >= 0) line.waiting.splice(i, 1);
    line.keys.delete(d.key);
  }

  private start(destination: string, line: Line<D>, d: D): void {
    line.inFlight.add(d.key);
    line.runnersInFlight.add(d.runner);
    d.attempts += 1;
    this.hooks
      .send(d)
      .catch((err: unknown): Answer | Withheld => ({ ok: false, retry: true, reason: err instanceof Error ? err.message : String(err) }))
      .then((answer) => {
        line.inFlight.delete(d.key);
        line.runnersInFlight.delete(d.runner);
        try {
          this.settled(destination, line, d, answer);
        } finally {
          // A hook that throws must not leave its line stopped.
          for (const w of this.settledWaiters) w();
          this.pump(destination);
        }
      })
      .catch(() => {});
  }

  private settled(destination: string, line: Line<D>, d: D, answer: Answer | Withheld): void {
    if (answer === 'cancelled') {
      this.remove(line, d);
      return this.hooks.dropped(d, 'cancelled', 'its Notification no longer asks for it');
    }
    if (answer === 'handed-over') {
      this.remove(line, d);
      return this.hooks.dropped(d, 'stopped', 'its Runner moved to another replica');
    }
    if (answer.ok) {
      line.streak = 0;
      this.remove(line, d);
      return this.hooks.delivered(d);
    }
    if (!answer.retry) {
      this.hooks.failed(d, answer.reason, line.streak, false);
      this.remove(line, d);
      return this.hooks.dropped(d, 'refused', answer.reason);
    }
    line.streak += 1;
    this.hooks.failed(d, answer.reason, line.streak, true);
    // The line waits, and the notice stays at its place: the next attempt is its own, after the pause.
    const pause = answer.retryAfterMs ?? backoffDelay(RETRY_BACKOFF, line.streak - 1, this.options.random);
    line.pausedUntil = Math.max(line.pausedUntil, this.options.now() + Math.min(pause, RETRY_BACKOFF.maxMs));
    line.timer?.cancel();
    line.timer = null;
    this.wakeAt(destination, line, line.pausedUntil - this.options.now());
  }
}

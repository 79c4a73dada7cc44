// The operator's work queue, in the shape controller-runtime and kube-rs have: a watch event only marks the
// Runners it concerns dirty (by key), and one drain per turn of the event loop reconciles each dirty Runner once,
// however many events touched it — a rollout's burst of MODIFIED events costs one assessment per Runner, not one per
// event. Events for the machines (a Job finished, a create was refused, a cron tick) wait in the same queue and are
// delivered in the order they came, before the assessments, so a Runner freed by its run's end is assessed with it.
// A Runner dirty when its cron tick is delivered is reconciled first, so the tick is decided on inputs no older than
// the caches; other events (a Job's end above all) keep their place before the assessments, so a run's result is
// recorded before new inputs may start the next run. No actor is ever sent an event from inside
// another's transition: everything reaches the actors from here.
//
// A drain works in slices of a few milliseconds and yields between them, so that a Job create an earlier Runner's
// transition asked for goes out while later Runners are still being assessed.
import type { RunnerEvent } from '../../machines/runner.ts';

const isTick = (event: RunnerEvent): boolean => event.type === 'TICK' || event.type === 'TICK.MISSED';

/** How long one slice of a drain may run before it lets I/O through. */
const SLICE_MS = 5;

export interface RunnerWorkOptions {
  /** Assesses the Runner with this key from the caches and tells its actor (once per drain at most). */
  reconcile(key: string): void;
  /** Delivers an event to the actor of the Runner with this uid. */
  deliver(uid: string, event: RunnerEvent): void;
  /** The key of the Runner with this uid, if it is known. */
  keyOf(uid: string): string | undefined;
  /** The time in milliseconds (performance.now by default). */
  now?(): number;
  /** Starts a drain later (setImmediate by default). */
  later?(fn: () => void): void;
}

export class RunnerWork {
  private readonly options: RunnerWorkOptions;
  private readonly dirty = new Set<string>();
  private readonly events: { uid: string; event: RunnerEvent }[] = [];
  private scheduled = false;
  private stopped = false;
  /** Reconciles done, and how many marks they answered (for tests and metrics of coalescing). */
  reconciles = 0;
  marks = 0;

  constructor(options: RunnerWorkOptions) {
    this.options = options;
  }

  /** These Runners' inputs may have changed: each is reconciled once in the next drain. */
  markDirty(keys: Iterable<string>): void {
    for (const key of keys) {
      this.marks += 1;
      this.dirty.add(key);
    }
    this.schedule();
  }

  /** An event for a Runner's actor, delivered in the next drain, after those sent before it. */
  send(uid: string, event: RunnerEvent): void {
    this.events.push({ uid, event });
    this.schedule();
  }

  /** A Runner is gone: nothing waits for it any more. */
  forget(key: string): void {
    this.dirty.delete(key);
  }

  /** Work that waits (for tests and metrics). */
  get backlog(): number {
    return this.dirty.size + this.events.length;
  }

  stop(): void {
    this.stopped = true;
    this.dirty.clear();
    this.events.length = 0;
  }

  /** Does now what waits, without slicing (start-up, and tests that drive the operator step by step). */
  drainNow(): void {
    while (this.backlog > 0 && !this.stopped) this.drain(Infinity);
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    (this.options.later ?? setImmediate)(() => {
      this.scheduled = false;
      this.drain(SLICE_MS);
    });
  }

  private drain(sliceMs: number): void {
    const now = this.options.now ?? (() => performance.now());
    const until = now() + sliceMs;
    let next: { uid: string; event: RunnerEvent } | undefined;
    while (!this.stopped && (next = this.events.shift())) {
      const key = isTick(next.event) ? this.options.keyOf(next.uid) : undefined;
      if (key !== undefined && this.dirty.delete(key)) this.reconcileNow(key);
      this.options.deliver(next.uid, next.event);
      if (now() >= until) return this.schedule();
    }
    for (const key of this.dirty) {
      if (this.stopped) return;
      this.dirty.delete(key);
      this.reconcileNow(key);
      // An event sent by that reconcile's effects goes before the next assessment.
      if (this.events.length > 0 || now() >= until) return this.schedule();
    }
  }

  private reconcileNow(key: string): void {
    this.reconciles += 1;
    this.options.reconcile(key);
  }
}

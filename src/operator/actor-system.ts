// The Runner actors: one XState actor per Runner, keyed by the Runner's uid. Restoring one from its
// persisted snapshot (status.snapshot) resumes it in the state it had before a restart; a snapshot
// that does not fit the machine is dropped and that Runner starts fresh (logged by the caller),
// never crashing the operator.
//
// Each actor is a root of its own rather than a child spawned by one parent actor: XState copies a
// parent's map of children on every spawn and stop, so thousands of children made each new Runner
// cost time and memory in proportion to all the others (at 5,000 Runners, gigabytes of garbage
// while they were created). Independent actors cost the same whatever their number.
//
// An action (or guard) that throws stops an XState actor for good: its snapshot turns to status
// 'error' and it ignores every later event. Here such an actor is reported and, after a backoff,
// started again from the snapshot it had before the event that failed; the events sent meanwhile
// wait, and are delivered in order once it runs again, the failed one first.
import { createActor, type Actor, type AnyMachineSnapshot, type AnyStateMachine, type InspectionEvent, type Observer } from 'xstate';
import type { RunnerContext, RunnerEvent, RunnerMachineInput, RunnerStateName } from '../../machines/runner.ts';
import { migrateSnapshot, runnerStateOf, snapshotOfUnfinishedRun } from '../../machines/runner-snapshot.ts';
import { Backoff, type BackoffPolicy } from '../time/backoff.ts';
import { systemClock, type Clock } from '../time/clock.ts';

export interface RunnerSnapshotView {
  state: RunnerStateName;
  context: RunnerContext;
  /** The snapshot as it is persisted; made when read (only a status write needs it). */
  readonly persisted: Record<string, unknown>;
}

/** A persisted Runner snapshot we can resume from (one written by an earlier version of the machine migrated), or null. */
export function restorableSnapshot(value: unknown): Record<string, unknown> | null {
  const s = migrateSnapshot(value);
  if (s === null) return null;
  const c = s.context as Partial<RunnerContext> | undefined;
  if (!c || typeof c !== 'object' || typeof c.inputs !== 'object' || typeof c.now !== 'string' || typeof c.runs !== 'number') return null;
  return s;
}

/**
 * The persisted snapshot of an actor as one that resumes: a failed actor keeps the snapshot it had before the
 * event that failed, marked 'error'; persisted so, no operator could restore it.
 */
export function resumableSnapshot(persisted: Record<string, unknown>): Record<string, unknown> {
  if (persisted.status !== 'error') return persisted;
  const { error: _error, ...rest } = persisted;
  return { ...rest, status: 'active' };
}

/**
 * Events a stopped actor waits with, the latest of each kind that only its latest matters for: a newer INPUTS
 * replaces an older one (inputs are the whole picture, as after a restart of the operator), a newer tick an older one.
 */
export function withMissedEvent(missed: readonly RunnerEvent[], event: RunnerEvent): RunnerEvent[] {
  const supersedes = (older: RunnerEvent) =>
    older.type === event.type && (event.type === 'INPUTS' || event.type === 'TICK' || event.type === 'TICK.MISSED');
  return [...missed.filter((older) => !supersedes(older)), event];
}

/** From one second to five minutes between restarts of an actor that keeps failing. */
export const ACTOR_RESTART_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 300_000 };

type InspectFn = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export interface ActorSystemOptions {
  /** Receives XState inspection events of every actor (see src/process/inspect.ts). */
  inspect?: InspectFn | undefined;
  clock?: Clock;
  /** An actor failed (an action or a guard threw) and stopped; it is started again in `retryInMs`. */
  failed?(uid: string, error: unknown, retryInMs: number): void;
  /** A failed actor runs again, and the events it missed were delivered without failing it. */
  recovered?(uid: string): void;
}

type Origin = { snapshot: Record<string, unknown> } | { input: RunnerMachineInput };

const noRestart = () => {};

interface Entry {
  /** The running actor, while it handles an event (or is inspected); null at rest. */
  actor: Actor<AnyStateMachine> | null;
  /** The actor's latest snapshot: all that is kept of it at rest, and what it is woken from. */
  snapshot: AnyMachineSnapshot | null;
  /** Deliveries under way: the actor rests only when the outermost has returned (an action may send it another). */
  depth: number;
  /** What the actor was started from, until it has started: a failure while it starts is retried from there. */
  origin: Origin | null;
  starting: boolean;
  listeners: Set<() => void>;
  /** While the actor waits to be started again: the events to deliver once it runs, in order. */
  missed: RunnerEvent[] | null;
  failures: Backoff | null;
  cancelRestart: () => void;
}

/**
 * Each Runner's actor runs while it has an event to handle and rests between events as its snapshot alone. A running
 * XState actor carries an actor system, a mailbox, observers and scopes of its own, about 3.5 KiB beside its snapshot;
 * a Runner spends nearly all its life waiting, so at rest only the snapshot (about 1.2 KiB with its entry) is kept, and the actor is
 * made again from it — as after a restart — when the next event comes: about 25 µs more per event
 * (`node bench/actor-cost.ts`; docs/scale.md, "What it keeps in memory"). The machine has no delayed transitions and invokes nothing, so a resting actor
 * misses nothing: time reaches it as events (src/operator/actors.ts). Under inspection actors keep running, so that the
 * inspector follows one session per Runner.
 */
export class ActorSystem {
  private readonly machine: AnyStateMachine;
  private readonly options: ActorSystemOptions;
  private readonly clock: Clock;
  private readonly entries = new Map<string, Entry>();
  private readonly keepRunning: boolean;

  constructor(machine: AnyStateMachine, options: ActorSystemOptions = {}) {
    this.machine = machine;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.keepRunning = options.inspect !== undefined;
  }

  /** Resumes a Runner's actor from its persisted snapshot. */
  restore(uid: string, snapshot: Record<string, unknown>): void {
    this.begin(uid, { snapshot });
  }

  /** Starts a new actor for a Runner seen for the first time (in its unfinished run, when its Jobs show one). */
  spawn(uid: string, input: RunnerMachineInput): void {
    const resumed = snapshotOfUnfinishedRun(input);
    this.begin(uid, resumed ? { snapshot: resumed } : { input });
  }

  private begin(uid: string, origin: Origin, previous?: Entry): Entry {
    if (!previous) this.remove(uid);
    const entry: Entry = {
      actor: null,
      snapshot: null,
      depth: 1,
      origin,
      starting: true,
      listeners: previous?.listeners ?? new Set(),
      missed: null,
      failures: previous?.failures ?? null,
      cancelRestart: noRestart,
    };
    this.entries.set(uid, entry);
    this.run(uid, entry, origin, true);
    entry.starting = false;
    if (!entry.missed) entry.origin = null;
    this.settle(entry);
    return entry;
  }

  /**
   * Makes the entry's actor and starts it, from `from`. `announce`: its first snapshot is a change (a new or restored
   * actor); a woken one starts where it rested, which is none.
   */
  private run(uid: string, entry: Entry, from: Origin | { snapshot: AnyMachineSnapshot }, announce: boolean): Actor<AnyStateMachine> {
    const actor = createActor(this.machine, { id: uid, ...from, ...(this.options.inspect ? { inspect: this.options.inspect } : {}) } as never) as Actor<AnyStateMachine>;
    entry.actor = actor;
    // Subscribed before it starts: an entry action that throws is then a failure of this actor, not an uncaught error.
    // XState tells observers of every event, also one that changed nothing (the same snapshot object): only a new
    // snapshot is a change, so an assessment equal to the last arms no timer and renders no status.
    let seen: unknown = announce ? undefined : actor.getSnapshot();
    actor.subscribe({
      next: (snapshot) => {
        if (snapshot === seen) return;
        seen = snapshot;
        entry.snapshot = snapshot as AnyMachineSnapshot;
        for (const fn of entry.listeners) fn();
      },
      error: (err) => this.failed(uid, entry, err),
    });
    actor.start();
    return actor;
  }

  /** The outermost delivery (or the start) is done: the actor rests, keeping its snapshot. */
  private settle(entry: Entry): void {
    entry.depth -= 1;
    const actor = entry.actor;
    if (entry.depth > 0 || !actor || this.keepRunning) return;
    entry.snapshot = actor.getSnapshot() as AnyMachineSnapshot;
    entry.actor = null;
    actor.stop();
  }

  private failed(uid: string, entry: Entry, error: unknown): void {
    if (this.entries.get(uid) !== entry) return;
    // Failed while starting, its entry actions did not all run: it starts again from where it started. Failed on
    // an event, it resumes from the snapshot it had before that event (XState keeps it, marked 'error').
    if (!entry.starting) entry.origin = { snapshot: resumableSnapshot(entry.actor!.getPersistedSnapshot() as Record<string, unknown>) };
    entry.missed ??= [];
    const retryInMs = (entry.failures ??= new Backoff(ACTOR_RESTART_BACKOFF)).next();
    entry.cancelRestart = this.clock.at(new Date(this.clock.now().getTime() + retryInMs), () => this.restart(uid, entry));
    this.options.failed?.(uid, error, retryInMs);
  }

  private restart(uid: string, failed: Entry): void {
    if (this.entries.get(uid) !== failed) return;
    const missed = failed.missed ?? [];
    const entry = this.begin(uid, failed.origin!, failed);
    for (let i = 0; i < missed.length; i++) {
      if (entry.missed) {
        entry.missed.push(...missed.slice(i));
        return;
      }
      this.deliver(uid, entry, missed[i]!);
    }
    if (entry.missed) return;
    entry.failures?.reset();
    this.options.recovered?.(uid);
  }

  private deliver(uid: string, entry: Entry, event: RunnerEvent): void {
    entry.depth += 1;
    try {
      (entry.actor ?? this.run(uid, entry, { snapshot: entry.snapshot! }, false)).send(event);
    } finally {
      this.settle(entry);
    }
    // It failed on this event: the event is the first to deliver again.
    if (entry.missed?.length === 0) entry.missed.push(event);
  }

  remove(uid: string): void {
    const entry = this.entries.get(uid);
    if (!entry) return;
    entry.cancelRestart();
    this.entries.delete(uid);
    entry.actor?.stop();
  }

  stop(): void {
    for (const uid of [...this.entries.keys()]) this.remove(uid);
  }

  has(uid: string): boolean {
    return this.entries.has(uid);
  }

  /** Whether this Runner's actor is stopped by a failure, waiting to be started again. */
  isFailed(uid: string): boolean {
    return this.entries.get(uid)?.missed != null;
  }

  send(uid: string, event: RunnerEvent): void {
    const entry = this.entries.get(uid);
    if (!entry) return;
    if (entry.missed) entry.missed = withMissedEvent(entry.missed, event);
    else this.deliver(uid, entry, event);
  }

  view(uid: string): RunnerSnapshotView | null {
    const entry = this.entries.get(uid);
    const snapshot = entry?.actor?.getSnapshot() ?? entry?.snapshot;
    if (!snapshot) return null;
    const state = runnerStateOf(snapshot.value);
    if (state === null) return null;
    const machine = this.machine;
    return {
      state,
      context: snapshot.context as RunnerContext,
      get persisted() {
        return resumableSnapshot(machine.getPersistedSnapshot(snapshot) as Record<string, unknown>);
      },
    };
  }

  /** Calls `fn` after every change of this Runner actor's snapshot (across its restarts). */
  subscribe(uid: string, fn: () => void): () => void {
    const entry = this.entries.get(uid);
    if (!entry) return () => {};
    const listeners = entry.listeners;
    const listener = () => fn();
    listeners.add(listener);
    return () => listeners.delete(listener);
  }
}

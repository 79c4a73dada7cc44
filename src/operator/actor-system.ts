// The Runner actors: one XState actor per Runner, keyed by the Runner's uid. Restoring one from its
// persisted snapshot (status.snapshot) resumes it in the state it had before a restart; a snapshot
// that does not fit the machine is dropped and that Runner starts fresh (logged by the caller),
// never crashing the operator.
//
// Each actor is a root of its own rather than a child spawned by one parent actor: XState copies a
// parent's map of children on every spawn and stop, so thousands of children made each new Runner
// cost time and memory in proportion to all the others (at 5,000 Runners, gigabytes of garbage
// while they were created). Independent actors cost the same whatever their number.
import { createActor, type Actor, type AnyStateMachine, type InspectionEvent, type Observer } from 'xstate';
import type { RunnerContext, RunnerEvent, RunnerMachineInput, RunnerStateName } from '../../machines/runner.ts';
import { migrateSnapshot, runnerStateOf } from '../../machines/runner-snapshot.ts';

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

type InspectFn = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export class ActorSystem {
  private readonly machine: AnyStateMachine;
  private readonly inspect: InspectFn | undefined;
  private readonly actors = new Map<string, Actor<AnyStateMachine>>();

  /** `inspect` receives XState inspection events of every actor (see src/process/inspect.ts). */
  constructor(machine: AnyStateMachine, inspect?: InspectFn) {
    this.machine = machine;
    this.inspect = inspect;
  }

  /** Resumes a Runner's actor from its persisted snapshot. */
  restore(uid: string, snapshot: Record<string, unknown>): void {
    this.begin(uid, { snapshot: snapshot as never });
  }

  /** Starts a new actor for a Runner seen for the first time. */
  spawn(uid: string, input: RunnerMachineInput): void {
    this.begin(uid, { input });
  }

  private begin(uid: string, from: { snapshot: never } | { input: RunnerMachineInput }): void {
    this.actors.get(uid)?.stop();
    const actor = createActor(this.machine, { id: uid, ...from, ...(this.inspect ? { inspect: this.inspect } : {}) } as never) as Actor<AnyStateMachine>;
    this.actors.set(uid, actor);
    actor.start();
  }

  remove(uid: string): void {
    this.actors.get(uid)?.stop();
    this.actors.delete(uid);
  }

  stop(): void {
    for (const actor of this.actors.values()) actor.stop();
    this.actors.clear();
  }

  has(uid: string): boolean {
    return this.actors.has(uid);
  }

  send(uid: string, event: RunnerEvent): void {
    this.actors.get(uid)?.send(event);
  }

  view(uid: string): RunnerSnapshotView | null {
    const actor = this.actors.get(uid);
    if (!actor) return null;
    const snapshot = actor.getSnapshot() as { value: unknown; context: RunnerContext };
    const state = runnerStateOf(snapshot.value);
    if (state === null) return null;
    return {
      state,
      context: snapshot.context,
      get persisted() {
        return actor.getPersistedSnapshot() as Record<string, unknown>;
      },
    };
  }

  /** Calls `fn` after every change of this Runner actor's snapshot. */
  subscribe(uid: string, fn: () => void): () => void {
    const actor = this.actors.get(uid);
    if (!actor) return () => {};
    const sub = actor.subscribe({ next: fn, error: () => {} });
    return () => sub.unsubscribe();
  }
}

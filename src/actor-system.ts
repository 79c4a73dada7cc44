// The running actor system: the operator's root actor with one Runner actor per Runner.
// Restoring it from the Runners' persisted snapshots (status.snapshot) resumes every Runner in
// the state it had before a restart; a snapshot that does not fit the machine is dropped and
// that Runner starts fresh (logged), never crashing the operator.
import { createActor, type Actor, type AnyActorRef, type AnyStateMachine, type InspectionEvent, type Observer } from 'xstate';
import { operatorMachine, type OperatorEvent } from '../machines/operator.ts';
import type { RunnerContext, RunnerStateName } from '../machines/runner.ts';
import { migrateSnapshot, runnerStateOf } from '../machines/runner-snapshot.ts';

export interface RunnerSnapshotView {
  state: RunnerStateName;
  context: RunnerContext;
  persisted: Record<string, unknown>;
}

/** A persisted Runner snapshot we can resume from (one written by an earlier version of the machine migrated), or null. */
export function restorableSnapshot(value: unknown): Record<string, unknown> | null {
  const s = migrateSnapshot(value);
  if (s === null) return null;
  const c = s.context as Partial<RunnerContext> | undefined;
  if (!c || typeof c !== 'object' || typeof c.inputs !== 'object' || typeof c.now !== 'string' || typeof c.runs !== 'number') return null;
  return s;
}

export class ActorSystem {
  private readonly root: Actor<typeof operatorMachine>;

  /** `inspect` receives XState inspection events of every actor (see src/inspect.ts). */
  constructor(
    liveRunner: AnyStateMachine,
    restored: ReadonlyMap<string, Record<string, unknown>>,
    inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void),
  ) {
    const logic = operatorMachine.provide({ actors: { runner: liveRunner } });
    const base = createActor(logic).getPersistedSnapshot() as unknown as Record<string, unknown>;
    const children: Record<string, unknown> = {};
    for (const [uid, snapshot] of restored) children[uid] = { snapshot, src: 'runner', syncSnapshot: false };
    this.root = createActor(logic, {
      ...(restored.size > 0 ? { snapshot: { ...base, children } as never } : {}),
      ...(inspect ? { inspect } : {}),
    });
  }

  start(): void {
    this.root.start();
  }

  stop(): void {
    this.root.stop();
  }

  send(event: OperatorEvent): void {
    this.root.send(event);
  }

  has(uid: string): boolean {
    return this.child(uid) !== undefined;
  }

  private child(uid: string): AnyActorRef | undefined {
    return (this.root.getSnapshot().children as Record<string, AnyActorRef | undefined>)[uid];
  }

  view(uid: string): RunnerSnapshotView | null {
    const child = this.child(uid);
    if (!child) return null;
    const snapshot = child.getSnapshot() as { value: unknown; context: RunnerContext };
    const state = runnerStateOf(snapshot.value);
    if (state === null) return null;
    return {
      state,
      context: snapshot.context,
      persisted: child.getPersistedSnapshot() as Record<string, unknown>,
    };
  }

  /** Calls `fn` after every change of this Runner actor's snapshot. */
  subscribe(uid: string, fn: () => void): () => void {
    const child = this.child(uid);
    if (!child) return () => {};
    const sub = child.subscribe({ next: fn, error: () => {} });
    return () => sub.unsubscribe();
  }
}

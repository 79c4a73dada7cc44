// A Runner actor's snapshot as the operator reads and stores it (status.state, status.snapshot). Pure.
//
// The machine's states are nested (e.g. `{ atRest: { blocked: 'WaitingForWorkloads' } }`), and a Runner's
// `status.state` is the leaf: `WaitingForWorkloads`. Snapshots persisted before the machine had groups name the leaf
// alone (`value: 'WaitingForWorkloads'`); `migrateSnapshot` restores them in the same state, with the same context.
import type { AnyStateNode, StateValue } from 'xstate';
import { initialContext, RUNNER_STATES, type RunnerMachineInput, type RunnerStateName } from './runner-context.ts';
import { runnerMachine } from './runner.ts';

const isRunnerState = (name: unknown): name is RunnerStateName => (RUNNER_STATES as readonly unknown[]).includes(name);

/** The Runner state a snapshot's value is in (its leaf), or null when the value names no state of the machine. */
export function runnerStateOf(value: unknown): RunnerStateName | null {
  let v = value;
  while (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v);
    if (entries.length !== 1) return null;
    v = entries[0]![1];
  }
  return isRunnerState(v) && sameValue(stateValueOf(v), value) ? v : null;
}

/** The value of a snapshot in the given state, e.g. `{ atRest: 'Scheduled' }` for `Scheduled`. */
export function stateValueOf(state: RunnerStateName): StateValue {
  const path = PATHS.get(state);
  if (path === undefined) throw new Error(`${state} is not a state of the Runner machine`);
  return nest(path);
}

const nest = (path: readonly string[]): StateValue =>
  path.length === 1 ? path[0]! : { [path[0]!]: nest(path.slice(1)) };

function sameValue(a: StateValue, b: unknown): boolean {
  if (typeof a === 'string') return a === b;
  if (typeof b !== 'object' || b === null) return false;
  const [key, inner] = Object.entries(a)[0]!;
  return Object.keys(b).length === 1 && key in b && sameValue(inner as StateValue, (b as Record<string, unknown>)[key]);
}

/** Each Runner state's path from the machine's root, read from the machine's definition. */
const PATHS: ReadonlyMap<string, readonly string[]> = new Map(
  (function walk(node: AnyStateNode, path: string[]): [string, string[]][] {
    const children = Object.values(node.states) as AnyStateNode[];
    if (children.length === 0) return isRunnerState(node.key) ? [[node.key, path]] : [];
    return children.flatMap((child) => walk(child, [...path, child.key]));
  })(runnerMachine.root, []),
);

/**
 * A persisted Runner snapshot in the form the current machine restores, or null when it is not one: an active
 * snapshot whose value names a Runner state, either nested as the machine has it now or as the bare leaf name that
 * snapshots written before the machine had groups carry. Everything else (context, children, history) is kept as is.
 */
export function migrateSnapshot(persisted: unknown): Record<string, unknown> | null {
  if (typeof persisted !== 'object' || persisted === null) return null;
  const s = persisted as Record<string, unknown>;
  if (s.status !== 'active') return null;
  const state = typeof s.value === 'string' ? (isRunnerState(s.value) ? s.value : null) : runnerStateOf(s.value);
  if (state === null) return null;
  return { ...s, value: stateValueOf(state) };
}

/**
 * The persisted snapshot of a Runner that has no snapshot but whose newest Job still runs (a leader stopped after
 * creating it, before writing the Runner's status): the actor resumes in `Running` with that run, as if restored,
 * so the Job's end is recorded as the run's result. Restoring runs no entry action: its Job is not created again.
 * Null when the history holds no unfinished run.
 */
export function snapshotOfUnfinishedRun(input: RunnerMachineInput): Record<string, unknown> | null {
  if (!input.history?.run || input.history.run.result !== null) return null;
  const snapshot = runnerMachine.resolveState({ value: stateValueOf('Running'), context: initialContext(input) });
  return runnerMachine.getPersistedSnapshot(snapshot) as Record<string, unknown>;
}

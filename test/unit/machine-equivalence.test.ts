// The statechart (machines/runner.ts) behaves exactly as the decision function it replaced.
//
// The oracle is the Runner's rule written as one function, `restingState` / `dueRunReason` (machines/runner-decisions.ts),
// driven as the previous machine did (test/unit/fixtures/runner-machine-v1.ts: every resting state re-decides where it
// belongs after each event). @xstate/graph walks both machines side by side over the model's events
// (test/unit/support/runner-model.ts): every edge of the graph (every model event in every reachable pair of
// snapshots) runs through both transition functions with their effects recorded, and must give the same state, the
// same context and the same effects in the same order; and the new machine's state must be the one the decision
// function names. Then every generated path (the shortest path to each distinct pair) is replayed from the start on
// two real actors, at times from a simulated clock, with the same comparison after every event.
import { getShortestPaths } from '@xstate/graph';
import { beforeAll, describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, type ActorLogic, type AnyActorLogic, type AnyStateMachine } from 'xstate';
import { runnerMachine, type RunnerContext, type RunnerEvent, type RunnerMachineInput } from '../../machines/runner.ts';
import { dueRunReason, restingState } from '../../machines/runner-decisions.ts';
import { runnerMachineV1 } from './fixtures/runner-machine-v1.ts';
import {
  describeEvents,
  directScope,
  effectsOf,
  INITIAL,
  modelEvents,
  recording,
  show,
  snapshotText,
  stateName,
  type Effect,
  type ModelSnapshot,
} from './support/runner-model.ts';

type Snapshot = ModelSnapshot & { status: string };

/** A snapshot of both machines, as @xstate/graph walks them. */
interface Pair {
  status: 'active';
  output: undefined;
  error: undefined;
  /** The previous machine, driven by the decision function. */
  oracle: Snapshot;
  statechart: Snapshot;
}
const pair = (oracle: Snapshot, statechart: Snapshot): Pair => ({ status: 'active', output: undefined, error: undefined, oracle, statechart });

interface Mismatch {
  events: RunnerEvent[];
  detail: string;
  /** The pair the event was sent in, for an edge of the walk (its path is known once the walk is over). */
  from?: string;
}

const oracleMachine = recording(runnerMachineV1 as AnyStateMachine);
const statechart = recording(runnerMachine as AnyStateMachine);

const runIsActive = (c: RunnerContext): boolean => c.run !== null && c.run.result === null;

/** A context as the oracle keeps it: the statechart also records each run's previous result (for RunRecovered), which decides nothing. */
const asOracle = (context: unknown): string => JSON.stringify(context, (key, v: unknown) => (key === 'previousResult' ? undefined : v));

/** Where the decision function says a Runner with this context is. */
const decided = (c: RunnerContext): string => (runIsActive(c) ? 'Running' : restingState(c));

/** What differs between the two machines after the same event, or what the decision function disputes; '' when none. */
function difference(oracle: Snapshot, oracleEffects: Effect[], next: Snapshot, nextEffects: Effect[]): string {
  const problems: string[] = [];
  if (stateName(oracle) !== stateName(next)) problems.push(`state ${stateName(next)}, the oracle ${stateName(oracle)}`);
  if (show(nextEffects) !== show(oracleEffects)) problems.push(`effects ${show(nextEffects)}, the oracle ${show(oracleEffects)}`);
  if (asOracle(next.context) !== asOracle(oracle.context))
    problems.push(`context ${JSON.stringify(next.context)}, the oracle ${JSON.stringify(oracle.context)}`);
  if (stateName(next) !== decided(next.context)) problems.push(`state ${stateName(next)}, the decision function says ${decided(next.context)}`);
  // A Runner at rest owes no run: if one were due it would be running.
  if (!runIsActive(next.context) && dueRunReason(next.context) !== null)
    problems.push(`rests in ${stateName(next)} with a ${dueRunReason(next.context)} run due`);
  return problems.join('; ');
}

const pathsTo = new Map<string, RunnerEvent[]>();
const diverged = new WeakSet<Pair>();
const keyOf = (p: Pair): string => `${snapshotText(p.statechart)}\n${snapshotText(p.oracle)}`;

/** Both machines as one logic for @xstate/graph: each event goes to both, and every edge is compared. */
function sideBySide(mismatches: Mismatch[], counts: { edges: number }): ActorLogic<Pair, RunnerEvent, RunnerMachineInput> {
  const scopeOf = (machine: AnyStateMachine) => directScope(createActor(machine, { input: INITIAL }));
  const [oracleScope, statechartScope] = [scopeOf(oracleMachine), scopeOf(statechart)];
  const step = (machine: AnyActorLogic, scope: ReturnType<typeof directScope>, s: Snapshot, e: RunnerEvent) => {
    let next = s;
    const effects = effectsOf(() => void (next = machine.transition(s, e, scope) as Snapshot));
    return { next, effects };
  };
  return {
    getInitialSnapshot: (_scope, input) =>
      pair(oracleMachine.getInitialSnapshot(oracleScope, input) as Snapshot, statechart.getInitialSnapshot(statechartScope, input) as Snapshot),
    getPersistedSnapshot: (p) => p,
    transition: (p, event) => {
      counts.edges += 1;
      const a = step(oracleMachine, oracleScope, p.oracle, event);
      const b = step(statechart, statechartScope, p.statechart, event);
      const detail = difference(a.next, a.effects, b.next, b.effects);
      const next = pair(a.next, b.next);
      if (detail) {
        mismatches.push({ events: [event], detail, from: keyOf(p) });
        // Pairs of snapshots that differ would multiply without end: the walk stops there.
        diverged.add(next);
      }
      return next;
    },
  };
}

const START_MS = Date.parse('2026-03-01T09:00:00.000Z');

/** Replays a path on two real actors, comparing them after every event. */
function replay(events: RunnerEvent[], into: Mismatch[]): number {
  const clock = new SimulatedClock();
  clock.set(START_MS);
  const now = () => new Date(clock.now()).toISOString();
  const input = { ...INITIAL, at: now() };
  const oracle = createActor(oracleMachine, { input, clock });
  const next = createActor(statechart, { input, clock });
  const first = difference(oracle.getSnapshot() as Snapshot, effectsOf(() => oracle.start()), next.getSnapshot() as Snapshot, effectsOf(() => next.start()));
  if (first) into.push({ events: [], detail: `at creation: ${first}` });
  for (const [i, traversed] of events.entries()) {
    clock.increment(60_000);
    const event = { ...traversed, at: now() };
    const oracleEffects = effectsOf(() => oracle.send(event));
    const nextEffects = effectsOf(() => next.send(event));
    const detail = difference(oracle.getSnapshot() as Snapshot, oracleEffects, next.getSnapshot() as Snapshot, nextEffects);
    if (detail) into.push({ events: events.slice(0, i + 1), detail });
  }
  oracle.stop();
  next.stop();
  return events.length;
}

describe('the statechart and the decision function it replaced', () => {
  const edgeMismatches: Mismatch[] = [];
  const replayMismatches: Mismatch[] = [];
  const counts = { edges: 0, pairs: 0, paths: 0, steps: 0 };

  beforeAll(() => {
    const paths = getShortestPaths(sideBySide(edgeMismatches, counts), {
      input: INITIAL,
      // Both machines are offered the same events: those the model offers the statechart's snapshot.
      events: (p: Pair) => (diverged.has(p) ? [] : modelEvents(p.statechart)),
      serializeState: (p: Pair) => keyOf(p),
    });
    for (const p of paths) pathsTo.set(keyOf(p.state), p.steps.slice(1).map((s) => s.event));
    for (const m of edgeMismatches) m.events = [...(pathsTo.get(m.from!) ?? []), ...m.events];
    counts.pairs = paths.length;
    for (const p of paths) {
      counts.steps += replay(p.steps.slice(1).map((s) => s.event), replayMismatches);
      counts.paths += 1;
    }
    console.log(
      `equivalence: ${counts.pairs} distinct pairs of snapshots, ${counts.edges} edges compared, ` +
        `${counts.paths} paths replayed (${counts.steps} steps)`,
    );
  }, 180_000);

  it('walks the whole graph: every pair of snapshots the model reaches', () => {
    expect(counts.pairs).toBeGreaterThan(1000);
    expect(counts.edges).toBeGreaterThan(counts.pairs);
  });

  it('gives the same state, context and effects on every edge of the graph', () => {
    const first = edgeMismatches.sort((a, b) => a.events.length - b.events.length)[0];
    expect(edgeMismatches.length, first && `${describeEvents(first.events)} — ${first.detail}`).toBe(0);
  });

  it('gives the same state, context and effects after every event of every generated path, in simulated time', () => {
    const first = replayMismatches.sort((a, b) => a.events.length - b.events.length)[0];
    expect(replayMismatches.length, first && `${describeEvents(first.events)} — ${first.detail}`).toBe(0);
  });
});

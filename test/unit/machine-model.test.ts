// Model-based tests of the Runner machine (machines/runner.ts, SPEC §7).
//
// @xstate/test supports only XState v4; this uses its v5 successor @xstate/graph. Its `getShortestPaths` walks the
// machine breadth-first over a finite set of concrete events (the model, below). That walk gives
// - every edge of the reachable graph (every model event in every distinct snapshot). Each one runs through the
//   machine's own transition function with the effects recorded, and the step properties are checked on it;
// - one shortest path to every distinct snapshot, plus, for every transition of the machine, a path that ends in the
//   first edge taking it.
// Each path is then replayed from the start on a real actor: effects provided as recorders, event times from XState's
// SimulatedClock, and an operator restart (restore from the JSON of the persisted snapshot) before every event.
// The properties come from SPEC §2.2, §3 and §5, not from the machine's code. Coverage is measured, not assumed: the
// states and transitions (`on` and `always`) are enumerated from the machine's state nodes and compared with the
// transitions the replays took (XState's `@xstate.microstep` inspection events). Below 100% the suite fails: a
// transition that no event can take is a bug in the machine, not something to exclude here.
import { getShortestPaths } from '@xstate/graph';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createActor,
  SimulatedClock,
  type ActorLogic,
  type AnyTransitionDefinition,
  type SnapshotFrom,
} from 'xstate';
import { RUNNER_STATES, runnerMachine, type RunnerContext, type RunnerEvent, type RunnerInputs, type RunnerMachineInput, type RunnerStateName } from '../../machines/runner.ts';
import { describeTransition } from '../../src/diagram/labels.ts';
import {
  allStateNodes,
  describeEvents,
  directScope,
  effectsOf,
  INITIAL,
  MODEL_EVENTS,
  modelEvents,
  ownTransitions,
  recording,
  show,
  snapshotText,
  stateName,
  type Effect,
} from './support/runner-model.ts';

type RunnerSnapshot = SnapshotFrom<typeof runnerMachine>;

// ---------------------------------------------------------------------------------------------
// The model (test/unit/support/runner-model.ts): a finite set of concrete events offered in each snapshot.

/**
 * Identity of a snapshot for the traversal (`snapshotText`: without history-only fields and the run number). The run
 * numbers themselves are checked by properties (run-key, run-count) on every edge and by run-key-unique along every
 * replayed path.
 */
const graphKeys = new WeakMap<RunnerSnapshot, string>();
function graphKey(s: RunnerSnapshot): string {
  let key = graphKeys.get(s);
  if (key === undefined) graphKeys.set(s, (key = snapshotText(s)));
  return key;
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
/** graphKey with every timestamp blanked: a replay at other times must reach the same node of the graph. */
const timeless = (s: RunnerSnapshot): string =>
  snapshotText(s, (_k, v) => (typeof v === 'string' && ISO_TIME.test(v) ? '<time>' : v));

// ---------------------------------------------------------------------------------------------
// The machine's states and transitions, enumerated from its definition.

/** Stable across `machine.provide(...)` copies: source state, event type ('' = always), position. */
function transitionKey(t: AnyTransitionDefinition): string {
  const siblings = t.eventType === '' ? (t.source.always ?? []) : (t.source.transitions.get(t.eventType) ?? []);
  return `${t.source.id}|${t.eventType}|${siblings.indexOf(t)}`;
}

const MACHINE_NODES = allStateNodes(runnerMachine.root).filter((n) => n !== runnerMachine.root);
/** A decision point: a state left at once by its eventless transitions, never rested in. */
const isDecision = (n: (typeof MACHINE_NODES)[number]): boolean => n.transitions.size === 0 && (n.always ?? []).length > 0;
/** The states a Runner can be in (status.state): the leaves that are not decision points. */
const MACHINE_STATES: string[] = MACHINE_NODES.filter((n) => Object.keys(n.states).length === 0 && !isDecision(n)).map((n) => n.key);
const MACHINE_TRANSITIONS = new Map<string, string>(
  allStateNodes(runnerMachine.root).flatMap(ownTransitions).map((t) => [transitionKey(t), describeTransition(t)]),
);
const MACHINE_EVENT_TYPES = new Set(
  allStateNodes(runnerMachine.root)
    .flatMap(ownTransitions)
    .map((t) => t.eventType)
    .filter((type) => type !== ''),
);

// ---------------------------------------------------------------------------------------------
// Effects, recorded.

const recordingMachine = recording(runnerMachine);

const persisted = (actor: { getPersistedSnapshot: () => unknown }): RunnerSnapshot =>
  JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as RunnerSnapshot;
const valueAndContext = (s: RunnerSnapshot): string => JSON.stringify({ value: s.value, context: s.context });

interface Step {
  before: RunnerSnapshot;
  event: RunnerEvent;
  after: RunnerSnapshot;
  effects: Effect[];
}

type Fail = (property: string, detail: string) => void;

// ---------------------------------------------------------------------------------------------
// The traversal: @xstate/graph walks the machine breadth-first; every edge it takes (every model event in every
// reachable snapshot) runs through the machine's transition function with the effects recorded, and the step
// properties are checked on it. So they hold on every edge of the graph, not only on the paths replayed below.

interface EdgeViolation {
  property: string;
  detail: string;
  from: string;
  event: RunnerEvent;
}

interface Traversal {
  edges: number;
  violations: EdgeViolation[];
  /** For each transition of the machine, the first edge (breadth-first) that takes it. */
  firstEdge: Map<string, { from: string; event: RunnerEvent; next: RunnerSnapshot }>;
}

function observedLogic(into: Traversal): ActorLogic<RunnerSnapshot, RunnerEvent, RunnerMachineInput> {
  // The machine's own transition function, as @xstate/graph calls it, with a scope that runs the recording effects
  // and reports the transitions each macrostep takes (XState's inspection events of an idle actor's system).
  let taken: string[] = [];
  const idle = createActor(recordingMachine, {
    input: INITIAL,
    inspect: (e) => {
      if (e.type === '@xstate.microstep') for (const t of e._transitions) taken.push(transitionKey(t));
    },
  });
  const scope = directScope(idle);
  return {
    getInitialSnapshot: (s, input) => recordingMachine.getInitialSnapshot(s, input),
    getPersistedSnapshot: (s) => recordingMachine.getPersistedSnapshot(s),
    transition: (before, event) => {
      taken = [];
      let after = before;
      const effects = effectsOf(() => void (after = recordingMachine.transition(before, event, scope)));
      into.edges += 1;
      const from = graphKey(before);
      const fail: Fail = (property, detail) => void into.violations.push({ property, detail, from, event });
      checkSnapshot(after, fail);
      checkStep({ before, event, after, effects }, fail);
      for (const k of taken) if (!into.firstEdge.has(k)) into.firstEdge.set(k, { from, event, next: after });
      return after;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Paths.

interface ModelPath {
  events: RunnerEvent[];
  /** The traversal's snapshot after each event. */
  expected: RunnerSnapshot[];
}

function generatePaths(traversal: Traversal): { paths: ModelPath[]; snapshots: number; pathTo: Map<string, ModelPath> } {
  const shortest = getShortestPaths(observedLogic(traversal), {
    input: INITIAL,
    events: modelEvents,
    serializeState: (s) => graphKey(s),
  });
  // After @xstate/graph's alterPath, steps[0] is the initial snapshot and steps[i] the snapshot after steps[i].event.
  const pathTo = new Map<string, ModelPath>(
    shortest.map((p) => [
      graphKey(p.state),
      { events: p.steps.slice(1).map((s) => s.event), expected: p.steps.slice(1).map((s) => s.state) },
    ]),
  );
  // For each transition that the shortest paths may not take, a path ending in the first edge that takes it.
  const extensions: ModelPath[] = [];
  for (const { from, event, next } of traversal.firstEdge.values()) {
    const base = pathTo.get(from);
    if (base !== undefined) extensions.push({ events: [...base.events, event], expected: [...base.expected, next] });
  }
  // A path that is a prefix of another one is checked as part of it.
  const all = [...pathTo.values(), ...extensions].sort((a, b) => b.events.length - a.events.length);
  const prefixes = new Set<string>();
  const paths: ModelPath[] = [];
  for (const p of all) {
    const keys = p.events.map((e) => JSON.stringify(e));
    if (prefixes.has(keys.join('\n'))) continue;
    paths.push(p);
    for (let n = 0; n <= keys.length; n++) prefixes.add(keys.slice(0, n).join('\n'));
  }
  return { paths, snapshots: shortest.length, pathTo };
}

// ---------------------------------------------------------------------------------------------
// Replay from the start on a real actor, with recorded effects, time from a simulated clock, and an operator
// restart (restore from the JSON of the persisted snapshot) before every event.

interface Violation {
  property: string;
  detail: string;
  path: ModelPath;
  step: number;
}

interface Replay {
  violations: Violation[];
  taken: Set<string>;
  /** Runner states (status.state) the replays rested in. */
  states: Set<string>;
  /** Ids of every state node the replays entered, groups and decision points included. */
  nodes: Set<string>;
}

const START_MS = Date.parse('2026-03-01T09:00:00.000Z');
const STEP_MS = 60_000;

function replay(path: ModelPath, into: Replay): void {
  const clock = new SimulatedClock();
  clock.set(START_MS);
  const now = () => new Date(clock.now()).toISOString();
  const report = (step: number): Fail => (property, detail) => void into.violations.push({ property, detail, path, step });

  const actor = createActor(recordingMachine, {
    input: { ...INITIAL, at: now() },
    clock,
    inspect: (e) => {
      if (e.type !== '@xstate.microstep') return;
      for (const t of e._transitions) into.taken.add(transitionKey(t));
      for (const n of (e.snapshot as unknown as { _nodes: { id: string }[] })._nodes) into.nodes.add(n.id);
    },
  });
  const initialEffects = effectsOf(() => actor.start());
  /** Every key started on this path: a run key is never reused, not even for a revision seen again (a rollback). */
  const startedKeys = new Set<string>();
  let before = actor.getSnapshot();
  into.states.add(stateName(before));
  checkSnapshot(before, report(0));
  if (initialEffects.length > 0) report(0)('start-once', `effects at creation: ${show(initialEffects)}`);

  for (const [i, traversed] of path.events.entries()) {
    const fail = report(i + 1);
    clock.increment(STEP_MS);
    const event = { ...traversed, at: now() };

    // `input` is required by the machine's types and ignored when a snapshot is given.
    const restored = createActor(recordingMachine, { snapshot: persisted(actor), input: INITIAL, clock });
    const restoreEffects = effectsOf(() => restored.start());
    if (valueAndContext(restored.getSnapshot()) !== valueAndContext(before))
      fail('restart', `restored snapshot differs: ${valueAndContext(restored.getSnapshot())}`);
    if (restoreEffects.length > 0) fail('restart', `restoring emitted ${show(restoreEffects)}`);

    const effects = effectsOf(() => actor.send(event));
    const after = actor.getSnapshot();
    into.states.add(stateName(after));

    const restoredEffects = effectsOf(() => restored.send(event));
    if (valueAndContext(restored.getSnapshot()) !== valueAndContext(after) || show(restoredEffects) !== show(effects))
      fail('restart', `a restored actor reacts differently to ${show([event])}: ${show(restoredEffects)} vs ${show(effects)}`);
    restored.stop();

    const expected = path.expected[i];
    if (expected === undefined || timeless(after) !== timeless(expected))
      fail('deterministic', `replay gives ${timeless(after)}, the traversal gave ${expected && timeless(expected)}`);

    checkSnapshot(after, fail);
    checkStep({ before, event, after, effects }, fail);
    for (const e of effects) {
      if (e.type !== 'startJob') continue;
      if (e.key === null || startedKeys.has(e.key)) fail('run-key-unique', `key ${e.key} started again on this path: ${show(effects)}`);
      startedKeys.add(e.key ?? '');
    }
    before = after;
  }
  actor.stop();
}


// ---------------------------------------------------------------------------------------------
// Properties, from the spec.

const satisfied = (i: RunnerInputs): boolean =>
  i.valid && !i.cycle && !i.suspended && i.workloadsReady && i.upstreamReady;

/** Where a Runner with no active run belongs (SPEC §5 `state`, §2.2 suspend, §3.5 cycle, §6 InvalidSpec). */
function expectedRestingState(c: RunnerContext): RunnerStateName {
  const i = c.inputs;
  if (!i.valid) return 'Invalid';
  if (i.cycle) return 'Stalled';
  if (i.suspended) return 'Suspended';
  if (!i.workloadsReady) return 'WaitingForWorkloads';
  if (!i.upstreamReady) return 'WaitingForUpstream';
  if (i.scheduled) return 'Scheduled';
  return c.run?.result === 'Failed' || c.run?.result === 'Error' ? 'Failed' : 'Succeeded';
}

/**
 * A run is owed: a new manual-trigger value (once per value, §2.2), a remembered tick of a scheduled Runner (§3.4),
 * or a revision not run yet by an event-triggered one (§3.3) — all only while the inputs are satisfied (§3.1).
 */
const runOwed = (c: RunnerContext): boolean =>
  satisfied(c.inputs) &&
  ((c.inputs.trigger !== null && c.inputs.trigger !== c.lastTrigger) ||
    (c.inputs.scheduled ? c.dueTick !== null : c.inputs.revision !== c.lastRevision));

const isActive = (c: RunnerContext): boolean => c.run !== null && c.run.result === null;

function checkSnapshot(s: RunnerSnapshot, fail: Fail): void {
  const value = stateName(s);
  const c = s.context;
  if (!(RUNNER_STATES as readonly string[]).includes(value)) fail('state-name', `${value} is not in RUNNER_STATES`);
  if ((value === 'Running') !== isActive(c))
    fail('running-iff-active-run', `state ${value} with run ${JSON.stringify(c.run)}`);
  if (value !== 'Running') {
    if (value !== expectedRestingState(c)) fail('rests-where-inputs-say', `in ${value}, expected ${expectedRestingState(c)}`);
    if (runOwed(c)) fail('rests-where-inputs-say', `resting in ${value} while a run is owed`);
  }
  if (c.lastRevision !== (c.run?.revision ?? null)) fail('run-record', `lastRevision ${c.lastRevision} vs run ${c.run?.revision}`);
  // A remembered tick is run or skipped when the active run ends; a Runner at rest never holds one to run later.
  if (value !== 'Running' && c.dueTick !== null) fail('no-stale-tick', `resting in ${value} with tick ${c.dueTick} remembered`);
  if ((c.runs === 0) !== (c.run === null)) fail('run-count', `${c.runs} runs with run ${JSON.stringify(c.run)}`);
  if (c.run !== null) {
    // The key starts with the run's number (the latest run is the runs-th), so a revision seen again is a new run.
    const what =
      c.run.reason === 'Revision'
        ? `revision:${c.run.revision}`
        : c.run.reason === 'Schedule'
          ? `schedule:${c.run.tick}`
          : `manual:${c.lastTrigger}:${c.run.revision}`;
    const expectedKey = `${c.runs}:${what}`;
    if (c.run.key !== expectedKey) fail('run-key', `run ${c.run.reason} has key ${c.run.key}, expected ${expectedKey}`);
  }
}

function checkStep({ before, event, after, effects }: Step, fail: Fail): void {
  const b = before.context;
  const a = after.context;
  const of = <T extends Effect['type']>(type: T) => effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
  const started = of('startJob').map((e) => e.key);
  const stopped = of('stopJob').map((e) => e.key);

  // Starting a run: startJob then runStarted, once each, for a key the Runner has not just run; the last one is current.
  for (const [i, e] of effects.entries()) {
    if (e.type === 'startJob' && JSON.stringify(effects[i + 1]) !== JSON.stringify({ type: 'runStarted', key: e.key }))
      fail('start-once', `startJob ${e.key} not followed by runStarted for it: ${show(effects)}`);
  }
  if (of('runStarted').length !== started.length) fail('start-once', `startJob/runStarted mismatch: ${show(effects)}`);
  if (new Set(started).size !== started.length) fail('start-once', `a key started twice: ${show(effects)}`);
  if (started.length > 0) {
    if (stateName(after) !== 'Running' || a.run?.key !== started.at(-1))
      fail('start-once', `started ${started.join()} but ended in ${stateName(after)} with run ${a.run?.key}`);
    if (started[0] === b.run?.key) fail('start-once', `started ${started[0]} again, the key of the previous run`);
    if (a.run?.startedAt !== event.at) fail('run-record', `run started at ${a.run?.startedAt}, event at ${event.at}`);
    if (a.run?.revision !== a.inputs.revision) fail('run-record', `run for ${a.run?.revision}, inputs at ${a.inputs.revision}`);
  } else if (a.run?.key !== b.run?.key) {
    fail('start-once', `run changed from ${b.run?.key} to ${a.run?.key} without startJob`);
  }
  if (a.runs !== b.runs + started.length) fail('run-count', `runs ${b.runs} → ${a.runs} with ${started.length} started`);

  // A remembered tick (SPEC §2.2 Forbid) leaves only by running, by being skipped visibly (SPEC §3.4), or by giving its
  // place to a later tick. By design (beginRun, docs/machine.md), a run that replaces the active one under Replace
  // while a tick could run serves the remembered tick too.
  if (b.dueTick !== null && a.dueTick !== b.dueTick) {
    const ran = a.run?.reason === 'Schedule' && a.run.tick === b.dueTick && started.includes(a.run.key);
    const skipped = of('tickSkipped').some((e) => e.tick === b.dueTick);
    const superseded = event.type === 'TICK' && a.dueTick === event.tick;
    const replacing = a.inputs.concurrencyPolicy === 'Replace' && stopped.length > 0 && started.length > 0;
    const servedByReplacement = replacing && a.inputs.scheduled && satisfied(a.inputs);
    if (!ran && !skipped && !superseded && !servedByReplacement)
      fail('tick-accounted', `tick ${b.dueTick} dropped: ${show(effects)}, run ${a.run?.key}`);
  }

  // Replace (SPEC §2.2): the active Job is deleted, once, and only under Replace; a Job is never started and stopped at once.
  for (const key of stopped) {
    if (a.inputs.concurrencyPolicy !== 'Replace') fail('replace', `stopJob ${key} under ${a.inputs.concurrencyPolicy}`);
    if (started.includes(key)) fail('replace', `Job ${key} started and stopped in one step: ${show(effects)}`);
  }
  if (stopped.length > 0 && (!isActive(b) || stopped[0] !== b.run?.key))
    fail('replace', `stopped ${stopped.join()} while the active run was ${isActive(b) ? b.run?.key : 'none'}`);
  if (isActive(b) && a.run?.key !== b.run?.key) {
    const finished = of('runFinished').some((e) => e.key === b.run?.key);
    if (!finished && stopped[0] !== b.run?.key) fail('replace', `run ${b.run?.key} abandoned without stopJob or a result`);
  }

  switch (event.type) {
    case 'INPUTS': {
      if (JSON.stringify(a.inputs) !== JSON.stringify(event.inputs)) fail('inputs', 'inputs not recorded');
      if (a.now !== event.at) fail('inputs', `now ${a.now}, event at ${event.at}`);
      const progressing = event.inputs.workloadsReady ? null : (b.progressingSince ?? event.at);
      if (a.progressingSince !== progressing) fail('progressing-since', `${a.progressingSince}, expected ${progressing}`);
      if (of('tickSkipped').length + of('runFinished').length > 0) fail('inputs', `unexpected effects ${show(effects)}`);
      // SPEC §2.2: suspend stops new runs; a running Job is left alone.
      if (isActive(b) && event.inputs.suspended && (a.run?.key !== b.run?.key || stopped.length > 0))
        fail('suspend-leaves-running-job', `run ${b.run?.key} → ${a.run?.key}, effects ${show(effects)}`);
      break;
    }
    case 'TICK': {
      const canRun = b.inputs.scheduled && satisfied(b.inputs);
      if (a.lastTick !== event.tick) fail('tick', `lastTick ${a.lastTick} after tick ${event.tick}`);
      if (!canRun) {
        // SPEC §3.4: a tick at which the inputs are not satisfied is skipped, visibly.
        if (show(effects) !== show([{ type: 'tickSkipped', tick: event.tick }])) fail('tick', `skipped tick emitted ${show(effects)}`);
        if (stateName(after) !== stateName(before) || a.lastSkippedTick !== event.tick || a.dueTick !== b.dueTick)
          fail('tick', `skipped tick changed state ${stateName(before)}→${stateName(after)}, dueTick ${b.dueTick}→${a.dueTick}`);
      } else {
        if (of('tickSkipped').length > 0) fail('tick', `a tick that can run was skipped: ${show(effects)}`);
        const ranNow = a.run?.reason === 'Schedule' && a.run.tick === event.tick && started.includes(a.run.key);
        const remembered =
          isActive(b) && b.inputs.concurrencyPolicy === 'Forbid' && a.dueTick === event.tick && a.run?.key === b.run?.key;
        if (!ranNow && !remembered) fail('tick', `tick ${event.tick} neither ran nor was remembered: ${show(effects)}`);
      }
      break;
    }
    case 'TICK.MISSED': {
      if (show(effects) !== show([{ type: 'tickSkipped', tick: event.tick }])) fail('tick-missed', `emitted ${show(effects)}`);
      const expected = { ...b, now: event.at, lastTick: event.tick, lastSkippedTick: event.tick };
      if (stateName(after) !== stateName(before) || JSON.stringify(a) !== JSON.stringify(expected))
        fail('tick-missed', `changed ${stateName(before)}→${stateName(after)} ${JSON.stringify(a)}`);
      break;
    }
    case 'JOB.FINISHED': {
      if (isActive(b) && b.run?.key === event.key) {
        // An error reason found by the operator makes the result Error (the infrastructure ended the run), not Failed.
        const result = event.succeeded ? 'Succeeded' : event.findings?.errorReason ? 'Error' : 'Failed';
        if (show(of('runFinished')) !== show([{ type: 'runFinished', key: event.key, result }]))
          fail('job-finished', `runFinished effects ${show(of('runFinished'))}`);
        if ((event.succeeded ? a.lastSucceededAt : a.lastFailedAt) !== event.at) fail('job-finished', 'result time not recorded');
        if (started.length === 0 && (a.run?.result !== result || a.run.finishedAt !== event.at || a.run.message !== event.message))
          fail('job-finished', `run record ${JSON.stringify(a.run)}`);
        // SPEC §2.2 Forbid + §3.4: a tick remembered during the run runs after it only if the inputs allow a tick then
        // (still scheduled, and satisfied); otherwise it is skipped, visibly, and never runs later.
        const tick = b.dueTick;
        const tickRuns = tick !== null && a.inputs.scheduled && satisfied(a.inputs);
        const skipped = of('tickSkipped');
        if (tick !== null && !tickRuns) {
          if (show(skipped) !== show([{ type: 'tickSkipped', tick }]))
            fail('stale-tick', `tick ${tick} blocked at the end of the run: ${show(effects)}`);
          if (a.dueTick !== null || a.lastSkippedTick !== tick)
            fail('stale-tick', `dueTick ${a.dueTick}, lastSkippedTick ${a.lastSkippedTick} after skipping ${tick}`);
          if (a.run?.reason === 'Schedule' && started.includes(a.run.key)) fail('stale-tick', `blocked tick ${tick} ran as ${a.run.key}`);
        } else {
          if (skipped.length > 0 || a.lastSkippedTick !== b.lastSkippedTick) fail('stale-tick', `no tick to skip, yet ${show(effects)}`);
          // A tick that can run does, now, unless a manual run goes first (the tick then runs after that one).
          if (tickRuns && a.dueTick === tick && !(started.length > 0 && a.run?.reason === 'Manual'))
            fail('stale-tick', `tick ${tick} still remembered after the run, not run: ${show(effects)}`);
        }
      } else if (effects.length > 0 || stateName(after) !== stateName(before) || JSON.stringify(a) !== JSON.stringify(b)) {
        // The result of a Job that is not the active run changes nothing.
        fail('job-finished', `stale result for ${event.key} changed ${stateName(before)}→${stateName(after)}, effects ${show(effects)}`);
      }
      break;
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe('Runner machine, model-based (@xstate/graph)', () => {
  const traversal: Traversal = { edges: 0, violations: [], firstEdge: new Map() };
  const result: Replay = { violations: [], taken: new Set(), states: new Set(), nodes: new Set() };
  let paths: ModelPath[] = [];
  let pathTo = new Map<string, ModelPath>();

  beforeAll(() => {
    let snapshots: number;
    ({ paths, snapshots, pathTo } = generatePaths(traversal));
    for (const p of paths) replay(p, result);
    const states = MACHINE_STATES.filter((s) => result.states.has(s)).length;
    const nodes = MACHINE_NODES.filter((n) => result.nodes.has(n.id)).length;
    const transitions = [...MACHINE_TRANSITIONS.keys()].filter((k) => result.taken.has(k)).length;
    const steps = paths.reduce((n, p) => n + p.events.length, 0);
    console.log(
      `model coverage: states ${states}/${MACHINE_STATES.length} (state nodes ${nodes}/${MACHINE_NODES.length}), transitions ${transitions}/${MACHINE_TRANSITIONS.size}, ` +
        `paths ${paths.length} (${steps} steps replayed; ${snapshots} distinct snapshots, ${traversal.edges} edges checked)`,
    );
  }, 120_000);

  it('offers concrete events for every event type the machine handles', () => {
    expect([...MACHINE_EVENT_TYPES].filter((type) => !(type in MODEL_EVENTS))).toEqual([]);
  });

  it('names its states as RUNNER_STATES does', () => {
    expect([...MACHINE_STATES].sort()).toEqual([...RUNNER_STATES].sort());
  });

  it('reaches every state', () => {
    expect(MACHINE_STATES.filter((s) => !result.states.has(s))).toEqual([]);
  });

  it('enters every state node: each Runner state, group and decision point', () => {
    expect(MACHINE_NODES.filter((n) => !result.nodes.has(n.id)).map((n) => n.id)).toEqual([]);
  });

  it('takes every transition of the machine (one that no event can take is a machine bug)', () => {
    const missing = [...MACHINE_TRANSITIONS.entries()].filter(([k]) => !result.taken.has(k)).map(([, label]) => label);
    expect(missing, `transitions no path takes (${missing.length} of ${MACHINE_TRANSITIONS.size})`).toEqual([]);
  });

  it('keeps every property on every edge of the graph', () => {
    const byProperty = new Map<string, EdgeViolation[]>();
    for (const v of traversal.violations)
      byProperty.set(v.property, byProperty.get(v.property) ?? []).get(v.property)!.push(v);
    const summary = [...byProperty.entries()].map(([property, vs]) => {
      const shortestFirst = vs
        .map((v) => ({ v, path: pathTo.get(v.from) }))
        .sort((x, y) => (x.path?.events.length ?? Infinity) - (y.path?.events.length ?? Infinity))[0]!;
      const events = [...(shortestFirst.path?.events ?? []), shortestFirst.v.event];
      return `${property}: ${vs.length} edge(s); e.g. ${describeEvents(events)} — ${shortestFirst.v.detail}`;
    });
    expect(summary).toEqual([]);
  });

  it('keeps every property at every step of every replayed path, across restarts and in simulated time', () => {
    const byProperty = new Map<string, Violation[]>();
    for (const v of result.violations)
      byProperty.set(v.property, byProperty.get(v.property) ?? []).get(v.property)!.push(v);
    const summary = [...byProperty.entries()].map(([property, vs]) => {
      const first = vs.reduce((x, y) => (y.step < x.step ? y : x));
      return `${property}: ${vs.length} step(s); e.g. ${describeEvents(first.path.events.slice(0, first.step))} — ${first.detail}`;
    });
    expect(summary).toEqual([]);
  });
});

// Model-based tests of the Runner machine (machines/runner.ts, SPEC §7).
//
// @xstate/test supports only XState v4, so the paths come from its v5 successor @xstate/graph: a breadth-first
// traversal of the machine over a finite set of concrete events gives one shortest path to every distinct
// snapshot, and for every transition of the machine that none of those paths takes, one more path is added that
// ends in it (found by trying every event in every reached snapshot). Each path is then replayed on a real actor
// (effects provided as recorders, time from XState's SimulatedClock) and every step is checked against
// properties written from SPEC §2.2, §3 and §5, not from the machine's code. Coverage is measured, not assumed:
// the transitions of the machine are enumerated from its state nodes (`on` and `always`) and compared with the
// transitions the replays actually took (XState's `@xstate.microstep` inspection events).
import { getShortestPaths } from '@xstate/graph';
import { beforeAll, describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, type AnyStateNode, type AnyTransitionDefinition, type SnapshotFrom } from 'xstate';
import {
  RUNNER_STATES,
  runnerMachine,
  type RunnerContext,
  type RunnerEvent,
  type RunnerInputs,
  type RunnerMachineInput,
  type RunnerStateName,
} from '../../machines/runner.ts';
import { describeTransition } from '../../src/diagram.ts';

type RunnerSnapshot = SnapshotFrom<typeof runnerMachine>;
type EventOf<T extends RunnerEvent['type']> = Extract<RunnerEvent, { type: T }>;

// ---------------------------------------------------------------------------------------------
// The model: a finite set of concrete events.

/** Every event of the traversal carries this time, so time adds no states; replays re-stamp events from a clock. */
const AT = '2026-01-01T00:00:00.000Z';
/** Cron ticks, offered in increasing order only (the operator never sends a tick older than the latest one). */
const TICKS = ['T1', 'T2'] as const;
/** The key of a Job that is not the Runner's current run (an earlier run, or one that Replace stopped). */
const STALE_KEY = 'revision:r0';

const partsOf = (revision: string): string[] => [`Deployment shop/cart generation ${revision}`];

const READY: RunnerInputs = {
  valid: true,
  suspended: false,
  cycle: false,
  workloadsReady: true,
  upstreamReady: true,
  scheduled: false,
  concurrencyPolicy: 'Forbid',
  revision: 'r1',
  parts: partsOf('r1'),
  trigger: null,
};

/** Satisfied inputs in every combination of schedule, policy, revision and trigger; then each way to be blocked. */
const INPUT_VARIANTS: RunnerInputs[] = [
  ...[false, true].flatMap((scheduled) =>
    (['Forbid', 'Replace'] as const).flatMap((concurrencyPolicy) =>
      ['r1', 'r2'].flatMap((revision) =>
        [null, 't1'].map((trigger) => ({ ...READY, scheduled, concurrencyPolicy, revision, parts: partsOf(revision), trigger })),
      ),
    ),
  ),
  ...[false, true].flatMap((scheduled) => [
    { ...READY, scheduled, valid: false },
    { ...READY, scheduled, cycle: true },
    { ...READY, scheduled, suspended: true },
    { ...READY, scheduled, workloadsReady: false },
    { ...READY, scheduled, upstreamReady: false },
  ]),
];

const laterTicks = (s: RunnerSnapshot): string[] =>
  TICKS.filter((tick) => s.context.lastTick === null || tick > s.context.lastTick);

/**
 * The events offered in a snapshot, per event type. The mapped type makes `tsc` refuse this file when the machine
 * gains an event type; the first test below does the same for event types its transitions handle.
 */
const MODEL_EVENTS: { [T in RunnerEvent['type']]: (s: RunnerSnapshot) => EventOf<T>[] } = {
  INPUTS: () => INPUT_VARIANTS.map((inputs) => ({ type: 'INPUTS', at: AT, inputs })),
  TICK: (s) => laterTicks(s).map((tick) => ({ type: 'TICK', at: AT, tick })),
  'TICK.MISSED': (s) => laterTicks(s).map((tick) => ({ type: 'TICK.MISSED', at: AT, tick })),
  // The current run's Job finishing either way (while it runs, or delivered again after it finished), and a stale one.
  'JOB.FINISHED': (s) => [
    ...(s.context.run === null
      ? []
      : [true, false].map((succeeded) => ({
          type: 'JOB.FINISHED' as const,
          at: AT,
          key: s.context.run!.key,
          succeeded,
          message: succeeded ? 'Reached expected number of succeeded pods' : 'BackoffLimitExceeded',
        }))),
    { type: 'JOB.FINISHED', at: AT, key: STALE_KEY, succeeded: false, message: 'BackoffLimitExceeded' },
  ],
};

const modelEvents = (s: RunnerSnapshot): RunnerEvent[] => Object.values(MODEL_EVENTS).flatMap((offer) => offer(s));

/** A new Runner whose workloads are still rolling out. */
const INITIAL: RunnerMachineInput = { inputs: { ...READY, workloadsReady: false }, at: AT };

/**
 * Identity of a snapshot for the traversal: value and context, less the fields that only record history for the
 * status (they never decide a transition, and keeping them would multiply the states without new behaviour).
 */
function graphKey(s: RunnerSnapshot, replacer?: (key: string, value: unknown) => unknown): string {
  const { lastSkippedTick: _skipped, run, ...context } = s.context;
  const { previousParts: _previous, ...runRest } = run ?? { previousParts: null };
  return JSON.stringify([s.value, context, run === null ? null : runRest], replacer);
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
/** graphKey with every timestamp blanked: a replay at other times must reach the same node of the graph. */
const timeless = (s: RunnerSnapshot): string =>
  graphKey(s, (_k, v) => (typeof v === 'string' && ISO_TIME.test(v) ? '<time>' : v));

// ---------------------------------------------------------------------------------------------
// The machine's states and transitions, enumerated from its definition.

const allStateNodes = (node: AnyStateNode): AnyStateNode[] => [node, ...Object.values(node.states).flatMap(allStateNodes)];
const ownTransitions = (node: AnyStateNode): AnyTransitionDefinition[] => [
  ...[...node.transitions.values()].flat(),
  ...(node.always ?? []),
];

/** Stable across `machine.provide(...)` copies: source state, event type ('' = always), position. */
function transitionKey(t: AnyTransitionDefinition): string {
  const siblings = t.eventType === '' ? (t.source.always ?? []) : (t.source.transitions.get(t.eventType) ?? []);
  return `${t.source.id}|${t.eventType}|${siblings.indexOf(t)}`;
}

const MACHINE_STATES: string[] = allStateNodes(runnerMachine.root)
  .filter((n) => n !== runnerMachine.root)
  .map((n) => n.key);
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
// Paths.

interface ModelPath {
  events: RunnerEvent[];
  /** The traversal's snapshot after each event. */
  expected: RunnerSnapshot[];
}

/** Transitions taken when `event` is sent to an actor restored from `snapshot` (the plain machine). */
function probe(snapshot: RunnerSnapshot, event: RunnerEvent): { taken: string[]; next: RunnerSnapshot } {
  const taken: string[] = [];
  const actor = createActor(runnerMachine, {
    snapshot: runnerMachine.getPersistedSnapshot(snapshot) as RunnerSnapshot,
    inspect: (e) => {
      if (e.type === '@xstate.microstep') for (const t of e._transitions) taken.push(transitionKey(t));
    },
  }).start();
  actor.send(event);
  const next = actor.getSnapshot();
  actor.stop();
  return { taken, next };
}

function generatePaths(): { paths: ModelPath[]; snapshots: number } {
  const t0 = performance.now();
  const shortest = getShortestPaths(runnerMachine, { input: INITIAL, events: modelEvents, serializeState: (s) => graphKey(s) });
  console.log('shortest', performance.now() - t0);
  // After @xstate/graph's alterPath, steps[0] is the initial snapshot and steps[i] the snapshot after steps[i].event.
  const statePaths: ModelPath[] = shortest.map((p) => ({
    events: p.steps.slice(1).map((s) => s.event),
    expected: p.steps.slice(1).map((s) => s.state),
  }));

  // Transitions on the shortest-path tree: every step of every path is the last step of some path.
  const covered = new Set<string>();
  for (const p of shortest) {
    const last = p.steps.length - 1;
    const before = p.steps[last - 1];
    const step = p.steps[last];
    if (before !== undefined && step !== undefined) for (const k of probe(before.state, step.event).taken) covered.add(k);
  }
  // For each transition still not taken, the first edge (in breadth-first order) that takes it.
  const extensions: ModelPath[] = [];
  const uncovered = () => [...MACHINE_TRANSITIONS.keys()].filter((k) => !covered.has(k)).length;
  search: for (const [i, p] of shortest.entries()) {
    for (const event of modelEvents(p.state)) {
      if (uncovered() === 0) break search;
      const { taken, next } = probe(p.state, event);
      if (taken.some((k) => !covered.has(k))) {
        for (const k of taken) covered.add(k);
        const base = statePaths[i]!;
        extensions.push({ events: [...base.events, event], expected: [...base.expected, next] });
      }
    }
  }

  // A path that is a prefix of another one is checked as part of it.
  const all = [...statePaths, ...extensions].sort((a, b) => b.events.length - a.events.length);
  const prefixes = new Set<string>();
  const kept: ModelPath[] = [];
  for (const p of all) {
    const keys = p.events.map((e) => JSON.stringify(e));
    if (prefixes.has(keys.join('\n'))) continue;
    kept.push(p);
    for (let n = 0; n <= keys.length; n++) prefixes.add(keys.slice(0, n).join('\n'));
  }
  return { paths: kept, snapshots: shortest.length };
}

// ---------------------------------------------------------------------------------------------
// Replay on a real actor, with recorded effects and a simulated clock.

type Effect =
  | { type: 'startJob' | 'stopJob' | 'runStarted'; key: string | null }
  | { type: 'runFinished'; key: string | null; result: string | null }
  | { type: 'tickSkipped'; tick: string | null };

const recorder = { effects: [] as Effect[] };
const recordingMachine = runnerMachine.provide({
  actions: {
    startJob: ({ context }) => void recorder.effects.push({ type: 'startJob', key: context.run?.key ?? null }),
    stopJob: ({ context }) => void recorder.effects.push({ type: 'stopJob', key: context.run?.key ?? null }),
    runStarted: ({ context }) => void recorder.effects.push({ type: 'runStarted', key: context.run?.key ?? null }),
    runFinished: ({ context }) =>
      void recorder.effects.push({ type: 'runFinished', key: context.run?.key ?? null, result: context.run?.result ?? null }),
    tickSkipped: ({ event }) => void recorder.effects.push({ type: 'tickSkipped', tick: 'tick' in event ? event.tick : null }),
  },
});

function effectsOf(run: () => void): Effect[] {
  recorder.effects = [];
  run();
  const effects = recorder.effects;
  recorder.effects = [];
  return effects;
}

const persisted = (actor: { getPersistedSnapshot: () => unknown }): RunnerSnapshot =>
  JSON.parse(JSON.stringify(actor.getPersistedSnapshot())) as RunnerSnapshot;
const valueAndContext = (s: RunnerSnapshot): string => JSON.stringify({ value: s.value, context: s.context });

interface Step {
  before: RunnerSnapshot;
  event: RunnerEvent;
  after: RunnerSnapshot;
  effects: Effect[];
}

interface Violation {
  property: string;
  detail: string;
  path: ModelPath;
  step: number;
}

interface Replay {
  violations: Violation[];
  taken: Set<string>;
  states: Set<string>;
}

const START_MS = Date.parse('2026-03-01T09:00:00.000Z');
const STEP_MS = 60_000;

function replay(path: ModelPath, into: Replay): void {
  const clock = new SimulatedClock();
  clock.set(START_MS);
  const now = () => new Date(clock.now()).toISOString();
  const report = (step: number) => (property: string, detail: string) =>
    void into.violations.push({ property, detail, path, step });

  const actor = createActor(recordingMachine, {
    input: { ...INITIAL, at: now() },
    clock,
    inspect: (e) => {
      if (e.type === '@xstate.microstep') for (const t of e._transitions) into.taken.add(transitionKey(t));
    },
  });
  const initialEffects = effectsOf(() => actor.start());
  let before = actor.getSnapshot();
  into.states.add(String(before.value));
  checkSnapshot(before, report(0));
  if (initialEffects.length > 0 && before.value !== 'Running') report(0)('start-once', `effects at creation: ${show(initialEffects)}`);

  for (const [i, traversed] of path.events.entries()) {
    const fail = report(i + 1);
    clock.increment(STEP_MS);
    const event = { ...traversed, at: now() };

    // An operator restart between any two events: restored from the JSON of the persisted snapshot.
    const restoredSnapshot = persisted(actor);
    const restored = createActor(recordingMachine, { snapshot: restoredSnapshot, clock });
    const restoreEffects = effectsOf(() => restored.start());
    if (valueAndContext(restored.getSnapshot()) !== valueAndContext(before))
      fail('restart', `restored snapshot differs: ${valueAndContext(restored.getSnapshot())}`);
    if (restoreEffects.length > 0) fail('restart', `restoring emitted ${show(restoreEffects)}`);

    const effects = effectsOf(() => actor.send(event));
    const after = actor.getSnapshot();
    into.states.add(String(after.value));

    const restoredEffects = effectsOf(() => restored.send(event));
    if (valueAndContext(restored.getSnapshot()) !== valueAndContext(after) || show(restoredEffects) !== show(effects))
      fail('restart', `a restored actor reacts differently to ${show([event])}: ${show(restoredEffects)} vs ${show(effects)}`);
    restored.stop();

    const expected = path.expected[i];
    if (expected === undefined || timeless(after) !== timeless(expected))
      fail('deterministic', `replay gives ${timeless(after)}, the traversal gave ${expected && timeless(expected)}`);

    checkSnapshot(after, fail);
    checkStep({ before, event, after, effects }, fail);
    before = after;
  }
  actor.stop();
}

const show = (x: unknown[]): string => x.map((e) => JSON.stringify(e)).join(', ') || '(none)';

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
  return c.run?.result === 'Failed' ? 'Failed' : 'Succeeded';
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

type Fail = (property: string, detail: string) => void;

function checkSnapshot(s: RunnerSnapshot, fail: Fail): void {
  const value = String(s.value);
  const c = s.context;
  if (!(RUNNER_STATES as readonly string[]).includes(value)) fail('state-name', `${value} is not in RUNNER_STATES`);
  if ((value === 'Running') !== isActive(c))
    fail('running-iff-active-run', `state ${value} with run ${JSON.stringify(c.run)}`);
  if (value !== 'Running') {
    if (value !== expectedRestingState(c)) fail('rests-where-inputs-say', `in ${value}, expected ${expectedRestingState(c)}`);
    if (runOwed(c)) fail('rests-where-inputs-say', `resting in ${value} while a run is owed`);
  }
  if (c.lastRevision !== (c.run?.revision ?? null)) fail('run-record', `lastRevision ${c.lastRevision} vs run ${c.run?.revision}`);
  if (c.run !== null) {
    const expectedKey =
      c.run.reason === 'Revision'
        ? `revision:${c.run.revision}`
        : c.run.reason === 'Schedule'
          ? `schedule:${c.run.tick}`
          : `manual:${c.lastTrigger}:${c.run.revision}`;
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
    if (after.value !== 'Running' || a.run?.key !== started.at(-1))
      fail('start-once', `started ${started.join()} but ended in ${after.value} with run ${a.run?.key}`);
    if (started[0] === b.run?.key) fail('start-once', `started ${started[0]} again, the key of the previous run`);
    if (a.run?.startedAt !== event.at) fail('run-record', `run started at ${a.run?.startedAt}, event at ${event.at}`);
    if (a.run?.revision !== a.inputs.revision) fail('run-record', `run for ${a.run?.revision}, inputs at ${a.inputs.revision}`);
  } else if (a.run?.key !== b.run?.key) {
    fail('start-once', `run changed from ${b.run?.key} to ${a.run?.key} without startJob`);
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
        if (after.value !== before.value || a.lastSkippedTick !== event.tick || a.dueTick !== b.dueTick)
          fail('tick', `skipped tick changed state ${before.value}→${after.value}, dueTick ${b.dueTick}→${a.dueTick}`);
      } else {
        if (of('tickSkipped').length > 0) fail('tick', `a tick that can run was skipped: ${show(effects)}`);
        const ranNow = started.includes(`schedule:${event.tick}`);
        const remembered =
          isActive(b) && b.inputs.concurrencyPolicy === 'Forbid' && a.dueTick === event.tick && a.run?.key === b.run?.key;
        if (!ranNow && !remembered) fail('tick', `tick ${event.tick} neither ran nor was remembered: ${show(effects)}`);
      }
      break;
    }
    case 'TICK.MISSED': {
      if (show(effects) !== show([{ type: 'tickSkipped', tick: event.tick }])) fail('tick-missed', `emitted ${show(effects)}`);
      const expected = { ...b, now: event.at, lastTick: event.tick, lastSkippedTick: event.tick };
      if (after.value !== before.value || JSON.stringify(a) !== JSON.stringify(expected))
        fail('tick-missed', `changed ${before.value}→${after.value} ${JSON.stringify(a)}`);
      break;
    }
    case 'JOB.FINISHED': {
      if (isActive(b) && b.run?.key === event.key) {
        const result = event.succeeded ? 'Succeeded' : 'Failed';
        if (show(of('runFinished')) !== show([{ type: 'runFinished', key: event.key, result }]))
          fail('job-finished', `runFinished effects ${show(of('runFinished'))}`);
        if ((event.succeeded ? a.lastSucceededAt : a.lastFailedAt) !== event.at) fail('job-finished', 'result time not recorded');
        if (started.length === 0 && (a.run?.result !== result || a.run.finishedAt !== event.at || a.run.message !== event.message))
          fail('job-finished', `run record ${JSON.stringify(a.run)}`);
      } else if (effects.length > 0 || after.value !== before.value || JSON.stringify(a) !== JSON.stringify(b)) {
        // The result of a Job that is not the active run changes nothing.
        fail('job-finished', `stale result for ${event.key} changed ${before.value}→${after.value}, effects ${show(effects)}`);
      }
      break;
    }
  }
}

// ---------------------------------------------------------------------------------------------

function describePath(p: ModelPath, upTo = p.events.length): string {
  return (
    p.events
      .slice(0, upTo)
      .map((e) => {
        switch (e.type) {
          case 'INPUTS': {
            const i = e.inputs;
            const blocked = [
              !i.valid && 'invalid',
              i.cycle && 'cycle',
              i.suspended && 'suspended',
              !i.workloadsReady && 'workloads-not-ready',
              !i.upstreamReady && 'upstream-not-ready',
            ].filter(Boolean);
            const what = [blocked.length ? blocked.join('+') : 'ready', i.scheduled ? 'scheduled' : 'unscheduled', i.concurrencyPolicy, i.revision];
            return `INPUTS(${[...what, ...(i.trigger === null ? [] : [`trigger=${i.trigger}`])].join(' ')})`;
          }
          case 'TICK':
          case 'TICK.MISSED':
            return `${e.type}(${e.tick})`;
          case 'JOB.FINISHED':
            return `JOB.FINISHED(${e.key} ${e.succeeded ? 'succeeded' : 'failed'})`;
        }
      })
      .join(' → ') || '(initial)'
  );
}

describe('Runner machine, model-based (@xstate/graph)', () => {
  const result: Replay = { violations: [], taken: new Set(), states: new Set() };
  let paths: ModelPath[] = [];
  let snapshots = 0;

  beforeAll(() => {
    const t0 = performance.now();
    ({ paths, snapshots } = generatePaths());
    const t1 = performance.now();
    for (const p of paths) replay(p, result);
    console.log('gen', t1 - t0, 'replay', performance.now() - t1);
    const states = MACHINE_STATES.filter((s) => result.states.has(s)).length;
    const transitions = [...MACHINE_TRANSITIONS.keys()].filter((k) => result.taken.has(k)).length;
    console.log(
      `model coverage: states ${states}/${MACHINE_STATES.length}, transitions ${transitions}/${MACHINE_TRANSITIONS.size}, ` +
        `paths ${paths.length} (${snapshots} distinct snapshots, ${paths.reduce((n, p) => n + p.events.length, 0)} steps)`,
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

  it('takes every transition of the machine (an unreachable one is a machine bug)', () => {
    const missing = [...MACHINE_TRANSITIONS.entries()].filter(([k]) => !result.taken.has(k)).map(([, label]) => label);
    expect(missing, `transitions no path takes (${missing.length} of ${MACHINE_TRANSITIONS.size})`).toEqual([]);
  });

  it('keeps every property at every step of every path', () => {
    const byProperty = new Map<string, Violation[]>();
    for (const v of result.violations) byProperty.set(v.property, [...(byProperty.get(v.property) ?? []), v]);
    const summary = [...byProperty.entries()].map(([property, vs]) => {
      const first = vs.reduce((x, y) => (y.step < x.step ? y : x));
      return `${property}: ${vs.length} step(s); shortest: ${describePath(first.path, first.step)} — ${first.detail}`;
    });
    expect(summary).toEqual([]);
  });
});

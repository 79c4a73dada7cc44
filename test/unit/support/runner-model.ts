// The model the Runner machine's tests walk: a finite set of concrete events offered in each snapshot, the effects
// recorded as data, and the identity of a snapshot for the walk. Shared by the model-based suite
// (machine-model.test.ts) and the equivalence test (machine-equivalence.test.ts); it works for any machine with the
// Runner's context, events and effect actions.
import type { AnyActorLogic, AnyStateMachine, AnyStateNode } from 'xstate';
import type { RunnerContext, RunnerEvent, RunnerInputs, RunnerMachineInput } from '../../../machines/runner.ts';
import { runnerStateOf } from '../../../machines/runner-snapshot.ts';

/** What the model needs of a snapshot (either machine's). */
export interface ModelSnapshot {
  value: unknown;
  context: RunnerContext;
}
export type EventOf<T extends RunnerEvent['type']> = Extract<RunnerEvent, { type: T }>;

/** Every event of the traversal carries this time, so time adds no states; replays re-stamp events from a clock. */
export const AT = '2026-01-01T00:00:00.000Z';
/** Cron ticks, offered in increasing order only (the operator never sends a tick older than the latest one). */
const TICKS = ['T1', 'T2'] as const;
/** The number that starts a run key (`<n>:revision:r1` → 1). */
export const RUN_NUMBER = /^(\d+):/;

/**
 * The key of a Job that is not the Runner's current run: the current key with an earlier run number (a Job of an
 * earlier run for the same revision, tick or trigger, as after a rollback, or one that Replace stopped), or, before any
 * run, a key no run has.
 */
const staleKey = (s: ModelSnapshot): string =>
  s.context.run === null ? '0:revision:r1' : s.context.run.key.replace(RUN_NUMBER, `${s.context.runs - 1}:`);

const partsOf = (revision: string): string[] => [`Deployment shop/cart generation ${revision}`];

export const READY: RunnerInputs = {
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

/** The ways to be blocked, in the order in which they decide the state (SPEC §5 `state`). */
const BLOCKERS: Partial<RunnerInputs>[] = [
  { valid: false },
  { cycle: true },
  { suspended: true },
  { workloadsReady: false },
  { upstreamReady: false },
];

/**
 * Satisfied inputs in every combination of schedule, policy, revision and trigger; each way to be blocked, scheduled
 * or not; and each blocker together with all that come after it, so that their order matters.
 */
const INPUT_VARIANTS: RunnerInputs[] = [
  ...[false, true].flatMap((scheduled) =>
    (['Forbid', 'Replace'] as const).flatMap((concurrencyPolicy) =>
      ['r1', 'r2'].flatMap((revision) =>
        [null, 't1'].map((trigger) => ({ ...READY, scheduled, concurrencyPolicy, revision, parts: partsOf(revision), trigger })),
      ),
    ),
  ),
  ...[false, true].flatMap((scheduled) => BLOCKERS.map((blocker) => ({ ...READY, scheduled, ...blocker }))),
  ...BLOCKERS.slice(0, -1).map((_, i) => Object.assign({ ...READY }, ...BLOCKERS.slice(i)) as RunnerInputs),
];

const laterTicks = (s: ModelSnapshot): string[] =>
  TICKS.filter((tick) => s.context.lastTick === null || tick > s.context.lastTick);

/**
 * The events offered in a snapshot, per event type. The mapped type makes `tsc` refuse this file when the machine
 * gains an event type; the model-based suite does the same for event types its transitions handle.
 */
export const MODEL_EVENTS: { [T in RunnerEvent['type']]: (s: ModelSnapshot) => EventOf<T>[] } = {
  INPUTS: () => INPUT_VARIANTS.map((inputs) => ({ type: 'INPUTS', at: AT, inputs })),
  TICK: (s) => laterTicks(s).map((tick) => ({ type: 'TICK', at: AT, tick })),
  'TICK.MISSED': (s) => laterTicks(s).map((tick) => ({ type: 'TICK.MISSED', at: AT, tick })),
  // The current run's Job succeeding, failing, or ended by the infrastructure (while it runs, or delivered again after
  // it finished), and a stale one.
  'JOB.FINISHED': (s) => [
    ...[s.context.run?.key ?? []].flat().flatMap((key) => [
      { type: 'JOB.FINISHED' as const, at: AT, key, succeeded: true, message: 'Reached expected number of succeeded pods' },
      { type: 'JOB.FINISHED' as const, at: AT, key, succeeded: false, message: 'BackoffLimitExceeded' },
      { type: 'JOB.FINISHED' as const, at: AT, key, succeeded: false, message: 'DeadlineExceeded', findings: { errorReason: 'DeadlineExceeded' } },
    ]),
    { type: 'JOB.FINISHED', at: AT, key: staleKey(s), succeeded: false, message: 'BackoffLimitExceeded' },
  ],
};

const OFFERS: ((s: ModelSnapshot) => RunnerEvent[])[] = Object.values(MODEL_EVENTS);
export const modelEvents = (s: ModelSnapshot): RunnerEvent[] => OFFERS.flatMap((offer) => offer(s));

/** A new Runner whose workloads are still rolling out. */
export const INITIAL: RunnerMachineInput = { inputs: { ...READY, workloadsReady: false }, at: AT };

/** The Runner state (status.state) of a snapshot of either machine: the current one's leaf, or the earlier one's name. */
export const stateName = (s: { value: unknown }): string =>
  runnerStateOf(s.value) ?? (typeof s.value === 'string' ? s.value : JSON.stringify(s.value));

/**
 * Identity of a snapshot for the traversal: its Runner state and context, less the fields that only record history
 * for the status (the previous run's parts and result, the last times; they never decide a transition, and keeping them would multiply the states without new behaviour),
 * and less the run number (`runs`, and the `<n>:` that starts the run key). The run number grows with every run, so
 * with it the graph would be infinite; no guard reads it, it only makes keys unique, and the model's events name keys
 * relative to the snapshot (the current run's key, or the same with an earlier number). Snapshots that differ only in
 * it therefore behave alike.
 */
export function snapshotText(s: ModelSnapshot, replacer?: (key: string, value: unknown) => unknown): string {
  const { lastSkippedTick: _skipped, lastSucceededAt: _succeeded, lastFailedAt: _failed, runs: _runs, run, ...context } = s.context;
  const { previousParts: _previous, previousResult: _result, key, ...runRest } = run ?? { previousParts: null, previousResult: null, key: '' };
  return JSON.stringify([stateName(s), context, run === null ? null : { ...runRest, key: key.replace(RUN_NUMBER, '<n>:') }], replacer);
}

// ---------------------------------------------------------------------------------------------
// Effects, recorded.

export type Effect =
  | { type: 'startJob'; key: string | null }
  | { type: 'stopJob'; key: string | null }
  | { type: 'runStarted'; key: string | null }
  | { type: 'runFinished'; key: string | null; result: string | null }
  | { type: 'tickSkipped'; tick: string | null };

const recorder = { effects: [] as Effect[] };
type ActionArgs = { context: RunnerContext };

/** The machine with its effects recorded (read them with `effectsOf`). */
export function recording<M extends AnyStateMachine>(machine: M): M {
  const push = (e: Effect) => void recorder.effects.push(e);
  return machine.provide({
    actions: {
      startJob: ({ context }: ActionArgs) => push({ type: 'startJob', key: context.run?.key ?? null }),
      stopJob: ({ context }: ActionArgs) => push({ type: 'stopJob', key: context.run?.key ?? null }),
      runStarted: ({ context }: ActionArgs) => push({ type: 'runStarted', key: context.run?.key ?? null }),
      runFinished: ({ context }: ActionArgs) =>
        push({ type: 'runFinished', key: context.run?.key ?? null, result: context.run?.result ?? null }),
      // As src/runner-effects.ts does, the skipped tick is read from the context (the event may be a JOB.FINISHED).
      tickSkipped: ({ context }: ActionArgs) => push({ type: 'tickSkipped', tick: context.lastSkippedTick }),
    },
  } as never) as M;
}

/** The effects that `run` caused. */
export function effectsOf(run: () => void): Effect[] {
  recorder.effects = [];
  run();
  const effects = recorder.effects;
  recorder.effects = [];
  return effects;
}

export const show = (x: unknown[]): string => x.map((e) => JSON.stringify(e)).join(', ') || '(none)';

// ---------------------------------------------------------------------------------------------
// The machine's own structure.

export const allStateNodes = (node: AnyStateNode): AnyStateNode[] => [node, ...Object.values(node.states).flatMap(allStateNodes)];

/** A state's transitions: on events, then eventless. */
export const ownTransitions = (node: AnyStateNode) => [...[...node.transitions.values()].flat(), ...(node.always ?? [])];

/** A scope for calling a machine's transition function directly, as @xstate/graph does, with effects executed. */
export function directScope(self: { system: unknown }): Parameters<AnyActorLogic['transition']>[2] {
  return {
    self,
    system: self.system,
    id: 'model',
    sessionId: 'model',
    logger: () => {},
    defer: () => {},
    emit: () => {},
    stopChild: () => {},
    actionExecutor: (action: { exec?: (info: unknown, params: unknown) => void; info: unknown; params: unknown }) =>
      action.exec?.(action.info, action.params),
  } as never;
}

export function describeEvents(events: RunnerEvent[]): string {
  return (
    events
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

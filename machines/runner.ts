// The Runner state machine: pure XState v5, no I/O, no clock, no Kubernetes types.
//
// The operator describes the world to the machine with events (INPUTS, TICK, JOB.FINISHED),
// each stamped with the operator's time in `at`, and supplies the effectful actions
// (startJob, stopJob, runStarted, runFinished, tickSkipped) with `runnerMachine.provide(...)`.
// Every state name is a value of the Runner's `status.state`.
import { and, assign, setup } from 'xstate';

export const RUNNER_STATES = [
  'Invalid',
  'Stalled',
  'Suspended',
  'WaitingForWorkloads',
  'WaitingForUpstream',
  'Scheduled',
  'Running',
  'Succeeded',
  'Failed',
] as const;
export type RunnerStateName = (typeof RUNNER_STATES)[number];

/** What the operator observed about a Runner's inputs, reduced to what decides behaviour. */
export interface RunnerInputs {
  /** The spec passed validation. */
  valid: boolean;
  suspended: boolean;
  /** The Runner is part of a dependency cycle. */
  cycle: boolean;
  /** Every selected workload is ready and at least one matched (true without a workloadSelector). */
  workloadsReady: boolean;
  /** Every selected upstream's latest run succeeded (true without a runnerSelector). */
  upstreamReady: boolean;
  /** The spec has a `schedule`: runs happen at ticks, not on new revisions. */
  scheduled: boolean;
  concurrencyPolicy: 'Forbid' | 'Replace';
  /** Identity of the inputs (SPEC §3.3); an event-triggered Runner runs once per value. */
  revision: string;
  /** The parts the revision is made of, kept so a run can say what triggered it. */
  parts: readonly string[];
  /** Value of the manual-trigger annotation, or null. */
  trigger: string | null;
}

export type RunReason = 'Revision' | 'Schedule' | 'Manual';
export type RunResult = 'Succeeded' | 'Failed';

export interface RunRecord {
  /** Unique key of the run; the operator derives the Job name from it. */
  key: string;
  reason: RunReason;
  revision: string;
  parts: readonly string[];
  /** Parts of the previous run, so the trigger ("rollout of X") can be told. */
  previousParts: readonly string[] | null;
  /** The tick this run is for (scheduled runs). */
  tick: string | null;
  startedAt: string;
  finishedAt: string | null;
  result: RunResult | null;
  message: string | null;
}

export interface RunnerContext {
  inputs: RunnerInputs;
  /** Revision of the latest run started (any reason). */
  lastRevision: string | null;
  /** Trigger value already consumed (a run was started for it, or it was the baseline). */
  lastTrigger: string | null;
  /** A tick that arrived while a run could start, not started yet (e.g. during a run under Forbid). */
  dueTick: string | null;
  /** The latest tick handled (run or skipped); the operator schedules the next one after it. */
  lastTick: string | null;
  lastSkippedTick: string | null;
  /** The latest run; active while the state is Running. */
  run: RunRecord | null;
  lastSucceededAt: string | null;
  lastFailedAt: string | null;
  /** When the workloads stopped being ready (cleared when they are ready again). */
  progressingSince: string | null;
  /** Time of the latest event, so transitions without an event of their own have a time. */
  now: string;
  /** Runs started so far; part of each run key, so a revision seen again (a rollback) is a new run. */
  runs: number;
}

export type RunnerEvent =
  | { type: 'INPUTS'; at: string; inputs: RunnerInputs }
  | { type: 'TICK'; at: string; tick: string }
  /** A tick that passed while the operator could not act (down, or past startingDeadlineSeconds). */
  | { type: 'TICK.MISSED'; at: string; tick: string }
  | { type: 'JOB.FINISHED'; at: string; key: string; succeeded: boolean; message: string };

export interface RunnerMachineInput {
  inputs: RunnerInputs;
  at: string;
}

// ---------------------------------------------------------------------------------------------
// Pure decisions, exported for unit tests and for the operator's status rendering.

/**
 * Whether two observations are the same. Field by field, not by serialising: a snapshot restored
 * from the API server has its keys in another order, and that must not count as a change.
 */
export function sameInputs(a: RunnerInputs, b: RunnerInputs): boolean {
  return (
    a.valid === b.valid &&
    a.suspended === b.suspended &&
    a.cycle === b.cycle &&
    a.workloadsReady === b.workloadsReady &&
    a.upstreamReady === b.upstreamReady &&
    a.scheduled === b.scheduled &&
    a.concurrencyPolicy === b.concurrencyPolicy &&
    a.revision === b.revision &&
    a.trigger === b.trigger &&
    a.parts.length === b.parts.length &&
    a.parts.every((part, i) => part === b.parts[i])
  );
}

export const inputsSatisfied = (i: RunnerInputs): boolean =>
  i.valid && !i.cycle && !i.suspended && i.workloadsReady && i.upstreamReady;

/** Why a run is due now, or null when none is. */
export function dueRunReason(ctx: RunnerContext): RunReason | null {
  const i = ctx.inputs;
  if (!inputsSatisfied(i)) return null;
  if (i.trigger !== null && i.trigger !== ctx.lastTrigger) return 'Manual';
  if (i.scheduled) return ctx.dueTick !== null ? 'Schedule' : null;
  return i.revision !== ctx.lastRevision ? 'Revision' : null;
}

/** The state a Runner that is not running belongs in. */
export function restingState(ctx: RunnerContext): RunnerStateName {
  const i = ctx.inputs;
  if (!i.valid) return 'Invalid';
  if (i.cycle) return 'Stalled';
  if (i.suspended) return 'Suspended';
  if (!i.workloadsReady) return 'WaitingForWorkloads';
  if (!i.upstreamReady) return 'WaitingForUpstream';
  if (dueRunReason(ctx) !== null) return 'Running';
  if (i.scheduled) return 'Scheduled';
  return ctx.run?.result === 'Failed' ? 'Failed' : 'Succeeded';
}

/** `<run number>:<reason>:<what>`: unique per run, and the same again after a restart that lost it. */
export const runKeyFor = (ctx: RunnerContext, reason: RunReason): string => {
  const n = ctx.runs + 1;
  switch (reason) {
    case 'Manual':
      return `${n}:manual:${ctx.inputs.trigger}:${ctx.inputs.revision}`;
    case 'Schedule':
      return `${n}:schedule:${ctx.dueTick}`;
    case 'Revision':
      return `${n}:revision:${ctx.inputs.revision}`;
  }
};

/** A tick can start a run (now or, under Forbid, after the active one). */
const tickCanRun = (ctx: RunnerContext): boolean => ctx.inputs.scheduled && inputsSatisfied(ctx.inputs);

const eventTime = (event: { type: string }, ctx: RunnerContext): string =>
  'at' in event && typeof event.at === 'string' ? event.at : ctx.now;

const runIsActive = (ctx: RunnerContext): boolean => ctx.run !== null && ctx.run.result === null;

// ---------------------------------------------------------------------------------------------

const restsIn = (state: RunnerStateName) => ({ type: 'restsIn', params: { state } }) as const;

const AFTER_A_RUN: readonly RunnerStateName[] = ['Succeeded', 'Failed'];

/** Targets reachable from a resting state: not itself, and not Succeeded <-> Failed (only a run changes that). */
const restingTargets = (from: RunnerStateName) =>
  RUNNER_STATES.filter((s) => s !== from && s !== 'Running' && !(AFTER_A_RUN.includes(from) && AFTER_A_RUN.includes(s)));

/** From a resting state, go where `restingState` says (staying put is no transition). */
const restingNode = (from: RunnerStateName) => ({
  always: [
    ...restingTargets(from).map((state) => ({ guard: restsIn(state), target: state })),
    { guard: restsIn('Running'), target: 'Running', actions: 'beginRun' as const },
  ],
});

export const runnerMachine = setup({
  types: {
    context: {} as RunnerContext,
    events: {} as RunnerEvent,
    input: {} as RunnerMachineInput,
  },
  guards: {
    restsIn: ({ context }, params: { state: RunnerStateName }) => restingState(context) === params.state,
    isActiveRun: ({ context, event }) =>
      event.type === 'JOB.FINISHED' && runIsActive(context) && context.run?.key === event.key,
    inputsChanged: ({ context, event }) =>
      event.type === 'INPUTS' && !sameInputs(event.inputs, context.inputs),
    tickCanRun: ({ context }) => tickCanRun(context),
    dueTickBlocked: ({ context }) => context.dueTick !== null && !tickCanRun(context),
    runFinished: ({ context }) => !runIsActive(context),
    replaceDue: ({ context }) =>
      runIsActive(context) && context.inputs.concurrencyPolicy === 'Replace' && dueRunReason(context) !== null,
  },
  actions: {
    // Effects, implemented by the operator (src/runner-effects.ts).
    startJob: () => {},
    stopJob: () => {},
    runStarted: () => {},
    runFinished: () => {},
    tickSkipped: () => {},

    recordInputs: assign(({ context, event }) => {
      if (event.type !== 'INPUTS') return {};
      const becameNotReady = !event.inputs.workloadsReady && context.progressingSince === null;
      return {
        now: event.at,
        inputs: event.inputs,
        progressingSince: event.inputs.workloadsReady ? null : becameNotReady ? event.at : context.progressingSince,
      };
    }),
    rememberTick: assign(({ event }) => (event.type === 'TICK' ? { now: event.at, dueTick: event.tick, lastTick: event.tick } : {})),
    skipTick: assign(({ event }) =>
      event.type === 'TICK' || event.type === 'TICK.MISSED' ? { now: event.at, lastTick: event.tick, lastSkippedTick: event.tick } : {}),
    skipDueTick: assign(({ context }) => ({ lastSkippedTick: context.dueTick, dueTick: null })),
    beginRun: assign(({ context, event }) => {
      const reason = dueRunReason(context) ?? 'Revision';
      const run: RunRecord = {
        key: runKeyFor(context, reason),
        reason,
        revision: context.inputs.revision,
        parts: context.inputs.parts,
        previousParts: context.run?.parts ?? null,
        tick: reason === 'Schedule' ? context.dueTick : null,
        startedAt: eventTime(event, context),
        finishedAt: null,
        result: null,
        message: null,
      };
      return {
        run,
        runs: context.runs + 1,
        lastRevision: context.inputs.revision,
        lastTrigger: context.inputs.trigger,
        // Under Replace a tick still due would replace this very run at once; it is served by it —
        // unless the Runner is no longer scheduled: then the tick is skipped, visibly, when the run ends.
        dueTick:
          reason === 'Schedule' || (context.inputs.concurrencyPolicy === 'Replace' && context.inputs.scheduled)
            ? null
            : context.dueTick,
      };
    }),
    recordResult: assign(({ context, event }) => {
      if (event.type !== 'JOB.FINISHED' || context.run === null) return {};
      const result: RunResult = event.succeeded ? 'Succeeded' : 'Failed';
      return {
        now: event.at,
        run: { ...context.run, finishedAt: event.at, result, message: event.message },
        ...(event.succeeded ? { lastSucceededAt: event.at } : { lastFailedAt: event.at }),
      };
    }),
  },
}).createMachine({
  id: 'runner',
  context: ({ input }) => ({
    inputs: input.inputs,
    lastRevision: null,
    // The trigger value present when a Runner is first seen is a baseline, not a request.
    lastTrigger: input.inputs.trigger,
    dueTick: null,
    lastTick: null,
    lastSkippedTick: null,
    run: null,
    lastSucceededAt: null,
    lastFailedAt: null,
    progressingSince: input.inputs.workloadsReady ? null : input.at,
    now: input.at,
    runs: 0,
  }),
  initial: 'WaitingForWorkloads',
  on: {
    // Inputs equal to those known change nothing (not even `now`): no snapshot churn, no status write.
    INPUTS: { guard: 'inputsChanged', actions: 'recordInputs' },
    TICK: [
      { guard: 'tickCanRun', actions: 'rememberTick' },
      { actions: ['skipTick', 'tickSkipped'] },
    ],
    'TICK.MISSED': { actions: ['skipTick', 'tickSkipped'] },
  },
  states: {
    Invalid: restingNode('Invalid'),
    Stalled: restingNode('Stalled'),
    Suspended: restingNode('Suspended'),
    WaitingForWorkloads: restingNode('WaitingForWorkloads'),
    WaitingForUpstream: restingNode('WaitingForUpstream'),
    Scheduled: restingNode('Scheduled'),
    Succeeded: restingNode('Succeeded'),
    Failed: restingNode('Failed'),
    Running: {
      entry: ['startJob', 'runStarted'],
      on: {
        'JOB.FINISHED': [
          // A tick remembered during the run (Forbid) is skipped if the inputs are not satisfied when it ends.
          { guard: and(['isActiveRun', 'dueTickBlocked']), actions: ['recordResult', 'runFinished', 'skipDueTick', 'tickSkipped'] },
          { guard: 'isActiveRun', actions: ['recordResult', 'runFinished'] },
        ],
      },
      always: [
        { guard: 'replaceDue', target: 'Running', reenter: true, actions: ['stopJob', 'beginRun'] },
        ...RUNNER_STATES.filter((s) => s !== 'Running').map((state) => ({
          guard: and(['runFinished', restsIn(state)]),
          target: state,
        })),
        { guard: and(['runFinished', restsIn('Running')]), target: 'Running', reenter: true, actions: 'beginRun' as const },
      ],
    },
  },
});

export type RunnerMachine = typeof runnerMachine;

// The Runner state machine: a statechart of a Runner's life, pure XState v5 (no I/O, no clock, no Kubernetes types).
//
// The operator describes the world to the machine with events (INPUTS, TICK, TICK.MISSED, JOB.FINISHED), each stamped
// with the operator's time in `at`, and supplies the effects (startJob, stopJob, runStarted, runFinished, tickSkipped)
// with `runnerMachine.provide(...)`. The leaf states are the values of the Runner's `status.state`; the groups
// (`atRest`, `blocked`) and the two decision points (`settling`, `blockedBy`, left as soon as they are entered) only
// organise them. The config is written out literally, with guards and actions by name, so that the Stately editor
// imports it as it is (docs/machine.md).
import { assign, setup } from 'xstate';
import {
  hasDueTick,
  hasNewRevision,
  hasNewTrigger,
  initialContext,
  inputsSatisfied,
  lastRunFailed,
  runDue,
  runIsActive,
  sameInputs,
  tickCanRun,
  withInputs,
  withNewRun,
  withResult,
  type RunnerContext,
  type RunnerEvent,
  type RunnerMachineInput,
} from './runner-context.ts';

export * from './runner-context.ts';

/** The context as an INPUTS event would leave it, so that a guard of that event can judge the new inputs. */
const observed = (context: RunnerContext, event: RunnerEvent): RunnerContext =>
  event.type === 'INPUTS' ? { ...context, inputs: event.inputs } : context;

const eventTime = (event: { type: string }, context: RunnerContext): string =>
  'at' in event && typeof event.at === 'string' ? event.at : context.now;

export const runnerMachine = setup({
  types: {
    context: {} as RunnerContext,
    events: {} as RunnerEvent,
    input: {} as RunnerMachineInput,
  },
  guards: {
    // Why a Runner cannot run, in the order in which they name its state (the first that holds wins).
    inputsUnsatisfied: ({ context }) => !inputsSatisfied(context.inputs),
    invalid: ({ context }) => !context.inputs.valid,
    inCycle: ({ context }) => context.inputs.cycle,
    suspended: ({ context }) => context.inputs.suspended,
    workloadsNotReady: ({ context }) => !context.inputs.workloadsReady,
    upstreamNotReady: ({ context }) => !context.inputs.upstreamReady,
    // Why a run is due (checked once the inputs are satisfied), in order: the first names the run's reason.
    newTrigger: ({ context }) => hasNewTrigger(context),
    tickDue: ({ context }) => hasDueTick(context),
    newRevision: ({ context }) => hasNewRevision(context),
    // Where a Runner with nothing to do rests.
    scheduled: ({ context }) => context.inputs.scheduled,
    lastRunFailed: ({ context }) => lastRunFailed(context),
    // Events.
    inputsChanged: ({ context, event }) => event.type === 'INPUTS' && !sameInputs(event.inputs, context.inputs),
    replaceDue: ({ context, event }) => {
      const next = observed(context, event);
      return event.type === 'INPUTS' && next.inputs.concurrencyPolicy === 'Replace' && runDue(next);
    },
    tickCanRun: ({ context }) => tickCanRun(context),
    tickReplacesRun: ({ context }) => tickCanRun(context) && context.inputs.concurrencyPolicy === 'Replace',
    staleJob: ({ context, event }) => event.type === 'JOB.FINISHED' && !(runIsActive(context) && context.run?.key === event.key),
    tickBlocked: ({ context }) => context.dueTick !== null && !tickCanRun(context),
  },
  actions: {
    // Effects, implemented by the operator (src/runner-effects.ts).
    startJob: () => {},
    stopJob: () => {},
    runStarted: () => {},
    runFinished: () => {},
    tickSkipped: () => {},

    recordInputs: assign(({ context, event }) => (event.type === 'INPUTS' ? withInputs(context, event.inputs, event.at) : {})),
    rememberTick: assign(({ event }) => (event.type === 'TICK' ? { now: event.at, dueTick: event.tick, lastTick: event.tick } : {})),
    skipTick: assign(({ event }) =>
      event.type === 'TICK' || event.type === 'TICK.MISSED' ? { now: event.at, lastTick: event.tick, lastSkippedTick: event.tick } : {}),
    skipDueTick: assign(({ context }) => ({ lastSkippedTick: context.dueTick, dueTick: null })),
    beginRun: assign(({ context, event }) => withNewRun(context, eventTime(event, context))),
    recordResult: assign(({ context, event }) => (event.type === 'JOB.FINISHED' ? withResult(context, event) : {})),
  },
}).createMachine({
  id: 'runner',
  context: ({ input }) => initialContext(input),
  initial: 'atRest',
  on: {
    'TICK.MISSED': { actions: ['skipTick', 'tickSkipped'] },
  },
  states: {
    atRest: {
      description: 'No run is active: the Runner rests where its inputs say, or starts a run that is due.',
      initial: 'settling',
      on: {
        // Inputs equal to those known change nothing (not even `now`): no snapshot churn, no status write.
        INPUTS: { guard: 'inputsChanged', target: 'atRest', reenter: true, actions: 'recordInputs' },
        TICK: { actions: ['skipTick', 'tickSkipped'] },
      },
      states: {
        settling: {
          description: 'Left at once: blocked, a run that is due, or where a Runner with nothing to do rests.',
          always: [
            { guard: 'inputsUnsatisfied', target: 'blocked' },
            { guard: 'newTrigger', target: '#runner.Running', actions: 'beginRun' },
            { guard: 'tickDue', target: '#runner.Running', actions: 'beginRun' },
            { guard: 'newRevision', target: '#runner.Running', actions: 'beginRun' },
            { guard: 'scheduled', target: 'Scheduled' },
            { guard: 'lastRunFailed', target: 'Failed' },
            { target: 'Succeeded' },
          ],
        },
        blocked: {
          description: 'The inputs are not satisfied: no run starts, and ticks are skipped.',
          initial: 'blockedBy',
          states: {
            blockedBy: {
              description: 'Left at once: the first reason that holds names the state.',
              always: [
                { guard: 'invalid', target: 'Invalid' },
                { guard: 'inCycle', target: 'Stalled' },
                { guard: 'suspended', target: 'Suspended' },
                { guard: 'workloadsNotReady', target: 'WaitingForWorkloads' },
                { guard: 'upstreamNotReady', target: 'WaitingForUpstream' },
              ],
            },
            Invalid: { description: 'The spec failed validation.' },
            Stalled: { description: 'The Runner is part of a dependency cycle.' },
            Suspended: { description: 'spec.suspend is true.' },
            WaitingForWorkloads: { description: 'Not every selected workload is ready, or none matched.' },
            WaitingForUpstream: { description: "Not every selected upstream Runner's latest run succeeded, or none matched." },
          },
        },
        Scheduled: {
          description: 'A scheduled Runner waits for its next tick.',
          on: {
            TICK: { target: '#runner.Running', actions: ['rememberTick', 'beginRun'] },
          },
        },
        Succeeded: { description: 'An event-triggered Runner ran its revision, and the latest run succeeded.' },
        Failed: { description: 'An event-triggered Runner ran its revision, and the latest run failed or ended in an error.' },
      },
    },
    Running: {
      description: "A run is active: its Job was created and its result is not known yet.",
      entry: ['startJob', 'runStarted'],
      on: {
        INPUTS: [
          { guard: 'replaceDue', target: 'Running', reenter: true, actions: ['recordInputs', 'stopJob', 'beginRun'] },
          { guard: 'inputsChanged', actions: 'recordInputs' },
        ],
        TICK: [
          { guard: 'tickReplacesRun', target: 'Running', reenter: true, actions: ['rememberTick', 'stopJob', 'beginRun'] },
          { guard: 'tickCanRun', actions: 'rememberTick' },
          { actions: ['skipTick', 'tickSkipped'] },
        ],
        'JOB.FINISHED': [
          { guard: 'staleJob' },
          { guard: 'tickBlocked', target: 'atRest', actions: ['recordResult', 'runFinished', 'skipDueTick', 'tickSkipped'] },
          { target: 'atRest', actions: ['recordResult', 'runFinished'] },
        ],
      },
    },
  },
});

export type RunnerMachine = typeof runnerMachine;

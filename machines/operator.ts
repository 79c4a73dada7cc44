// The operator's root actor: it owns one spawned Runner actor per Runner (keyed by uid) and
// routes events to it. Restoring this actor from a snapshot whose children are the Runners'
// persisted snapshots brings every Runner back in the state it had (see src/actor-system.ts).
import { sendTo, setup, spawnChild, stopChild, type AnyActorLogic } from 'xstate';
import { runnerMachine, type RunnerEvent, type RunnerMachineInput } from './runner.ts';

export type OperatorEvent =
  | { type: 'RUNNER.ADDED'; uid: string; input: RunnerMachineInput }
  | { type: 'RUNNER.REMOVED'; uid: string }
  | { type: 'RUNNER.EVENT'; uid: string; event: RunnerEvent };

export const operatorMachine = setup({
  types: { events: {} as OperatorEvent },
  actors: { runner: runnerMachine as AnyActorLogic },
}).createMachine({
  id: 'operator',
  on: {
    'RUNNER.ADDED': {
      actions: spawnChild('runner', {
        id: ({ event }) => event.uid,
        input: ({ event }: { event: OperatorEvent }) => (event.type === 'RUNNER.ADDED' ? event.input : undefined),
      }),
    },
    'RUNNER.REMOVED': { actions: stopChild(({ event }) => event.uid) },
    'RUNNER.EVENT': { actions: sendTo(({ event }) => event.uid, ({ event }) => event.event) },
  },
});

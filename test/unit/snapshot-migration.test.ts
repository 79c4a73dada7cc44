// Runners persisted by the previous machine (status.snapshot with `value: '<State>'`) resume, after an upgrade, in the
// same state with the same context and active run, and react to what comes next exactly as they would have.
//
// The snapshots are written by the previous machine itself (test/unit/fixtures/runner-machine-v1.ts): @xstate/graph
// walks it over the model's events, and every distinct snapshot it reaches (every state, with and without an active
// run, ticks, triggers) is persisted, stored as the API server stores it (JSON with its keys sorted) and migrated with
// `migrateSnapshot`. Forty of each state are restored into both machines, and the two restored actors then take each
// event the model offers in that snapshot and must agree on state, context and effects. The same snapshots also go the operator's way:
// `restorableSnapshot` and the ActorSystem (src/operator/actor-system.ts) that the operator restores its Runners with.
import { getShortestPaths } from '@xstate/graph';
import { beforeAll, describe, expect, it } from 'vitest';
import { createActor, type AnyStateMachine } from 'xstate';
import { RUNNER_STATES, runnerMachine } from '../../machines/runner.ts';
import { migrateSnapshot, runnerStateOf, stateValueOf } from '../../machines/runner-snapshot.ts';
import { ActorSystem, restorableSnapshot } from '../../src/operator/actor-system.ts';
import { runnerMachineV1 } from './fixtures/runner-machine-v1.ts';
import { effectsOf, INITIAL, modelEvents, READY, recording, show, snapshotText, stateName, type ModelSnapshot } from './support/runner-model.ts';

/** JSON as the API server stores it: every object's keys sorted. */
const asStored = (value: unknown): Record<string, unknown> =>
  JSON.parse(
    JSON.stringify(value, (_key, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
    ),
  ) as Record<string, unknown>;

/**
 * A context as the previous machine would have it: the current one also records, in each new run, the result of the
 * run before it (`previousResult`, for RunRecovered); everything else must be equal.
 */
const asBefore = (context: unknown): string =>
  JSON.stringify(context, (key, v: unknown) => (key === 'previousResult' ? undefined : v));

const previous = recording(runnerMachineV1 as AnyStateMachine);
const current = recording(runnerMachine as AnyStateMachine);

/** Every distinct snapshot the previous machine reaches over the model, persisted as status.snapshot held it. */
function previousSnapshots(): Record<string, unknown>[] {
  const paths = getShortestPaths(runnerMachineV1, {
    input: INITIAL,
    events: (s) => modelEvents(s as ModelSnapshot),
    serializeState: (s) => snapshotText(s as ModelSnapshot),
  });
  return paths.map((p) => asStored(runnerMachineV1.getPersistedSnapshot(p.state)));
}

describe('snapshots persisted by the previous machine', () => {
  let stored: Record<string, unknown>[] = [];
  beforeAll(() => {
    stored = previousSnapshots();
  }, 60_000);

  it('cover every Runner state, with a bare state name as their value', () => {
    expect(new Set(stored.map((s) => s.value))).toEqual(new Set(RUNNER_STATES));
    expect(stored.length).toBeGreaterThan(1000);
  });

  it('migrate to the same Runner state, keeping context, children and status as they were', () => {
    const wrong = stored.flatMap((s) => {
      const migrated = migrateSnapshot(s);
      if (migrated === null) return [`${String(s.value)}: not migrated`];
      const { value, ...rest } = migrated;
      const { value: oldValue, ...oldRest } = s;
      if (runnerStateOf(value) !== oldValue) return [`${String(oldValue)} → ${JSON.stringify(value)}`];
      return JSON.stringify(rest) === JSON.stringify(oldRest) ? [] : [`${String(oldValue)}: other fields changed`];
    });
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('restore into the current machine in the same state and context, and then react to every event exactly as before', () => {
    const problems: string[] = [];
    // Forty of each state (the walk's first, so the shortest histories); every one of them takes every event the model offers it.
    for (const s of RUNNER_STATES.flatMap((state) => stored.filter((x) => x.value === state).slice(0, 40))) {
      const before = createActor(previous, { snapshot: s as never, input: INITIAL });
      const after = createActor(current, { snapshot: migrateSnapshot(s) as never, input: INITIAL });
      const restoring = [effectsOf(() => before.start()), effectsOf(() => after.start())];
      if (restoring.some((e) => e.length > 0)) problems.push(`${String(s.value)}: restoring caused ${show(restoring.flat())}`);
      if (stateName(after.getSnapshot()) !== s.value) problems.push(`${String(s.value)}: restored in ${stateName(after.getSnapshot())}`);
      if (asBefore(after.getSnapshot().context) !== asBefore(before.getSnapshot().context)) problems.push(`${String(s.value)}: context differs`);
      const offered = modelEvents(before.getSnapshot() as ModelSnapshot);
      before.stop();
      after.stop();
      for (const event of offered) {
        // Each event from the restored snapshot itself, as the first event after an operator restart.
        const [a, b] = [createActor(previous, { snapshot: s as never, input: INITIAL }).start(), createActor(current, { snapshot: migrateSnapshot(s) as never, input: INITIAL }).start()];
        const [ea, eb] = [effectsOf(() => a.send(event)), effectsOf(() => b.send(event))];
        const same =
          stateName(a.getSnapshot()) === stateName(b.getSnapshot()) &&
          show(ea) === show(eb) &&
          asBefore(a.getSnapshot().context) === asBefore(b.getSnapshot().context);
        if (!same) problems.push(`${String(s.value)} + ${event.type}: ${stateName(a.getSnapshot())} ${show(ea)} vs ${stateName(b.getSnapshot())} ${show(eb)}`);
        a.stop();
        b.stop();
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
  }, 60_000);

  it('are restored by the operator (restorableSnapshot, ActorSystem) in their state, with their active run', () => {
    // Twenty of each state: one operator restoring its Runners.
    const sample = RUNNER_STATES.flatMap((state) => stored.filter((s) => s.value === state).slice(0, 20));
    const uids = sample.map((_, i) => `uid-${i}`);
    const restored = new Map(sample.map((s, i) => [uids[i]!, restorableSnapshot(s)!]));
    expect([...restored.values()].filter((s) => s === null)).toEqual([]);
    const system = new ActorSystem(runnerMachine);
    for (const [uid, snapshot] of restored) system.restore(uid, snapshot);
    const wrong = sample.flatMap((s, i) => {
      const view = system.view(uids[i]!);
      const context = s.context as { run: unknown };
      return view !== null && view.state === s.value && JSON.stringify(asStored(view.context.run)) === JSON.stringify(context.run)
        ? []
        : [`${String(s.value)} → ${view?.state}`];
    });
    system.stop();
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});

describe('migrateSnapshot', () => {
  const persisted = (value: unknown) => ({ status: 'active', value, historyValue: {}, context: { inputs: READY, now: 't', runs: 0 }, children: {} });

  it('gives every Runner state its place in the machine', () => {
    for (const state of RUNNER_STATES) expect(migrateSnapshot(persisted(state))?.value).toEqual(stateValueOf(state));
    expect(stateValueOf('WaitingForUpstream')).toEqual({ atRest: { blocked: 'WaitingForUpstream' } });
    expect(stateValueOf('Running')).toBe('Running');
  });

  it('keeps a snapshot of the current machine as it is', () => {
    const value = { atRest: { blocked: 'Suspended' } };
    expect(migrateSnapshot(persisted(value))).toEqual(persisted(value));
  });

  it('refuses what no machine wrote: another status, an unknown state, a decision point, a value of the wrong shape', () => {
    expect(migrateSnapshot({ ...persisted('Running'), status: 'done' })).toBeNull();
    expect(migrateSnapshot(persisted('Paused'))).toBeNull();
    expect(migrateSnapshot(persisted({ atRest: 'settling' }))).toBeNull();
    expect(migrateSnapshot(persisted({ atRest: 'Invalid' }))).toBeNull();
    expect(migrateSnapshot(persisted(42))).toBeNull();
    expect(migrateSnapshot('Running')).toBeNull();
    expect(restorableSnapshot(persisted({ Running: {} }))).toBeNull();
  });
});

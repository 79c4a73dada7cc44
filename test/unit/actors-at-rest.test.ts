// Runner actors at rest (src/operator/actor-system.ts): an actor runs while it handles an event and rests between
// events as its snapshot alone, to be made again from it when the next comes. What a Runner does must not depend on
// that: the same events give the same states, snapshots, effects and notices as actors that keep running (as they do
// under inspection); an action that sends its own actor an event while it runs has it handled; and resting actors hold
// a fraction of the memory of running ones.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { runnerMachine, type RunnerEvent, type RunnerInputs } from '../../machines/runner.ts';
import { ActorSystem } from '../../src/operator/actor-system.ts';

const ready: RunnerInputs = {
  valid: true, suspended: false, cycle: false, workloadsReady: true, upstreamReady: true, scheduled: false,
  concurrencyPolicy: 'Forbid', revision: 'r1', parts: ['Deployment/shop/cart@a'], trigger: null,
};

/** The real machine, whose effects are written down in the order they happen. */
function recordingMachine(effects: string[]) {
  return runnerMachine.provide({
    actions: {
      startJob: ({ context }) => void effects.push(`start ${context.run!.key}`),
      stopJob: ({ context }) => void effects.push(`stop ${context.run?.key}`),
      runStarted: ({ context }) => void effects.push(`started ${context.run!.key}`),
      runFinished: ({ context }) => void effects.push(`finished ${context.run?.key} ${context.run?.result}`),
      tickSkipped: ({ context }) => void effects.push(`skipped ${context.lastSkippedTick}`),
    },
  });
}

/** A small deterministic generator, so that a failing sequence can be replayed from its seed. */
function random(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/** Events of every kind, some repeating what the actor already knows. */
function eventFor(next: () => number, step: number, runKey: string | undefined): RunnerEvent {
  const at = `2026-12-01T00:${String(step % 60).padStart(2, '0')}:00Z`;
  const pick = Math.floor(next() * 6);
  if (pick === 0) return { type: 'INPUTS', at, inputs: { ...ready, revision: `r${Math.floor(next() * 3)}` } };
  if (pick === 1) return { type: 'INPUTS', at, inputs: { ...ready, workloadsReady: next() < 0.5, scheduled: next() < 0.3 } };
  if (pick === 2) return { type: 'TICK', at, tick: at };
  if (pick === 3) return { type: 'TICK.MISSED', at, tick: at };
  return { type: 'JOB.FINISHED', at, key: next() < 0.8 && runKey ? runKey : 'stale', succeeded: next() < 0.6, message: 'done' };
}

function world(keepRunning: boolean) {
  const effects: string[] = [];
  const notices: string[] = [];
  // Under inspection every actor keeps running: the same system, the actors never put to rest.
  const actors = new ActorSystem(recordingMachine(effects), keepRunning ? { inspect: () => {} } : {});
  return { actors, effects, notices };
}

describe('Runner actors at rest between events', () => {
  it('go through the same states, snapshots, effects and notices as actors that keep running, over random events', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const resting = world(false);
      const running = world(true);
      const uids = ['a', 'b', 'c'];
      for (const w of [resting, running]) {
        for (const uid of uids) {
          w.actors.spawn(uid, { inputs: { ...ready, workloadsReady: uid !== 'c' }, at: '2026-12-01T00:00:00Z' });
          w.actors.subscribe(uid, () => w.notices.push(`${uid} ${w.actors.view(uid)!.state}`));
        }
      }
      const next = random(seed);
      for (let step = 1; step <= 200; step++) {
        const uid = uids[Math.floor(next() * uids.length)]!;
        const event = eventFor(next, step, running.actors.view(uid)!.context.run?.key);
        resting.actors.send(uid, event);
        running.actors.send(uid, event);
        expect(resting.actors.view(uid)!.persisted, `seed ${seed}, step ${step}`).toEqual(running.actors.view(uid)!.persisted);
      }
      expect(resting.effects, `seed ${seed}`).toEqual(running.effects);
      expect(resting.notices, `seed ${seed}`).toEqual(running.notices);
      // The sequences went somewhere: runs started and finished, not only waits.
      expect(running.effects.filter((e) => e.startsWith('finished')).length, `seed ${seed}`).toBeGreaterThan(3);
    }
  });

  it('is not announced as a change when woken for an event that changes nothing', () => {
    const w = world(false);
    w.actors.spawn('a', { inputs: ready, at: 't0' });
    const key = w.actors.view('a')!.context.run!.key;
    w.actors.send('a', { type: 'JOB.FINISHED', at: 't1', key, succeeded: true, message: 'ok' });
    let notices = 0;
    w.actors.subscribe('a', () => (notices += 1));
    // Woken, restored from its snapshot, and given a finish of a Job not its run's: nothing changes, nothing is said.
    w.actors.send('a', { type: 'JOB.FINISHED', at: 't2', key: 'stale', succeeded: false, message: 'old' });
    expect(notices).toBe(0);
    expect(w.actors.view('a')!.state).toBe('Succeeded');
  });

  it('handles an event that one of its own actions sends it while it runs, before it rests', () => {
    let actors: ActorSystem;
    // A Job that is done as soon as it is made: startJob tells the actor so at once, from inside its own step.
    const machine = runnerMachine.provide({
      actions: {
        startJob: ({ context, self }) => actors.send(self.id, { type: 'JOB.FINISHED', at: 't1', key: context.run!.key, succeeded: true, message: 'ok' }),
      },
    });
    actors = new ActorSystem(machine);
    actors.spawn('a', { inputs: { ...ready, workloadsReady: false }, at: 't0' });
    actors.send('a', { type: 'INPUTS', at: 't1', inputs: ready });
    expect(actors.view('a')!.state).toBe('Succeeded');
    expect(actors.view('a')!.context.runs).toBe(1);
    // And while it starts: a Runner whose first run is due at once.
    actors.spawn('b', { inputs: ready, at: 't0' });
    expect(actors.view('b')!.state).toBe('Succeeded');
    expect(actors.view('b')!.context.runs).toBe(1);
    actors.stop();
  });

  it('hold less than a third of the heap of running actors (5,000 Runners)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heapHeld = () => {
      for (let i = 0; i < 3; i++) gc();
      return process.memoryUsage().heapUsed;
    };
    const perActor = (keepRunning: boolean) => {
      const w = world(keepRunning);
      const before = heapHeld();
      for (let i = 0; i < 5000; i++) w.actors.spawn(`u${i}`, { inputs: ready, at: 't0' });
      const bytes = (heapHeld() - before) / 5000;
      w.actors.stop();
      return bytes;
    };
    perActor(false); // code compiled on first use is not counted
    const resting = perActor(false);
    const running = perActor(true);
    expect(running).toBeGreaterThan(3000);
    expect(resting).toBeLessThan(running / 3);
  });
});

// What a Runner's actor costs, at rest between events (the operator's way) and kept running (as under inspection):
// heap per Runner after a full collection, and time per event, for N actors of the real machine in one process. Each
// figure is the median of three rounds; both ways are measured side by side in one run.
//
//   node bench/actor-cost.ts [N]
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runnerMachine, type RunnerEvent, type RunnerInputs } from '../machines/runner.ts';
import { ActorSystem } from '../src/operator/actor-system.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapHeld = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
};

const size = Number(process.argv[2] ?? 5000);
const ready: RunnerInputs = {
  valid: true, suspended: false, cycle: false, workloadsReady: true, upstreamReady: true, scheduled: false,
  concurrencyPolicy: 'Forbid', revision: 'r0', parts: ['Deployment/shop/cart@a'], trigger: null,
};
// The operator's effects do their work elsewhere (a queue): here they do nothing.
const machine = runnerMachine.provide({ actions: { startJob: () => {}, stopJob: () => {}, runStarted: () => {}, runFinished: () => {}, tickSkipped: () => {} } });

function round(keepRunning: boolean): { bytesPerRunner: number; usPerEvent: number } {
  const actors = new ActorSystem(machine, keepRunning ? { inspect: () => {} } : {});
  const before = heapHeld();
  for (let i = 0; i < size; i++) actors.spawn(`u${i}`, { inputs: ready, at: '2026-12-01T00:00:00Z' });
  const bytesPerRunner = (heapHeld() - before) / size;
  // Each Runner's run: its Job's end, then a new revision (a run starts), then the end of that run.
  const started = performance.now();
  let events = 0;
  for (let revision = 1; revision <= 2; revision++) {
    for (let i = 0; i < size; i++) {
      const uid = `u${i}`;
      const finished: RunnerEvent = { type: 'JOB.FINISHED', at: '2026-12-01T00:01:00Z', key: actors.view(uid)!.context.run!.key, succeeded: true, message: 'ok' };
      actors.send(uid, finished);
      actors.send(uid, { type: 'INPUTS', at: '2026-12-01T00:02:00Z', inputs: { ...ready, revision: `r${revision}` } });
      events += 2;
    }
  }
  const usPerEvent = ((performance.now() - started) * 1000) / events;
  actors.stop();
  return { bytesPerRunner, usPerEvent };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
round(false); // code compiled on first use is not counted
const rounds = { atRest: [] as ReturnType<typeof round>[], running: [] as ReturnType<typeof round>[] };
for (let i = 0; i < 3; i++) {
  rounds.atRest.push(round(false));
  rounds.running.push(round(true));
}
for (const [way, rs] of Object.entries(rounds)) {
  console.log(`${way.padEnd(8)} ${size} Runners: ${median(rs.map((r) => r.bytesPerRunner)).toFixed(0)} bytes of heap each, ${median(rs.map((r) => r.usPerEvent)).toFixed(1)} µs per event`);
}

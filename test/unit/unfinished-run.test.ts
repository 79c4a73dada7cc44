// A Runner without a snapshot whose newest Job still runs: a leader stopped after creating a new Runner's first Job and
// before writing its status (found by the fault suite at full size, test/chaos/namespaced-leader.test.ts). The next
// leader builds the actor from the Runner's Jobs; it must resume in that run, not settle as if it had finished, so
// that the Job's end is recorded — else a downstream Runner waits for it for good — and must not create the Job again.
import { describe, expect, it } from 'vitest';
import { runnerMachine, type RunnerInputs } from '../../machines/runner.ts';
import { snapshotOfUnfinishedRun } from '../../machines/runner-snapshot.ts';
import { ActorSystem } from '../../src/operator/actor-system.ts';
import { historyFromJobs } from '../../src/runner/runs-from-jobs.ts';
import { ANNOTATION_RUN_KEY } from '../../src/runner/job.ts';
import { LABEL_REVISION } from '../../src/api/runner.ts';

const ready: RunnerInputs = {
  valid: true, suspended: false, cycle: false, workloadsReady: true, upstreamReady: true, scheduled: false,
  concurrencyPolicy: 'Forbid', revision: 'r1', parts: ['Deployment/shop/cart@a'], trigger: null,
};
const runningJob = { metadata: { name: 'smoke-1', annotations: { [ANNOTATION_RUN_KEY]: '1:revision:r1' }, labels: { [LABEL_REVISION]: 'r1' }, creationTimestamp: new Date('2026-12-01T10:00:00Z') }, status: {} };

describe('a Runner whose newest Job still runs and whose status was never written', () => {
  it('resumes in Running with that run, creates no Job, and records the Job\'s end as its result', () => {
    const started: string[] = [];
    const machine = runnerMachine.provide({ actions: { startJob: ({ context }) => void started.push(context.run!.key) } });
    const system = new ActorSystem(machine);
    const history = historyFromJobs([runningJob])!;
    system.spawn('uid-1', { inputs: ready, at: '2026-12-01T10:00:05Z', history });

    expect(system.view('uid-1')?.state).toBe('Running');
    expect(system.view('uid-1')?.context.run).toMatchObject({ key: '1:revision:r1', result: null });
    expect(started).toEqual([]);

    system.send('uid-1', { type: 'JOB.FINISHED', at: '2026-12-01T10:01:00Z', key: '1:revision:r1', succeeded: true, message: 'Complete' });
    expect(system.view('uid-1')?.state).toBe('Succeeded');
    expect(system.view('uid-1')?.context.run).toMatchObject({ key: '1:revision:r1', result: 'Succeeded', finishedAt: '2026-12-01T10:01:00Z' });
    expect(system.view('uid-1')?.context.runs).toBe(1);
    expect(started).toEqual([]);
    system.stop();
  });

  it('starts at rest, as before, when its newest Job has finished or it has none', () => {
    expect(snapshotOfUnfinishedRun({ inputs: ready, at: 't' })).toBeNull();
    const done = { ...runningJob, status: { completionTime: new Date('2026-12-01T10:01:00Z'), conditions: [{ type: 'Complete', status: 'True' }] } };
    expect(snapshotOfUnfinishedRun({ inputs: ready, at: 't', history: historyFromJobs([done])! })).toBeNull();
  });
});

import type { CoreV1Event, V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { formatDuration, formatRunHistory, runHistory } from '../../src/commands/run-history.ts';

const runner: Runner = {
  metadata: { name: 'smoke', namespace: 'qa', uid: 'u1' },
  spec: { template: {} },
  status: {
    lastRun: { jobName: 'smoke-3', revision: 'r3', trigger: 'rollout of Deployment shop/cart', reason: 'Revision', startTime: '2026-01-01T00:10:00Z', completionTime: '2026-01-01T00:10:42Z', result: 'Failed', message: 'BackoffLimitExceeded: …; container check in pod p exited with code 3: 502' },
  },
};
const event = (reason: string, message: string, at: string): CoreV1Event => ({ metadata: {}, involvedObject: {}, reason, message, lastTimestamp: new Date(at) });
const job = (name: string, created: string, condition: 'Complete' | 'Failed' | null, done?: string, runKey = '1:revision:r'): V1Job => ({
  metadata: { name, creationTimestamp: new Date(created), annotations: { 'runner.stakater.com/run-key': runKey } },
  status: {
    startTime: new Date(created),
    ...(condition ? { conditions: [{ type: condition, status: 'True', lastTransitionTime: new Date(done!), ...(condition === 'Failed' ? { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' } : {}) }] } : {}),
    ...(condition === 'Complete' ? { completionTime: new Date(done!) } : {}),
  },
});

describe('runHistory', () => {
  const events = [
    event('RunStarted', 'Started Job smoke-1: first run', '2026-01-01T00:00:00Z'),
    event('RunSucceeded', 'Job smoke-1 succeeded: Reached expected number of succeeded pods', '2026-01-01T00:00:05Z'),
    event('RunStarted', 'Started Job smoke-2: manual trigger "x"', '2026-01-01T00:05:00Z'),
    event('RunFailed', 'Job smoke-2 failed: DeadlineExceeded: Job was active longer than specified deadline', '2026-01-01T00:07:00Z'),
    event('RunStarted', 'Started Job smoke-3: rollout of Deployment shop/cart', '2026-01-01T00:10:00Z'),
    event('TickSkipped', 'Skipped the run scheduled for …', '2026-01-01T00:11:00Z'),
  ];
  const jobs = [job('smoke-2', '2026-01-01T00:05:00Z', 'Failed', '2026-01-01T00:07:00Z', '2:manual:x:r'), job('smoke-3', '2026-01-01T00:10:00Z', 'Failed', '2026-01-01T00:10:42Z')];
  const history = runHistory(runner, jobs, events);

  it('lists every run newest first, from status, kept Jobs and Events', () => {
    expect(history.map((e) => [e.job, e.result, e.jobKept])).toEqual([
      ['smoke-3', 'Failed', true],
      ['smoke-2', 'Failed', true],
      ['smoke-1', 'Succeeded', false],
    ]);
  });

  it('gives each run its trigger, duration and message', () => {
    expect(history[0]).toMatchObject({ trigger: 'rollout of Deployment shop/cart', durationSeconds: 42, message: expect.stringContaining('exited with code 3: 502') });
    expect(history[1]).toMatchObject({ trigger: 'manual trigger "x"', durationSeconds: 120, message: 'DeadlineExceeded: Job was active longer than specified deadline' });
    expect(history[2]).toMatchObject({ trigger: 'first run', durationSeconds: 5, message: 'Reached expected number of succeeded pods' });
  });

  it('reads the trigger and start of a deleted Job\'s run from the one Event its end left', () => {
    const [, gone] = runHistory(runner, [], [
      event('RunSucceeded', 'Job smoke-7 succeeded (rollout of Deployment shop/cart; started 2026-01-01T00:20:00.000Z): Complete', '2026-01-01T00:20:30Z'),
      event('RunFailed', 'Job smoke-8 ended in an error (ImagePullFailed) (manual trigger "a (b)"; started 2026-01-01T00:30:00.000Z): no image', '2026-01-01T00:30:09Z'),
    ]).filter((e) => e.job !== 'smoke-3');
    expect(gone).toMatchObject({ job: 'smoke-7', result: 'Succeeded', trigger: 'rollout of Deployment shop/cart', startTime: '2026-01-01T00:20:00Z', durationSeconds: 30, message: 'Complete' });
    const [error] = runHistory(runner, [], [event('RunError', 'Job smoke-8 ended in an error (ImagePullFailed) (manual trigger "a (b)"; started 2026-01-01T00:30:00.000Z): no image', '2026-01-01T00:30:09Z')]).filter((e) => e.job === 'smoke-8');
    expect(error).toMatchObject({ result: 'Error', errorReason: 'ImagePullFailed', trigger: 'manual trigger "a (b)"', durationSeconds: 9, message: 'no image' });
    // A trigger annotation made to look like the end of the trigger part is read as words, never as a time.
    const [odd] = runHistory(runner, [], [event('RunSucceeded', 'Job smoke-9 succeeded (manual trigger "a; started b): c"; started 2026-01-01T00:40:00.000Z): ok', '2026-01-01T00:40:05Z')]).filter((e) => e.job === 'smoke-9');
    expect(odd).toMatchObject({ trigger: 'manual trigger "a; started b): c"', startTime: '2026-01-01T00:40:00Z', durationSeconds: 5 });
  });

  it('tells a kept Job without Events by its run key, and a run still going as Running', () => {
    const [only] = runHistory({ ...runner, status: {} }, [job('smoke-9', '2026-01-01T01:00:00Z', null, undefined, '9:schedule:2026-01-01T01:00:00.000Z')], []);
    expect(only).toMatchObject({ job: 'smoke-9', result: 'Running', trigger: 'schedule', durationSeconds: null });
  });

  it('prints a table a person can read, saying which Jobs are gone', () => {
    const text = formatRunHistory(runner, history);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUN +START +DURATION +RESULT +TESTS +TRIGGER +JOB +MESSAGE$/);
    expect(lines[1]).toMatch(/^1 +2026-01-01T00:10:00Z +42s +Failed +- +rollout of Deployment shop\/cart +smoke-3 +BackoffLimitExceeded/);
    expect(lines[3]).toContain('smoke-1 (deleted)');
    expect(formatRunHistory(runner, [])).toContain('No runs of Runner qa/smoke');
  });

  it('tells flaky, Error and advisory runs and their test counts, from status and from Events once the Job is gone', () => {
    const withFindings: Runner = {
      ...runner,
      spec: { template: {}, advisory: true },
      status: {
        lastRun: {
          jobName: 'smoke-6', revision: 'r6', trigger: 'schedule (tick t)', reason: 'Schedule', startTime: '2026-01-01T01:00:00Z', completionTime: '2026-01-01T01:00:09Z',
          result: 'Failed', message: 'BackoffLimitExceeded', tests: { tests: 12, failures: 2, skipped: 1, timeSeconds: 3.25 },
        },
      },
    };
    const found = runHistory(withFindings, [], [
      event('RunStarted', 'Started Job smoke-4: manual trigger "a"', '2026-01-01T00:19:50Z'),
      event('RunStarted', 'Started Job smoke-5: manual trigger "b"', '2026-01-01T00:29:00Z'),
      event('RunFlaky', 'Job smoke-4 succeeded: Reached expected number of succeeded pods; passed after 1 failed attempt (flaky); 12 tests passed, 1 skipped (3.1 s)', '2026-01-01T00:20:00Z'),
      event('RunError', 'Job smoke-5 ended in an error (ImagePullFailed): DeadlineExceeded: Job was active longer than specified deadline; ImagePullFailed: container check in pod p could not pull image x (ErrImagePull); advisory: does not block', '2026-01-01T00:30:00Z'),
    ]);
    expect(found.map((e) => [e.job, e.result, e.flaky, e.errorReason, e.tests])).toEqual([
      ['smoke-6', 'Failed', false, null, '12 tests: 2 failed, 1 skipped (3.25 s)'],
      ['smoke-5', 'Error', false, 'ImagePullFailed', null],
      ['smoke-4', 'Succeeded', true, null, '12 tests passed, 1 skipped (3.1 s)'],
    ]);
    expect(found[1]!.message).toBe('DeadlineExceeded: Job was active longer than specified deadline; ImagePullFailed: container check in pod p could not pull image x (ErrImagePull)');
    const table = formatRunHistory(withFindings, found);
    expect(table).toMatch(/Failed \(advisory\) +12 tests: 2 failed, 1 skipped \(3.25 s\)/);
    expect(table).toMatch(/Error \(ImagePullFailed, advisory\)/);
    expect(table).toMatch(/Succeeded \(flaky\) +12 tests passed, 1 skipped/);
  });

  it('writes durations as people do', () => {
    expect([formatDuration(null), formatDuration(7), formatDuration(64), formatDuration(3720)]).toEqual(['-', '7s', '1m04s', '1h02m']);
  });
});

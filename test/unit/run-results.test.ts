// What people read about a finished run (issue "Results people act on"): an advisory upstream that blocks nothing,
// and the one way Events say flaky, Error and test counts.
import { describe, expect, it } from 'vitest';
import type { LastRunStatus, Runner } from '../../src/api/runner.ts';
import { assess } from '../../src/runner/assess.ts';
import { failedTestLines, runFinishedEvent, testsWords } from '../../src/runner/run-words.ts';

const downstream: Runner = {
  metadata: { name: 'e2e', namespace: 'qa', uid: 'd' },
  spec: { runnerSelector: { matchLabels: { stage: 'smoke' } }, template: { spec: { containers: [{ name: 'c', image: 'x' }] } } },
};
const run = (over: Partial<LastRunStatus>): LastRunStatus => ({ jobName: 'smoke-1', revision: 'r', trigger: 'first run', reason: 'Revision', startTime: 't', result: 'Succeeded', ...over });
const upstream = (lastRun: LastRunStatus | undefined, advisory: boolean): Runner => ({
  metadata: { name: 'smoke', namespace: 'qa', uid: 'u', labels: { stage: 'smoke' } },
  spec: { template: {}, ...(advisory ? { advisory: true } : {}) },
  ...(lastRun ? { status: { lastRun } } : {}),
});
const upstreamReady = (u: Runner) => assess({ runner: downstream, workloads: [], upstreams: [u], problems: [], cycle: null });

describe('an advisory upstream never blocks its downstream Runners', () => {
  it('counts as passed once its run has finished, whatever the result, and says so', () => {
    for (const result of ['Failed', 'Error'] as const) {
      const a = upstreamReady(upstream(run({ result }), true));
      expect(a.inputs.upstreamReady).toBe(true);
      expect(a.watchedResources.find((w) => w.kind === 'Runner')?.message).toMatch(/\(advisory: does not block\)$/);
    }
    expect(upstreamReady(upstream(run({ result: 'Running' }), true)).inputs.upstreamReady).toBe(false);
    expect(upstreamReady(upstream(undefined, true)).inputs.upstreamReady).toBe(false);
  });

  it('a finished advisory run is a new revision for the downstream, as a success is', () => {
    const first = upstreamReady(upstream(run({ result: 'Failed', jobName: 'smoke-1' }), true)).inputs.revision;
    const second = upstreamReady(upstream(run({ result: 'Failed', jobName: 'smoke-2' }), true)).inputs.revision;
    expect(second).not.toBe(first);
  });

  it('a non-advisory upstream that failed or erred blocks, each named in words', () => {
    const failed = upstreamReady(upstream(run({ result: 'Failed' }), false));
    expect(failed.inputs.upstreamReady).toBe(false);
    expect(failed.blockedMessage).toBe('waiting for upstream Runner qa/smoke (latest run failed)');
    expect(upstreamReady(upstream(run({ result: 'Error' }), false)).blockedMessage).toBe('waiting for upstream Runner qa/smoke (latest run ended in an error)');
  });
});

describe('test counts and failing tests in words', () => {
  it('says what passed, failed, erred and was skipped, and the time', () => {
    expect(testsWords({ tests: 12, failures: 0, errors: 0, skipped: 1, timeSeconds: 0.4 })).toBe('12 tests passed, 1 skipped (0.4 s)');
    expect(testsWords({ tests: 12, failures: 2, errors: 1, skipped: 1, timeSeconds: 3.21 })).toBe('12 tests: 2 failed, 1 error, 1 skipped (3.21 s)');
    expect(testsWords({ tests: 1, failures: 0, errors: 0, skipped: 0 })).toBe('1 test passed');
    expect(testsWords({ problem: 'no JUnit report found' })).toBe('no test counts: no JUnit report found');
    expect(failedTestLines({ failed: [{ name: 'test_pay', classname: 'tests.test_cart', kind: 'failure', message: 'assert 502 == 200' }] })).toEqual([
      'failure: tests.test_cart.test_pay — assert 502 == 200',
    ]);
    expect(failedTestLines({ failed: [{ name: 'cart total', classname: 'cart total', kind: 'failure', message: '502' }] })).toEqual(['failure: cart total — 502']);
  });
});

describe('the Event of a finished run', () => {
  it('has a reason per outcome, so that people can filter on it', () => {
    expect(runFinishedEvent(run({ message: 'Complete' }), false)).toEqual({ type: 'Normal', reason: 'RunSucceeded', message: 'Job smoke-1 succeeded: Complete' });
    expect(runFinishedEvent(run({ message: 'Complete', flaky: true, attempts: 3 }), false)).toEqual({
      type: 'Warning', reason: 'RunFlaky', message: 'Job smoke-1 succeeded: Complete; passed after 2 failed attempts (flaky)',
    });
    expect(runFinishedEvent(run({ result: 'Failed', message: 'BackoffLimitExceeded', tests: { tests: 3, failures: 1, errors: 0, skipped: 0 } }), true)).toEqual({
      type: 'Warning', reason: 'RunFailed', message: 'Job smoke-1 failed: BackoffLimitExceeded; 3 tests: 1 failed; advisory: does not block',
    });
    expect(runFinishedEvent(run({ result: 'Error', errorReason: 'NodeLost', message: 'pod p was lost with its node' }), false)).toEqual({
      type: 'Warning', reason: 'RunError', message: 'Job smoke-1 ended in an error (NodeLost): pod p was lost with its node',
    });
  });

  it('says what started the run and when, as the one Event a run leaves on its Runner', () => {
    expect(runFinishedEvent(run({ message: 'Complete' }), false, { started: true }).message).toBe(
      `Job smoke-1 succeeded (${run({}).trigger}; started ${run({}).startTime}): Complete`,
    );
    const long = runFinishedEvent(run({ trigger: 't'.repeat(500), result: 'Failed', message: 'x'.repeat(2000), tests: { tests: 3, failures: 1, errors: 0, skipped: 0 } }), false, { started: true }).message;
    expect(long.length).toBeLessThanOrEqual(1024);
    expect(long).toMatch(/^Job smoke-1 failed \(t+…; started \S+\): x+…; 3 tests: 1 failed$/);
  });

  it('gives the findings their room: a long message is cut, never the test counts or the advisory mark', () => {
    const event = runFinishedEvent(run({ result: 'Failed', message: 'x'.repeat(2000), tests: { tests: 3, failures: 1, errors: 0, skipped: 0 } }), true);
    expect(event.message.length).toBeLessThanOrEqual(1024);
    expect(event.message).toMatch(/x…; 3 tests: 1 failed; advisory: does not block$/);
  });
});

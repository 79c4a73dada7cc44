import type { V1Condition, V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { LastRunStatus, Runner, RunnerStatus } from '../../src/api/runner.ts';
import { EXIT, targetRun, waitVerdict, workloadsAhead } from '../../src/commands/wait-verdict.ts';
import { exitCodeOf, report, timeoutFrom } from '../../src/commands/wait.ts';

const run = (over: Partial<LastRunStatus> = {}): LastRunStatus => ({
  jobName: 'smoke-aaaa', revision: 'r1', trigger: 'first run', reason: 'Revision', startTime: '2026-01-01T00:00:00Z', result: 'Succeeded', ...over,
});
const stalled = (reason: string, message: string): V1Condition => ({ type: 'Stalled', status: 'True', reason, message, lastTransitionTime: new Date(0) });
const runner = (status: RunnerStatus | undefined, generation = 1): Runner => ({
  metadata: { name: 'smoke', namespace: 'qa', generation },
  spec: { template: {} },
  ...(status ? { status: { observedGeneration: 1, revision: 'r1', ...status } } : {}),
});
const current = { kind: 'current' } as const;

describe('waitVerdict', () => {
  it('succeeds or fails with the run of the current revision', () => {
    expect(waitVerdict(runner({ state: 'Succeeded', lastRun: run() }), current)).toMatchObject({ outcome: 'succeeded', run: { jobName: 'smoke-aaaa' } });
    const failed = waitVerdict(runner({ state: 'Failed', lastRun: run({ result: 'Failed', message: 'BackoffLimitExceeded' }), conditions: [stalled('RunFailed', 'Job smoke-aaaa failed')] }), current);
    expect(failed).toMatchObject({ outcome: 'failed', run: { message: 'BackoffLimitExceeded' } });
  });

  it('an infrastructure error is its own verdict (exit 5), never "cannot run", advisory or not', () => {
    const errored = run({ result: 'Error', errorReason: 'PodEvicted', message: 'pod p was evicted' });
    const verdict = waitVerdict(runner({ state: 'Failed', lastRun: errored, conditions: [stalled('RunError', 'Job smoke-aaaa ended in an error')] }), current);
    expect(verdict).toMatchObject({ outcome: 'errored', run: { errorReason: 'PodEvicted' } });
    expect(exitCodeOf(verdict as Parameters<typeof exitCodeOf>[0])).toBe(5);
    const text = report(runner({ state: 'Failed', lastRun: errored }), verdict as Parameters<typeof report>[1], false);
    expect(text).toContain('the run ended in an error (PodEvicted)');
  });

  it('an advisory Runner whose run failed still exits 1, and says it does not block', () => {
    const r = { ...runner({ state: 'Failed', lastRun: run({ result: 'Failed', tests: { tests: 3, failures: 1, failed: [{ name: 'test_pay', kind: 'failure', message: '502' }] } }) }), spec: { template: {}, advisory: true } };
    const verdict = waitVerdict(r, current);
    expect(verdict.outcome).toBe('failed');
    const text = report(r, verdict as Parameters<typeof report>[1], false);
    expect(text).toContain('the run failed (advisory: it does not block)');
    expect(text).toContain('Tests:    3 tests: 1 failed');
    expect(text).toContain('failure: test_pay — 502');
  });

  it('a flaky success exits 0 and says how many attempts it took', () => {
    const r = runner({ state: 'Succeeded', lastRun: run({ flaky: true, attempts: 2 }) });
    const verdict = waitVerdict(r, current);
    expect(exitCodeOf(verdict as Parameters<typeof exitCodeOf>[0])).toBe(0);
    expect(report(r, verdict as Parameters<typeof report>[1], false)).toContain('Attempts: passed after 1 failed attempt (flaky)');
  });

  it('waits while the run of the current revision is running, or has not started', () => {
    expect(waitVerdict(runner({ state: 'Running', lastRun: run({ result: 'Running' }) }), current)).toMatchObject({ outcome: 'pending', why: 'Job smoke-aaaa is running (first run)' });
    const newRevision = runner({ state: 'WaitingForWorkloads', revision: 'r2', message: 'waiting for workload Deployment shop/cart (0/1 updated)', lastRun: run() });
    expect(waitVerdict(newRevision, current)).toEqual({ outcome: 'pending', why: 'waiting for workload Deployment shop/cart (0/1 updated)' });
  });

  it('waits until the operator has seen the Runner at all, and its latest spec', () => {
    expect(waitVerdict(runner(undefined), current)).toMatchObject({ outcome: 'pending', why: 'the operator has not reported on this Runner yet' });
    expect(waitVerdict(runner({ state: 'Succeeded', lastRun: run() }, 2), current)).toMatchObject({ outcome: 'pending', why: 'the operator has not seen generation 2 of the Runner yet' });
  });

  it('waits while a workload is ahead of the status (a rollout not reported yet) rather than answer with the previous run', () => {
    expect(waitVerdict(runner({ state: 'Succeeded', lastRun: run() }), current, ['Deployment shop/cart'])).toMatchObject({ outcome: 'pending' });
  });

  it.each([
    ['InvalidSpec', 'spec.schedule: "0 0 31 2 *" never occurs', 'fix the field'],
    ['DependencyCycle', 'dependency cycle: qa/a -> qa/b -> qa/a', 'spec.runnerSelector'],
    ['UpstreamFailed', 'the latest run of upstream Runner qa/a failed', 'upstream'],
    ['StableStateTimeout', 'workloads not ready since …', 'rollout'],
  ])('is blocked at once by Stalled/%s, with what to fix', (reason, message, fix) => {
    const v = waitVerdict(runner({ state: 'Stalled', lastRun: run({ revision: 'old' }), conditions: [stalled(reason, message)] }), current);
    expect(v).toMatchObject({ outcome: 'blocked', reason, message });
    expect(v.outcome === 'blocked' && v.fix).toContain(fix);
  });

  it('is blocked by suspension unless the run it waits for has a result already', () => {
    const v = waitVerdict(runner({ state: 'Suspended', revision: 'r2', lastRun: run() }), current);
    expect(v).toMatchObject({ outcome: 'blocked', reason: 'Suspended' });
    expect(v.outcome === 'blocked' && v.fix).toContain(`kubectl patch runner smoke -n qa --type merge -p '{"spec":{"suspend":false}}'`);
    expect(waitVerdict(runner({ state: 'Suspended', lastRun: run() }), current)).toMatchObject({ outcome: 'succeeded' });
  });

  it('--after-now: only a run other than the latest one when waiting began counts', () => {
    const after = { kind: 'after', baselineJob: 'smoke-aaaa' } as const;
    expect(waitVerdict(runner({ state: 'Succeeded', lastRun: run() }), after)).toMatchObject({ outcome: 'pending' });
    expect(waitVerdict(runner({ state: 'Failed', lastRun: run({ jobName: 'smoke-bbbb', result: 'Failed' }), conditions: [stalled('RunFailed', 'x')] }), after)).toMatchObject({ outcome: 'failed' });
    expect(targetRun(runner({ state: 'Running', lastRun: run() }), { kind: 'after', baselineJob: null })?.jobName).toBe('smoke-aaaa');
  });

  it('trigger --wait: the run of that trigger value only', () => {
    const trigger = { kind: 'trigger', value: 'cli-1' } as const;
    expect(waitVerdict(runner({ state: 'Succeeded', lastRun: run() }), trigger)).toMatchObject({ outcome: 'pending' });
    const manual = run({ reason: 'Manual', trigger: 'manual trigger "cli-1"', revision: 'r9' });
    expect(waitVerdict(runner({ state: 'Succeeded', lastRun: manual }), trigger)).toMatchObject({ outcome: 'succeeded' });
    expect(waitVerdict(runner({ state: 'Succeeded', lastRun: { ...manual, trigger: 'manual trigger "cli-0"' } }), trigger)).toMatchObject({ outcome: 'pending' });
  });
});

describe('workloadsAhead', () => {
  const deployment = (observed: number, generation: number): V1Deployment => ({
    metadata: { generation }, spec: { replicas: 1, selector: {}, template: {} },
    status: { observedGeneration: observed, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
  });
  const watched = [{ kind: 'Deployment' as const, namespace: 'shop', name: 'cart', ready: true }];

  it('names a workload that the status calls ready but is rolling out now', () => {
    expect(workloadsAhead(watched, new Map([['Deployment shop/cart', deployment(1, 2)]]))).toEqual(['Deployment shop/cart']);
  });

  it('is empty once the status says not ready, when the workload is ready, or when it could not be read', () => {
    expect(workloadsAhead([{ ...watched[0]!, ready: false }], new Map([['Deployment shop/cart', deployment(1, 2)]]))).toEqual([]);
    expect(workloadsAhead(watched, new Map([['Deployment shop/cart', deployment(2, 2)]]))).toEqual([]);
    expect(workloadsAhead(watched, new Map())).toEqual([]);
  });
});

describe('the CLI around the verdict', () => {
  it('maps outcomes to exit codes 0, 1, 2, 3', () => {
    expect([exitCodeOf({ outcome: 'succeeded', run: run() }), exitCodeOf({ outcome: 'failed', run: run() }), exitCodeOf({ outcome: 'timeout', why: '' }), exitCodeOf({ outcome: 'blocked', reason: 'x', message: '', fix: '' })]).toEqual([0, 1, 2, 3]);
    expect(EXIT.error).toBe(4);
  });

  it('prints the Job, the trigger and the message of a failed run, and where its logs are', () => {
    const r = runner({ state: 'Failed', lastRun: run({ result: 'Failed', message: 'BackoffLimitExceeded: …; container check in pod p exited with code 3: 502' }) });
    const text = report(r, { outcome: 'failed', run: r.status!.lastRun! }, false);
    expect(text).toContain('Runner qa/smoke: the run failed');
    expect(text).toContain('Job:      smoke-aaaa');
    expect(text).toContain('Trigger:  first run');
    expect(text).toContain('exited with code 3: 502');
    expect(text).toContain('kubectl hestia logs smoke -n qa --job smoke-aaaa');
    expect(JSON.parse(report(r, { outcome: 'failed', run: r.status!.lastRun! }, true))).toMatchObject({ runner: 'qa/smoke', exitCode: 1, outcome: 'failed', run: { jobName: 'smoke-aaaa' } });
  });

  it('reads --timeout as a Go duration and refuses anything else, naming the flag', () => {
    expect(timeoutFrom(undefined)).toBe(600_000);
    expect(timeoutFrom('90s')).toBe(90_000);
    expect(timeoutFrom('0')).toBe(0);
    expect(() => timeoutFrom('ten minutes')).toThrow(/--timeout/);
    expect(() => timeoutFrom('-1s')).toThrow(/--timeout: must not be negative/);
  });
});

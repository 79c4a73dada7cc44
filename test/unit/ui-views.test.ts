// What the web view's pages show, from a Runner, its Jobs, Events and pods: pure, no server, no browser.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { LastRunStatus } from '../../src/api/runner.ts';
import { sectionsOf } from '../../src/commands/run-logs.ts';
import { changeFrame, sseFrame } from '../../src/ui/feed.ts';
import { apiServerWords, inputView, logsSelection, logsView, noPodsView, readRefusal, runnerDetail, runnerMarks, runnerRow, runnerRows, triggerRefusal } from '../../src/ui/views.ts';
import { uiRunner } from './support/ui-stub-source.ts';

const lastRun = (r: Partial<LastRunStatus> = {}): LastRunStatus => ({
  jobName: 'smoke-1a2b',
  revision: 'r1',
  trigger: 'rollout of Deployment shop/cart',
  reason: 'Revision',
  startTime: '2026-12-01T10:00:00Z',
  completionTime: '2026-12-01T10:00:42Z',
  result: 'Succeeded',
  ...r,
});

const job = (name: string, runKey: string, finished: 'Complete' | 'Failed' | null = 'Complete'): V1Job => ({
  metadata: { name, namespace: 'qa', uid: `uid-${name}`, creationTimestamp: new Date('2026-12-01T10:00:00Z'), annotations: { 'runner.stakater.com/run-key': runKey } },
  spec: { template: { spec: { containers: [{ name: 'check' }] } } },
  status: { startTime: new Date('2026-12-01T10:00:00Z'), ...(finished ? { conditions: [{ type: finished, status: 'True', lastTransitionTime: new Date('2026-12-01T10:00:42Z') }] } : {}) },
});

const pod = (name: string, created: string, exitCode: number, message?: string): V1Pod => ({
  metadata: { name, namespace: 'qa', creationTimestamp: new Date(created) },
  status: {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    containerStatuses: [{ name: 'check', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, ...(message ? { message } : {}) } } }],
  },
});

describe('a line of the Runners page', () => {
  it('says the state, the latest result and when, and the next run', () => {
    const row = runnerRow(uiRunner('smoke', 'qa', { state: 'Scheduled', message: 'next run at 12:00', lastRun: lastRun(), nextScheduleTime: '2026-12-01T12:00:00Z' }, { schedule: '0 12 * * *' }));
    expect(row).toEqual({
      key: 'qa/smoke',
      namespace: 'qa',
      name: 'smoke',
      state: 'Scheduled',
      message: 'next run at 12:00',
      lastResult: 'Succeeded',
      lastRunAt: '2026-12-01T10:00:42Z',
      lastJob: 'smoke-1a2b',
      nextRun: '2026-12-01T12:00:00Z',
      schedule: '0 12 * * *',
      marks: [],
    });
  });

  it('a run in progress is dated by its start; a Runner the operator has not seen has no state yet', () => {
    expect(runnerRow(uiRunner('a', 'qa', { state: 'Running', lastRun: lastRun({ result: 'Running', completionTime: undefined }) })).lastRunAt).toBe('2026-12-01T10:00:00Z');
    expect(runnerRow(uiRunner('b', 'qa', undefined))).toMatchObject({ state: null, lastResult: null, lastRunAt: null, nextRun: null });
  });

  it('marks flaky, advisory, tests, infrastructure errors, suspended and stalled Runners', () => {
    const tests = { tests: 6, failures: 2, errors: 1, skipped: 1, timeSeconds: 0.048 };
    expect(runnerMarks(uiRunner('a', 'qa', { lastRun: lastRun({ flaky: true, attempts: 2 }) }))).toEqual([{ kind: 'flaky', text: 'flaky' }]);
    expect(runnerMarks(uiRunner('a', 'qa', { lastRun: lastRun({ result: 'Failed', tests }) }, { advisory: true }))).toEqual([
      { kind: 'advisory', text: 'advisory' },
      { kind: 'tests', text: '6 tests: 2 failed, 1 error, 1 skipped (0.048 s)', failing: true },
    ]);
    expect(runnerMarks(uiRunner('a', 'qa', { lastRun: lastRun({ tests: { tests: 3 } }) }))).toEqual([{ kind: 'tests', text: '3 tests passed', failing: false }]);
    expect(
      runnerMarks(
        uiRunner('a', 'qa', { lastRun: lastRun({ result: 'Error', errorReason: 'ImagePullFailed' }), conditions: [{ type: 'Stalled', status: 'True', reason: 'RunError', message: 'x', lastTransitionTime: new Date() }] }, { suspend: true }),
      ),
    ).toEqual([
      { kind: 'suspended', text: 'suspended' },
      { kind: 'stalled', text: 'stalled: RunError' },
      { kind: 'error', text: 'error: ImagePullFailed' },
    ]);
  });

  it('lists the Runners by namespace, then name', () => {
    expect(runnerRows([uiRunner('b', 'qa'), uiRunner('z', 'dev'), uiRunner('a', 'qa')]).map((r) => r.key)).toEqual(['dev/z', 'qa/a', 'qa/b']);
  });
});

describe("a Runner's page", () => {
  it('says why it waits: each workload, resource and upstream Runner, each probe, and the conditions', () => {
    const runner = uiRunner('smoke', 'qa', {
      state: 'WaitingForWorkloads',
      message: 'waiting for 1 of 3 workloads',
      watchedResources: [
        { kind: 'Deployment', namespace: 'shop', name: 'cart', ready: false, message: '2/3 available' },
        { kind: 'HelmRelease', apiVersion: 'helm.toolkit.fluxcd.io/v2', namespace: 'shop', name: 'cart', ready: true },
        { kind: 'Runner', namespace: 'qa', name: 'deploy-check', ready: true, message: 'latest run succeeded' },
      ],
      watchedResourcesCount: 5,
      probes: [{ name: 'api', url: 'http://cart.shop.svc/healthz', ready: false, message: 'answered 503, not 200–399' }],
      conditions: [{ type: 'Ready', status: 'False', reason: 'WaitingForWorkloads', message: 'waiting', lastTransitionTime: new Date('2026-12-01T09:00:00Z') }],
    });
    const d = runnerDetail(runner, [], []);
    expect(d.inputs).toEqual([
      { role: 'workload', kind: 'Deployment', namespace: 'shop', name: 'cart', ready: false, message: '2/3 available' },
      { role: 'resource', kind: 'HelmRelease.helm.toolkit.fluxcd.io', namespace: 'shop', name: 'cart', ready: true, message: '' },
      { role: 'upstream', kind: 'Runner', namespace: 'qa', name: 'deploy-check', ready: true, message: 'latest run succeeded' },
    ]);
    expect(d.moreInputs).toBe(2);
    expect(d.probes).toEqual([{ name: 'api', url: 'http://cart.shop.svc/healthz', ready: false, message: 'answered 503, not 200–399' }]);
    expect(d.conditions).toEqual([{ type: 'Ready', status: 'False', reason: 'WaitingForWorkloads', message: 'waiting', since: '2026-12-01T09:00:00.000Z' }]);
    expect(d.lastRun).toBeNull();
    expect(d.timeZone).toBeNull();
  });

  it('an object of another kind than the workload kinds is a resource even without an apiVersion', () => {
    expect(inputView({ kind: 'Service', namespace: 'a', name: 'b', ready: true }).role).toBe('resource');
  });

  it('shows the latest run with its findings and the history with durations, results and test counts', () => {
    const tests = { tests: 6, failures: 1, failed: [{ name: 'test_checkout', classname: 'test_cart.py', kind: 'failure' as const, message: '502 != 200' }] };
    const runner = uiRunner('smoke', 'qa', { state: 'Failed', lastRun: lastRun({ result: 'Failed', message: 'container check exited 1', tests }) }, { schedule: '*/5 * * * *' });
    const d = runnerDetail(runner, [job('smoke-1a2b', '1:revision:r1', 'Failed')], [], ['not allowed to read the Events of Runner qa/smoke (403): forbidden']);
    expect(d.lastRun).toMatchObject({ job: 'smoke-1a2b', result: 'Failed', tests: '6 tests: 1 failed', failedTests: ['failure: test_cart.py.test_checkout — 502 != 200'], flaky: null });
    expect(d.history).toEqual([expect.objectContaining({ run: 1, job: 'smoke-1a2b', result: 'Failed', durationSeconds: 42, tests: '6 tests: 1 failed', jobKept: true })]);
    expect(d.timeZone).toBe('UTC');
    expect(d.problems).toEqual(['not allowed to read the Events of Runner qa/smoke (403): forbidden']);
  });

  it('an infrastructure error says how the run ended', () => {
    expect(runnerDetail(uiRunner('a', 'qa', { lastRun: lastRun({ result: 'Error', errorReason: 'PodEvicted' }) }), [], []).lastRun?.result).toBe('Error (PodEvicted)');
  });
});

describe("a run's logs", () => {
  const runner = uiRunner('smoke', 'qa', { lastRun: lastRun({ jobName: 'smoke-2', result: 'Failed' }) });
  const jobs = [job('smoke-1', '1:revision:r1'), job('smoke-2', '2:manual:x:r1', 'Failed')];

  it("the latest run's Job, or the one named", () => {
    expect(logsSelection(runner, jobs, [], null)).toEqual({ kind: 'found', job: jobs[1] });
    expect(logsSelection(runner, jobs, [], 'smoke-1')).toEqual({ kind: 'found', job: jobs[0] });
  });

  it('a Job no longer kept is said to be gone, as hestia logs says it', () => {
    const view = logsSelection(runner, [jobs[0]!], [], null);
    expect(view).toMatchObject({ kind: 'none', job: 'smoke-2' });
    expect((view as { message: string }).message).toContain('is no longer kept');
  });

  it('a Runner that never ran has nothing to show', () => {
    expect(logsSelection(uiRunner('new'), [], [], null)).toMatchObject({ kind: 'none', job: null, message: expect.stringContaining('has not run yet') });
  });

  it('a Job without pods says why', () => {
    expect(noPodsView(runner, jobs[1]!, jobs, [])).toMatchObject({ kind: 'none', job: 'smoke-2', message: expect.stringContaining('are gone') });
  });

  it('each attempt under its header, with the termination message and what could not be read', () => {
    const pods = [pod('smoke-2-b', '2026-12-01T10:01:00Z', 1, 'assertion failed: 502'), pod('smoke-2-a', '2026-12-01T10:00:00Z', 1)];
    const sections = sectionsOf(pods, ['check']);
    const view = logsView(jobs[1]!, sections, [{ text: 'first try\n' }, { problem: 'the pod is gone' }]);
    expect(view).toEqual({
      kind: 'logs',
      job: 'smoke-2',
      tailLines: 5000,
      sections: [
        { header: '==> attempt 1 of 2: pod smoke-2-a (Failed: container check exited 1) <==', pod: 'smoke-2-a', container: 'check', attempt: 1, attempts: 2, terminationMessage: null, text: 'first try\n', problem: null },
        { header: '==> attempt 2 of 2: pod smoke-2-b (Failed: container check exited 1) <==', pod: 'smoke-2-b', container: 'check', attempt: 2, attempts: 2, terminationMessage: 'assertion failed: 502', text: '', problem: 'the pod is gone' },
      ],
    });
  });

  it('one log alone has no header', () => {
    const view = logsView(jobs[1]!, sectionsOf([pod('p', '2026-12-01T10:00:00Z', 0)], ['check']), [{ text: 'ok' }]);
    expect(view.kind === 'logs' && view.sections[0]!.header).toBeNull();
  });
});

describe("the API server's words", () => {
  const forbidden = { code: 403, body: JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', message: 'runners.e2e.stakater.com "smoke" is forbidden: User "dev" cannot patch resource "runners"', code: 403 }) };

  it('are the message of its Status, whether the body is text or parsed', () => {
    expect(apiServerWords(forbidden)).toBe('runners.e2e.stakater.com "smoke" is forbidden: User "dev" cannot patch resource "runners" (HTTP 403)');
    expect(apiServerWords({ code: 404, body: { message: 'not found' } })).toBe('not found (HTTP 404)');
    expect(apiServerWords({ code: 500, body: 'plain words' })).toBe('plain words (HTTP 500)');
    expect(apiServerWords({ code: 502 })).toBe('HTTP 502');
    expect(apiServerWords(new Error('socket hang up'))).toBe('socket hang up');
    expect(apiServerWords({ message: 'connect ECONNREFUSED 127.0.0.1:6443' })).toContain('cannot reach the API server');
  });

  it("a refused Trigger names the permission it needs and keeps the API server's message", () => {
    expect(triggerRefusal(uiRunner('smoke'), forbidden)).toEqual({
      status: 403,
      message: 'not allowed to patch Runner qa/smoke (403): triggering needs patch on runners (kubectl auth can-i patch runners.e2e.stakater.com -n qa)',
      apiServer: 'runners.e2e.stakater.com "smoke" is forbidden: User "dev" cannot patch resource "runners" (HTTP 403)',
    });
    expect(triggerRefusal(uiRunner('smoke'), new Error('socket hang up'))).toMatchObject({ status: 502, message: 'could not request a run of Runner qa/smoke' });
  });

  it('a refused read says so', () => {
    expect(readRefusal('the Jobs of Runner qa/smoke', forbidden)).toMatch(/^not allowed to read the Jobs of Runner qa\/smoke \(403\): runners/);
  });
});

describe('the feed', () => {
  it('writes each change as one Server-Sent Event whose data is one line of JSON', () => {
    const frame = sseFrame('upsert', { text: 'two\nlines' });
    expect(frame).toBe('event: upsert\ndata: {"text":"two\\nlines"}\n\n');
    expect(changeFrame({ kind: 'delete', runner: uiRunner('smoke') })).toBe('event: delete\ndata: {"key":"qa/smoke","namespace":"qa","name":"smoke"}\n\n');
    expect(changeFrame({ kind: 'health', health: { ok: false, message: 'cannot watch' } })).toBe('event: health\ndata: {"ok":false,"message":"cannot watch"}\n\n');
    expect(changeFrame({ kind: 'upsert', runner: uiRunner('smoke', 'qa', { state: 'Running' }) })).toMatch(/^event: upsert\ndata: \{"key":"qa\/smoke".*"state":"Running".*\}\n\n$/);
  });
});

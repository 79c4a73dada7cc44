import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { formatRunHistory, runHistory } from '../../src/commands/run-history.ts';
import {
  attemptsOf, containerEnded, containersToShow, containerState, explainMissing, explainNoPods, followsSection, needsHeaders, podState,
  refusal, runNumberOf, runsStarted, sectionHeader, sectionsOf, selectJob, type Selection,
} from '../../src/commands/run-logs.ts';
import { jobPodsSelector } from '../../src/runner/job.ts';

const runner = (lastJob: string | null, runs: number | null, latestKey?: string): Runner => ({
  metadata: { name: 'smoke', namespace: 'qa', uid: 'u1' },
  spec: { template: {} },
  status: {
    ...(lastJob ? { lastRun: { jobName: lastJob, revision: 'r', trigger: 'rollout of Deployment shop/cart', reason: 'Revision', startTime: '2026-01-01T00:10:00Z', completionTime: '2026-01-01T00:10:42Z', result: 'Failed', message: 'BackoffLimitExceeded: container check exited with code 3' } } : {}),
    ...(runs === null ? {} : { snapshot: { status: 'active', value: { settled: 'Failed' }, context: { runs, run: latestKey ? { key: latestKey } : null } } }),
  },
});

const job = (name: string, runKey: string | null, created = '2026-01-01T00:00:00Z', finished: 'Complete' | 'Failed' | null = 'Complete'): V1Job => ({
  metadata: { name, uid: `uid-${name}`, creationTimestamp: new Date(created), ...(runKey ? { annotations: { 'runner.stakater.com/run-key': runKey } } : {}) },
  spec: { template: { spec: { containers: [{ name: 'check' }, { name: 'report' }], initContainers: [{ name: 'fixtures' }] } } },
  status: { startTime: new Date(created), ...(finished ? { conditions: [{ type: finished, status: 'True', lastTransitionTime: new Date(created) }] } : {}) },
});

const terminated = (name: string, exitCode: number, reason?: string): V1ContainerStatus =>
  ({ name, image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, ...(reason ? { reason } : {}) } } }) as V1ContainerStatus;
const pod = (name: string, created: string, phase: string, statuses: V1ContainerStatus[] = [], reason?: string): V1Pod => ({
  metadata: { name, namespace: 'qa', creationTimestamp: new Date(created) },
  status: { phase, containerStatuses: statuses, ...(reason ? { reason } : {}) },
});

const jobs = [job('smoke-a', '1:revision:r1', '2026-01-01T00:00:00Z'), job('smoke-b', '2:manual:ci-7:r1', '2026-01-01T00:05:00Z'), job('smoke-c', '4:schedule:2026-01-01T00:10:00.000Z', '2026-01-01T00:10:00Z', 'Failed')];
const found = (s: Selection) => (s.kind === 'found' ? s.job.metadata!.name : s);

describe('which Job a flag selects', () => {
  it('reads the run number each kind of run key starts with', () => {
    expect(jobs.map(runNumberOf)).toEqual([1, 2, 4]);
    expect(runNumberOf(job('other', null))).toBeNull();
    expect(runNumberOf(job('other', 'not a key'))).toBeNull();
  });

  it('the latest run by default: the Job status.lastRun names', () => {
    expect(found(selectJob(runner('smoke-b', 4), jobs, { kind: 'latest' }))).toBe('smoke-b');
  });

  it('the newest kept Job when the status names no run (emptied by another client)', () => {
    expect(found(selectJob(runner(null, null), jobs, { kind: 'latest' }))).toBe('smoke-c');
  });

  it('--run N: the Job whose run key starts with N', () => {
    expect(found(selectJob(runner('smoke-c', 4), jobs, { kind: 'run', n: 2 }))).toBe('smoke-b');
    expect(found(selectJob(runner('smoke-c', 4), jobs, { kind: 'run', n: 1 }))).toBe('smoke-a');
  });

  it('--job NAME: that Job of the Runner', () => {
    expect(found(selectJob(runner('smoke-c', 4), jobs, { kind: 'job', name: 'smoke-a' }))).toBe('smoke-a');
  });

  it('a run number that never existed is no run at all, named with the range there is', () => {
    const r = runner('smoke-c', 4);
    expect(selectJob(r, jobs, { kind: 'run', n: 9 })).toEqual({ kind: 'none', message: 'Runner qa/smoke has no run 9: its runs are numbered 1 to 4 (kubectl hestia runs smoke -n qa)' });
    expect(selectJob(runner(null, 0), [], { kind: 'run', n: 1 })).toMatchObject({ kind: 'none', message: expect.stringContaining('has no run 1: it has not run yet') });
    expect(selectJob(runner(null, null), [], { kind: 'latest' })).toEqual({ kind: 'none', message: 'Runner qa/smoke has not run yet: it has no run to show the logs of' });
  });

  it('counts runs from the snapshot as well as from the kept Jobs', () => {
    expect(runsStarted(runner('smoke-c', 7), jobs)).toBe(7);
    expect(runsStarted(runner('smoke-c', null), jobs)).toBe(4);
  });

  it('a run whose Job is gone is missing, with its Job name when the status still has it', () => {
    const r = runner('smoke-e', 5, '5:revision:r2');
    expect(selectJob(r, jobs, { kind: 'run', n: 3 })).toEqual({ kind: 'missing', target: { kind: 'run', n: 3 }, run: 3, jobName: null });
    expect(selectJob(r, jobs, { kind: 'run', n: 5 })).toEqual({ kind: 'missing', target: { kind: 'run', n: 5 }, run: 5, jobName: 'smoke-e' });
    expect(selectJob(r, jobs, { kind: 'latest' })).toEqual({ kind: 'missing', target: { kind: 'latest' }, run: 5, jobName: 'smoke-e' });
    expect(selectJob(r, jobs, { kind: 'job', name: 'smoke-x' })).toEqual({ kind: 'missing', target: { kind: 'job', name: 'smoke-x' }, run: null, jobName: 'smoke-x' });
  });
});

describe('when the Job is gone', () => {
  const r = runner('smoke-e', 5, '5:revision:r2');
  const history = runHistory(r, jobs, []);

  it("says so, prints the run's line from the run history and points to hestia runs (exit 1)", () => {
    const { code, text } = explainMissing(r, { kind: 'missing', target: { kind: 'latest' }, run: 5, jobName: 'smoke-e' }, history);
    expect(code).toBe(1);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(
      "Job smoke-e (run 5 of Runner qa/smoke) is no longer kept, and its pods' logs went with it: the Runner's history limits (successfulRunsHistoryLimit, failedRunsHistoryLimit) or the Job's ttlSecondsAfterFinished removed it.",
    );
    expect(lines[1]).toBe('What the Runner still knows about it:');
    const table = formatRunHistory(r, history.filter((e) => e.job === 'smoke-e').map((e) => ({ ...e, run: 5 }))).trimEnd().split('\n');
    expect(lines.slice(2, 4)).toEqual(table.map((l) => `  ${l}`));
    expect(lines[3]).toMatch(/^  5 +2026-01-01T00:10:00Z +42s +Failed .*rollout of Deployment shop\/cart +smoke-e \(deleted\) +BackoffLimitExceeded: container check exited with code 3$/);
    expect(lines.at(-1)).toBe('See every run the Runner remembers: kubectl hestia runs smoke -n qa');
  });

  it('an earlier run the history no longer names is still gone (exit 1), said in those words', () => {
    const { code, text } = explainMissing(r, { kind: 'missing', target: { kind: 'run', n: 3 }, run: 3, jobName: null }, history);
    expect(code).toBe(1);
    expect(text).toContain('The Job of run 3 of Runner qa/smoke is no longer kept');
    expect(text).toContain("The run history no longer names run 3's Job");
  });

  it('a --job name neither kept nor in the history is no run of this Runner (exit 4)', () => {
    const { code, text } = explainMissing(r, { kind: 'missing', target: { kind: 'job', name: 'smoke-x' }, run: null, jobName: 'smoke-x' }, history);
    expect(code).toBe(4);
    expect(text).toContain('Runner qa/smoke has no Job smoke-x: it is neither kept nor in the run history.');
  });

  it('a kept Job without pods: gone when it finished, not started yet when it runs', () => {
    expect(explainNoPods(r, jobs[0]!, history.find((e) => e.job === 'smoke-a'))).toMatch(/^The pods of Job smoke-a are gone .*\nWhat the Runner still knows about it:\n  .*START/);
    expect(explainNoPods(r, job('smoke-f', '6:revision:r3', '2026-01-01T00:20:00Z', null), undefined)).toContain('Job smoke-f has started no pod yet');
  });
});

describe('attempts and their headers', () => {
  const second = pod('smoke-b-9zz1q', '2026-01-01T00:00:30Z', 'Succeeded', [terminated('check', 0, 'Completed'), terminated('report', 0, 'Completed')]);
  const first = pod('smoke-b-x7k2p', '2026-01-01T00:00:00Z', 'Failed', [terminated('check', 3, 'Error'), terminated('report', 0, 'Completed')]);

  it("orders a retried Job's pods as attempts, oldest first", () => {
    expect(attemptsOf([second, first]).map((p) => p.metadata!.name)).toEqual(['smoke-b-x7k2p', 'smoke-b-9zz1q']);
  });

  it('labels each attempt with its pod and how it ended', () => {
    const sections = sectionsOf([second, first], ['check']);
    expect(needsHeaders(sections)).toBe(true);
    expect(sections.map(sectionHeader)).toEqual([
      '==> attempt 1 of 2: pod smoke-b-x7k2p (Failed: container check exited 3) <==',
      '==> attempt 2 of 2: pod smoke-b-9zz1q (Succeeded) <==',
    ]);
  });

  it('one pod with one container needs no header; with two, each container is named with its state', () => {
    expect(needsHeaders(sectionsOf([first], ['check']))).toBe(false);
    expect(sectionsOf([first], ['check', 'report']).map(sectionHeader)).toEqual(['==> pod smoke-b-x7k2p, container check (exited 3) <==', '==> pod smoke-b-x7k2p, container report (exited 0) <==']);
  });

  it('tells the states a person needs: killed, evicted, waiting, running', () => {
    expect(podState(pod('p', '2026-01-01T00:00:00Z', 'Failed', [terminated('check', 137, 'OOMKilled')]))).toBe('Failed: container check exited 137 (OOMKilled)');
    expect(podState(pod('p', '2026-01-01T00:00:00Z', 'Failed', [], 'Evicted'))).toBe('Failed: Evicted');
    const waiting = pod('p', '2026-01-01T00:00:00Z', 'Pending', [{ name: 'check', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }]);
    expect(podState(waiting)).toBe('Pending: container check waiting: ImagePullBackOff');
    const running = pod('p', '2026-01-01T00:00:00Z', 'Running', [{ name: 'check', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }]);
    expect([podState(running), containerState(running, 'check'), containerState(running, 'report')]).toEqual(['Running', 'running', 'not started']);
  });
});

describe('containers', () => {
  it('every container of the template in order by default, init containers only when named', () => {
    expect(containersToShow(jobs[0]!, undefined)).toEqual({ ok: true, containers: ['check', 'report'] });
    expect(containersToShow(jobs[0]!, 'report')).toEqual({ ok: true, containers: ['report'] });
    expect(containersToShow(jobs[0]!, 'fixtures')).toEqual({ ok: true, containers: ['fixtures'] });
  });

  it('a container the template lacks is named with the ones it has', () => {
    expect(containersToShow(jobs[0]!, 'chek')).toEqual({ ok: false, message: 'Job smoke-a has no container "chek": its pods have check, report, fixtures (init)' });
  });
});

describe('following', () => {
  const running = pod('smoke-c-2', '2026-01-01T00:01:00Z', 'Running', [{ name: 'check', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }]);
  const failed = pod('smoke-c-1', '2026-01-01T00:00:00Z', 'Failed', [terminated('check', 1)]);

  it("follows the newest pod while its container runs; earlier attempts are printed whole", () => {
    expect(sectionsOf([running, failed], ['check']).map(followsSection)).toEqual([false, true]);
  });

  it('a pod that ended is printed whole, and a container ended in a running pod is not followed', () => {
    expect(followsSection(sectionsOf([failed], ['check'])[0]!)).toBe(false);
    const mixed = pod('p', '2026-01-01T00:00:00Z', 'Running', [terminated('check', 0), { name: 'report', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }]);
    expect([containerEnded(mixed, 'check'), containerEnded(mixed, 'report')]).toEqual([true, false]);
  });
});

describe('refusals', () => {
  it('name the permission missing and the command that checks it', () => {
    expect(refusal({ verb: 'get', resource: 'pods/log', pod: 'smoke-x' }, 'qa')).toBe(
      'not allowed to read the log of pod qa/smoke-x (403): your user needs get on pods/log in namespace qa (kubectl auth can-i get pods --subresource=log -n qa)',
    );
    expect(refusal({ verb: 'list', resource: 'pods', of: 'Job qa/smoke-a' }, 'qa')).toBe(
      'not allowed to list the pods of Job qa/smoke-a (403): your user needs list on pods in namespace qa (kubectl auth can-i list pods -n qa)',
    );
    expect(refusal({ verb: 'list', resource: 'jobs', of: 'Runner qa/smoke' }, 'qa')).toContain('needs list on jobs.batch in namespace qa');
  });

  it('select the pods of a Job by the uid label the Job controller sets', () => {
    expect(jobPodsSelector(jobs[0]!)).toBe('batch.kubernetes.io/controller-uid=uid-smoke-a');
  });
});

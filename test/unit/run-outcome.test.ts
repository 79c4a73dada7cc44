import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { V1Job } from '@kubernetes/client-node';
import {
  failureMessage,
  infrastructureCause,
  jobFindings,
  reportContainerOf,
  reportPodOf,
  terminationDetail,
  terminationMessageOf,
  TERMINATION_TEXT_LIMIT,
  causeFromEvents,
  flakyFrom,
} from '../../src/runner/run-outcome.ts';

const pod = (name: string, containers: V1Pod['status']): V1Pod => ({ metadata: { name }, status: containers });
const terminated = (name: string, exitCode: number, finishedAt: string, extra: { reason?: string; message?: string } = {}) => ({
  name, image: 'busybox', imageID: '', ready: false, restartCount: 0,
  state: { terminated: { exitCode, finishedAt: new Date(finishedAt), ...extra } },
});

describe('terminationDetail', () => {
  it("names the failed container, its pod, exit code, reason and what it wrote to /dev/termination-log", () => {
    const pods = [pod('smoke-abc-1', { phase: 'Failed', containerStatuses: [terminated('check', 3, '2026-01-01T00:00:05Z', { reason: 'Error', message: 'cart returned 502\n' })] })];
    expect(terminationDetail(pods)).toBe('container check in pod smoke-abc-1 exited with code 3 (Error): cart returned 502');
  });

  it('takes the latest failure among retried pods and ignores containers that succeeded', () => {
    const pods = [
      pod('p-old', { containerStatuses: [terminated('check', 1, '2026-01-01T00:00:01Z', { message: 'first try' })] }),
      pod('p-new', { containerStatuses: [terminated('sidecar', 0, '2026-01-01T00:00:09Z'), terminated('check', 2, '2026-01-01T00:00:08Z', { message: 'second try' })] }),
    ];
    expect(terminationDetail(pods)).toBe('container check in pod p-new exited with code 2: second try');
  });

  it('reads init containers and restarted containers (lastState) too', () => {
    const init = pod('p', { initContainerStatuses: [terminated('migrate', 1, '2026-01-01T00:00:01Z', { reason: 'OOMKilled' })] });
    expect(terminationDetail([init])).toBe('container migrate in pod p exited with code 1 (OOMKilled)');
    const restarted = pod('q', {
      containerStatuses: [{ name: 'check', image: 'x', imageID: '', ready: false, restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 7, message: 'flaky' } } }],
    });
    expect(terminationDetail([restarted])).toBe('container check in pod q exited with code 7: flaky');
  });

  it("leaves out the termination message of the container whose report it is (spec.testResults from TerminationMessage)", () => {
    const pods = [pod('p', { phase: 'Failed', containerStatuses: [terminated('check', 1, '2026-01-01T00:00:05Z', { message: '<testsuite tests="1"/>' })] })];
    expect(terminationDetail(pods, 'check')).toBe('container check in pod p exited with code 1');
  });

  it('is null when no container failed (a deadline that killed a running pod, or no pods left)', () => {
    expect(terminationDetail([])).toBeNull();
    expect(terminationDetail([pod('p', { phase: 'Failed', containerStatuses: [] })])).toBeNull();
  });

  it(`keeps the first ${TERMINATION_TEXT_LIMIT} characters of a long message`, () => {
    const long = 'x'.repeat(4096);
    const detail = terminationDetail([pod('p', { containerStatuses: [terminated('c', 1, '2026-01-01T00:00:00Z', { message: long })] })])!;
    expect(detail.endsWith('…')).toBe(true);
    expect(detail.length).toBeLessThan(TERMINATION_TEXT_LIMIT + 60);
  });
});

describe('failureMessage', () => {
  it("puts the Job's reason first and the container's words after it", () => {
    expect(failureMessage('BackoffLimitExceeded: Job has reached the specified backoff limit', 'container c in pod p exited with code 1'))
      .toBe('BackoffLimitExceeded: Job has reached the specified backoff limit; container c in pod p exited with code 1');
    expect(failureMessage('DeadlineExceeded: Job was active longer than specified deadline', null)).toBe('DeadlineExceeded: Job was active longer than specified deadline');
  });
});

const failedJob = (reason: string, status: V1Job['status'] = {}): V1Job => ({
  spec: { activeDeadlineSeconds: 30, template: {} },
  status: { failed: 1, ...status, conditions: [{ type: 'Failed', status: 'True', reason }] },
});
const created = (p: ReturnType<typeof pod>, at: string) => ({ ...p, metadata: { ...p.metadata, creationTimestamp: new Date(at) } });
const waiting = (reason: string, message = '') => ({ name: 'check', image: 'registry.example/nope:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } });

describe('jobFindings', () => {
  it('counts attempts and calls a success after a failed attempt flaky', () => {
    expect(jobFindings({ status: { succeeded: 1, failed: 1 } }, true)).toEqual({ attempts: 2, flaky: true });
    expect(jobFindings({ status: { succeeded: 1 } }, true)).toEqual({ attempts: 1 });
    expect(jobFindings({ status: { failed: 2 } }, false)).toEqual({ attempts: 2 });
    expect(jobFindings({}, true)).toEqual({});
  });
});

describe('infrastructureCause: Error is not Failed', () => {
  it('an image that cannot be pulled, the Job ended by its deadline, is ImagePullFailed', () => {
    const pods = [pod('p', { phase: 'Pending', containerStatuses: [waiting('ImagePullBackOff', 'Back-off pulling image')] })];
    expect(infrastructureCause(failedJob('DeadlineExceeded'), pods)).toEqual({
      reason: 'ImagePullFailed',
      message: 'container check in pod p could not pull image registry.example/nope:1 (ImagePullBackOff: Back-off pulling image)',
    });
  });

  it('a container the kubelet could not create is ContainerNotStarted', () => {
    const pods = [pod('p', { phase: 'Pending', containerStatuses: [waiting('CreateContainerConfigError', 'secret "token" not found')] })];
    expect(infrastructureCause(failedJob('DeadlineExceeded'), pods)?.reason).toBe('ContainerNotStarted');
  });

  it('a pod evicted by the kubelet is PodEvicted, even though its container was killed with a non-zero code', () => {
    const evicted = pod('p', {
      phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.',
      conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet' }],
      containerStatuses: [terminated('check', 137, '2026-01-01T00:00:05Z')],
    });
    expect(infrastructureCause(failedJob('BackoffLimitExceeded'), [evicted])).toEqual({
      reason: 'PodEvicted', message: 'pod p was evicted (TerminationByKubelet): The node was low on resource: memory.',
    });
  });

  it('a pod lost with its node is NodeLost', () => {
    const lost = pod('p', { phase: 'Failed', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' }] });
    expect(infrastructureCause(failedJob('BackoffLimitExceeded'), [lost])?.reason).toBe('NodeLost');
  });

  it('a pod no node could take, ended by the deadline, is Unschedulable', () => {
    const pending = pod('p', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available' }] });
    expect(infrastructureCause(failedJob('DeadlineExceeded'), [pending])).toEqual({ reason: 'Unschedulable', message: 'pod p could not be scheduled: 0/2 nodes are available' });
  });

  it('a check still running at the deadline is DeadlineExceeded, also when the Job controller killed its pod', () => {
    const running = pod('p', { phase: 'Running', containerStatuses: [{ name: 'check', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] });
    expect(infrastructureCause(failedJob('DeadlineExceeded'), [running])).toEqual({ reason: 'DeadlineExceeded', message: 'the check did not finish within spec.deadlineSeconds (30 s)' });
    const killed = { ...pod('p', { phase: 'Failed', containerStatuses: [terminated('check', 143, '2026-01-01T00:00:30Z')] }), metadata: { name: 'p', deletionTimestamp: new Date() } };
    expect(infrastructureCause(failedJob('DeadlineExceeded'), [killed])?.reason).toBe('DeadlineExceeded');
    expect(infrastructureCause(failedJob('DeadlineExceeded'), [])?.reason).toBe('DeadlineExceeded');
  });

  it('is null when the check crashed and restarted (OnFailure) before the deadline stopped it', () => {
    const restarted = {
      ...pod('p', {
        phase: 'Running',
        containerStatuses: [{ name: 'check', image: 'x', imageID: '', ready: false, restartCount: 1, state: { terminated: { exitCode: 143 } }, lastState: { terminated: { exitCode: 2, message: 'boom' } } }],
      }),
      metadata: { name: 'p', deletionTimestamp: new Date() },
    };
    expect(infrastructureCause(failedJob('DeadlineExceeded'), [restarted])).toBeNull();
  });

  it('is null when the check itself failed in any attempt, even if a later one was evicted', () => {
    const own = created(pod('p1', { phase: 'Failed', containerStatuses: [terminated('check', 1, '2026-01-01T00:00:05Z')] }), '2026-01-01T00:00:00Z');
    const evicted = created(pod('p2', { phase: 'Failed', reason: 'Evicted' }), '2026-01-01T00:00:20Z');
    expect(infrastructureCause(failedJob('BackoffLimitExceeded'), [own, evicted])).toBeNull();
    expect(infrastructureCause(failedJob('DeadlineExceeded'), [own])).toBeNull();
  });

  it("reads the scheduler's and the kubelet's Warning Events about the Job's pods when the pods no longer say", () => {
    const job: V1Job = { metadata: { name: 'smoke-abc' }, status: {} };
    const event = (name: string, reason: string, message: string, at: string) => ({ metadata: {}, involvedObject: { kind: 'Pod', name }, reason, message, lastTimestamp: new Date(at) });
    expect(causeFromEvents(job, [event('smoke-abc-x1', 'FailedScheduling', '0/2 nodes are available', '2026-01-01T00:00:01Z')])).toEqual({
      reason: 'Unschedulable', message: 'pod smoke-abc-x1: FailedScheduling: 0/2 nodes are available',
    });
    const pulls = [
      event('smoke-abc-x1', 'Failed', 'Failed to pull image "nope:1": not found', '2026-01-01T00:00:02Z'),
      event('smoke-abc-x1', 'BackOff', 'Back-off pulling image "nope:1"', '2026-01-01T00:00:03Z'),
    ];
    expect(causeFromEvents(job, pulls)).toEqual({ reason: 'ImagePullFailed', message: 'pod smoke-abc-x1: BackOff: Back-off pulling image "nope:1"' });
    expect(causeFromEvents(job, [event('smoke-abcd-x1', 'FailedScheduling', 'other Job', '2026-01-01T00:00:01Z'), event('smoke-abc-x1', 'BackOff', 'Back-off restarting failed container', '2026-01-01T00:00:01Z')])).toBeNull();
  });

  it('is null when the pods are gone and the Job says only that it failed: nothing tells', () => {
    expect(infrastructureCause(failedJob('BackoffLimitExceeded'), [])).toBeNull();
  });
});

describe('flakyFrom: a success after the check itself failed', () => {
  const job = { status: { failed: 1, succeeded: 1 } };
  it('is flaky when an earlier pod of the check failed, or its container restarted after failing', () => {
    const failed = pod('p1', { phase: 'Failed', containerStatuses: [terminated('check', 1, '2026-01-01T00:00:05Z')] });
    expect(flakyFrom(job, [failed, pod('p2', { phase: 'Succeeded' })])).toBe(true);
    const restarted = pod('p', { phase: 'Succeeded', containerStatuses: [{ name: 'check', image: 'x', imageID: '', ready: false, restartCount: 1, state: { terminated: { exitCode: 0 } } }] });
    expect(flakyFrom({ status: { succeeded: 1 } }, [restarted])).toBe(true);
  });

  it('is not flaky when the failed attempt was the infrastructure\'s (evicted), and falls back on the Job when the pods are gone', () => {
    const evicted = pod('p1', { phase: 'Failed', reason: 'Evicted', containerStatuses: [terminated('check', 137, '2026-01-01T00:00:05Z')] });
    expect(flakyFrom(job, [evicted, pod('p2', { phase: 'Succeeded' })])).toBe(false);
    expect(flakyFrom(job, [])).toBe(true);
  });
});

describe('where the test report is', () => {
  it("is in spec.testResults.container, else the template's first container", () => {
    const template = { spec: { containers: [{ name: 'check' }, { name: 'proxy' }] } };
    expect(reportContainerOf({ template, testResults: { format: 'JUnit' } })).toBe('check');
    expect(reportContainerOf({ template, testResults: { format: 'JUnit', container: 'proxy' } })).toBe('proxy');
  });

  it("is read from a flaky run's passing attempt, and from a failed run's newest finished pod", () => {
    const failedFirst = created(pod('p1', { phase: 'Failed' }), '2026-01-01T00:00:00Z');
    const passed = created(pod('p2', { phase: 'Succeeded' }), '2026-01-01T00:00:20Z');
    expect(reportPodOf([failedFirst, passed], true)?.metadata?.name).toBe('p2');
    expect(reportPodOf([passed, failedFirst], true)?.metadata?.name).toBe('p2');
    const failedAgain = created(pod('p3', { phase: 'Failed' }), '2026-01-01T00:00:40Z');
    expect(reportPodOf([failedFirst, failedAgain], false)?.metadata?.name).toBe('p3');
    expect(reportPodOf([created(pod('p4', { phase: 'Pending' }), '2026-01-01T00:01:00Z')], false)).toBeUndefined();
  });

  it("reads the container's termination message in full", () => {
    const p = pod('p', { containerStatuses: [terminated('check', 0, '2026-01-01T00:00:05Z', { message: '<testsuite tests="1"/>' })] });
    expect(terminationMessageOf(p, 'check')).toBe('<testsuite tests="1"/>');
    expect(terminationMessageOf(p, 'other')).toBeNull();
  });
});

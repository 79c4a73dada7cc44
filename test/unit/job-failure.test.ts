import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { failureMessage, terminationDetail, TERMINATION_TEXT_LIMIT } from '../../src/operator/job-failure.ts';

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

import { describe, expect, it } from 'vitest';
import type { RunnerStateName } from '../../machines/runner.ts';
import type { LastRunStatus } from '../../src/api/runner.ts';
import { kstatusConditions, stallOf, type StallArgs } from '../../src/runner/kstatus-conditions.ts';

const failedRun: LastRunStatus = { jobName: 'j', revision: 'r', trigger: 'first run', reason: 'Revision', startTime: 't', result: 'Failed', message: 'BackoffLimitExceeded' };
const args = (over: Partial<StallArgs>): StallArgs => ({
  state: 'Succeeded', lastRun: undefined, advisory: false, valid: true, cycle: false, blockedMessage: null, watchedResources: [], stableStateTimedOut: false, progressingSince: null, ...over,
});
const trio = (state: RunnerStateName, over: Partial<StallArgs> = {}) => {
  const a = args({ state, ...over });
  return Object.fromEntries(kstatusConditions(state, a.lastRun, stallOf(a), 'msg', a.advisory).map((c) => [c.type, `${c.status}/${c.reason}`]));
};

describe('Ready, Reconciling and Stalled', () => {
  it('never has Reconciling and Stalled both True (kstatus reads Reconciling first)', () => {
    expect(trio('WaitingForWorkloads', { stableStateTimedOut: true, progressingSince: 'x' })).toEqual({ Ready: 'False/StableStateTimeout', Reconciling: 'False/WaitingForWorkloads', Stalled: 'True/StableStateTimeout' });
  });

  it('a failed latest run is Stalled/RunFailed at rest (Failed, or Scheduled until the next tick), naming the Job and its message', () => {
    expect(trio('Failed', { lastRun: failedRun })).toEqual({ Ready: 'False/RunFailed', Reconciling: 'False/Failed', Stalled: 'True/RunFailed' });
    expect(trio('Scheduled', { lastRun: failedRun }).Stalled).toBe('True/RunFailed');
    expect(stallOf(args({ state: 'Failed', lastRun: failedRun }))?.message).toBe('Job j failed: BackoffLimitExceeded');
    expect(trio('Running', { lastRun: failedRun })).toEqual({ Ready: 'False/Running', Reconciling: 'True/Running', Stalled: 'False/NotStalled' });
  });

  it('a failed upstream is Stalled/UpstreamFailed; an upstream still running is progress', () => {
    const up = (message: string) => [{ kind: 'Runner' as const, namespace: 'qa', name: 'a', ready: false, message }];
    expect(trio('WaitingForUpstream', { watchedResources: up('latest run failed') }).Stalled).toBe('True/UpstreamFailed');
    expect(stallOf(args({ state: 'WaitingForUpstream', watchedResources: up('latest run failed') }))?.message).toBe('the latest run of upstream Runner qa/a failed');
    expect(trio('WaitingForUpstream', { watchedResources: up('running') })).toEqual({ Ready: 'False/WaitingForUpstream', Reconciling: 'True/WaitingForUpstream', Stalled: 'False/NotStalled' });
  });

  it('a run ended by the infrastructure is Stalled/RunError, told apart from a failed check', () => {
    const errorRun: LastRunStatus = { ...failedRun, result: 'Error', errorReason: 'ImagePullFailed', message: 'could not pull image nope:1' };
    expect(trio('Failed', { lastRun: errorRun })).toEqual({ Ready: 'False/RunError', Reconciling: 'False/Failed', Stalled: 'True/RunError' });
    expect(stallOf(args({ state: 'Failed', lastRun: errorRun }))?.message).toBe('Job j ended in an error (ImagePullFailed): could not pull image nope:1');
    const up = [{ kind: 'Runner' as const, namespace: 'qa', name: 'a', ready: false, message: 'latest run ended in an error' }];
    expect(trio('WaitingForUpstream', { watchedResources: up }).Stalled).toBe('True/UpstreamFailed');
  });

  it('an advisory Runner whose run failed or erred stays Ready (kstatus Current, Argo CD Healthy), neither reconciling nor stalled', () => {
    expect(trio('Failed', { lastRun: failedRun, advisory: true })).toEqual({ Ready: 'True/AdvisoryRunFailed', Reconciling: 'False/Failed', Stalled: 'False/NotStalled' });
    expect(trio('Failed', { lastRun: { ...failedRun, result: 'Error', errorReason: 'PodEvicted' }, advisory: true }).Ready).toBe('True/AdvisoryRunFailed');
    expect(trio('Scheduled', { lastRun: failedRun, advisory: true })).toEqual({ Ready: 'True/Scheduled', Reconciling: 'False/Scheduled', Stalled: 'False/NotStalled' });
    expect(trio('Invalid', { valid: false, blockedMessage: 'spec.schedule: bad', advisory: true }).Stalled).toBe('True/InvalidSpec');
  });

  it('suspended is Ready/Suspended (kstatus Current), neither reconciling nor stalled', () => {
    expect(trio('Suspended', { lastRun: failedRun })).toEqual({ Ready: 'True/Suspended', Reconciling: 'False/Suspended', Stalled: 'False/NotStalled' });
  });

  it('invalid specs and cycles stall with their reason', () => {
    expect(trio('Invalid', { valid: false, blockedMessage: 'spec.schedule: bad' }).Stalled).toBe('True/InvalidSpec');
    expect(trio('Stalled', { cycle: true, blockedMessage: 'dependency cycle: a -> a' }).Stalled).toBe('True/DependencyCycle');
  });

  it('succeeded and scheduled are Ready', () => {
    expect(trio('Succeeded')).toEqual({ Ready: 'True/Succeeded', Reconciling: 'False/Succeeded', Stalled: 'False/NotStalled' });
    expect(trio('Scheduled').Ready).toBe('True/Scheduled');
  });
});

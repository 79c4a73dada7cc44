import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { LABEL_REVISION } from '../../src/api/runner.ts';
import { ANNOTATION_RUN_KEY } from '../../src/runner/job.ts';
import { parseRunKey } from '../../machines/runner.ts';
import { historyFromJobs } from '../../src/runner/runs-from-jobs.ts';

function job(runKey: string, outcome: 'Complete' | 'Failed' | 'Running', revision = 'rev'): V1Job {
  return {
    metadata: { name: `j-${runKey}`, annotations: { [ANNOTATION_RUN_KEY]: runKey }, labels: { [LABEL_REVISION]: revision }, creationTimestamp: new Date('2026-11-27T10:00:00Z') },
    status: outcome === 'Running' ? {} : {
      completionTime: outcome === 'Complete' ? new Date('2026-11-27T10:01:00Z') : undefined,
      conditions: [{ type: outcome, status: 'True', reason: outcome === 'Failed' ? 'BackoffLimitExceeded' : undefined, message: outcome === 'Failed' ? 'Job has reached the specified backoff limit' : undefined, lastTransitionTime: new Date('2026-11-27T10:02:00Z') }],
    },
  };
}

describe('parseRunKey', () => {
  it('reads each kind of run key', () => {
    expect(parseRunKey('3:revision:abc')).toEqual({ n: 3, reason: 'Revision', revision: 'abc', trigger: null, tick: null });
    expect(parseRunKey('4:manual:deploy: v2:abc')).toEqual({ n: 4, reason: 'Manual', revision: 'abc', trigger: 'deploy: v2', tick: null });
    expect(parseRunKey('5:schedule:2026-11-27T10:00:00.000Z')).toEqual({ n: 5, reason: 'Schedule', revision: null, trigger: null, tick: '2026-11-27T10:00:00.000Z' });
  });
  it('refuses what is no run key', () => {
    for (const key of ['', 'abc', 'x:revision:abc', '2:other:abc', '2:manual:nocolon']) expect(parseRunKey(key)).toBeNull();
  });
});

describe('historyFromJobs', () => {
  it('is undefined without a Job that is a run', () => {
    expect(historyFromJobs([])).toBeUndefined();
    expect(historyFromJobs([{ metadata: { name: 'other' } }])).toBeUndefined();
  });

  it('takes the newest run by its number, whatever order the cache lists them in', () => {
    const h = historyFromJobs([job('2:manual:t1:abc', 'Failed'), job('1:revision:abc', 'Complete')])!;
    expect(h).toMatchObject({ runs: 2, lastRevision: 'abc', lastTrigger: 't1' });
    expect(h.run).toMatchObject({ key: '2:manual:t1:abc', reason: 'Manual', result: 'Failed', finishedAt: '2026-11-27T10:02:00.000Z', message: 'BackoffLimitExceeded: Job has reached the specified backoff limit' });
  });

  it('keeps the trigger of the newest manual run after later runs of other reasons', () => {
    const h = historyFromJobs([job('1:manual:t1:abc', 'Complete'), job('2:revision:def', 'Complete')])!;
    expect(h).toMatchObject({ runs: 2, lastRevision: 'def', lastTrigger: 't1' });
    expect(h.run).toMatchObject({ result: 'Succeeded', finishedAt: '2026-11-27T10:01:00.000Z' });
  });

  it('reads the revision of a scheduled run from its label, and gives a running Job as the unfinished run', () => {
    const h = historyFromJobs([job('7:schedule:2026-11-27T10:00:00.000Z', 'Running', 'sched-rev')])!;
    expect(h).toMatchObject({ runs: 7, lastRevision: 'sched-rev', lastTrigger: null });
    expect(h.run).toMatchObject({ key: '7:schedule:2026-11-27T10:00:00.000Z', reason: 'Schedule', tick: '2026-11-27T10:00:00.000Z', startedAt: '2026-11-27T10:00:00.000Z', finishedAt: null, result: null });
  });
});

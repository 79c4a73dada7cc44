import { describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { buildJob, controllingRunnerUid, jobOutcome, labelValue } from '../../src/runner/job.ts';

const runner: Runner = {
  apiVersion: 'e2e.stakater.com/v1alpha1',
  kind: 'Runner',
  metadata: { name: 'smoke', namespace: 'qa', uid: 'uid-1' },
  spec: { template: { metadata: { labels: { team: 'qa' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, deadlineSeconds: 120 },
};

describe('buildJob', () => {
  const job = buildJob(runner, { key: 'revision:abc', revision: 'abc' }, 'smoke-123', { backoffLimit: 1, ttlSecondsAfterFinished: 1800, deadlineSeconds: 120 });

  it('puts the Job in the Runner namespace with the three labels and a controller reference', () => {
    expect(job.metadata).toMatchObject({
      name: 'smoke-123',
      namespace: 'qa',
      labels: { 'runner.stakater.com/name': 'smoke', 'runner.stakater.com/namespace': 'qa', 'runner.stakater.com/revision': 'abc' },
      annotations: { 'runner.stakater.com/run-key': 'revision:abc' },
    });
    expect(job.metadata?.ownerReferences).toEqual([{ apiVersion: 'e2e.stakater.com/v1alpha1', kind: 'Runner', name: 'smoke', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    expect(controllingRunnerUid(job)).toBe('uid-1');
  });

  it('passes deadlineSeconds, backoffLimit and ttl, and defaults restartPolicy to Never', () => {
    expect(job.spec).toMatchObject({ activeDeadlineSeconds: 120, backoffLimit: 1, ttlSecondsAfterFinished: 1800 });
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
    expect(job.spec?.template.metadata?.labels).toMatchObject({ team: 'qa', 'runner.stakater.com/name': 'smoke' });
  });

  it('never lets the template move the pod to another namespace', () => {
    const sneaky = { ...runner, spec: { ...runner.spec, template: { ...runner.spec.template, metadata: { namespace: 'kube-system' } } } };
    const j = buildJob(sneaky, { key: 'k', revision: 'r' }, 'n', { backoffLimit: 1, ttlSecondsAfterFinished: 1 });
    expect(j.metadata?.namespace).toBe('qa');
    expect(j.spec?.template.metadata?.namespace).toBeUndefined();
  });
});

describe('jobOutcome', () => {
  it('is Running until the Job controller says Complete or Failed', () => {
    expect(jobOutcome({ status: { active: 1 } })).toEqual({ phase: 'Running' });
    expect(jobOutcome({ status: { conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }] } })).toEqual({ phase: 'Running' });
  });
  it('carries the condition message', () => {
    expect(jobOutcome({ status: { conditions: [{ type: 'Complete', status: 'True', message: 'Reached expected number of succeeded pods' }] } })).toEqual({ phase: 'Succeeded', message: 'Reached expected number of succeeded pods' });
    expect(jobOutcome({ status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } })).toEqual({ phase: 'Failed', message: 'BackoffLimitExceeded: Job has reached the specified backoff limit' });
  });
});

describe('labelValue', () => {
  it('keeps short values and shortens long ones to a valid 63-character label', () => {
    expect(labelValue('smoke')).toBe('smoke');
    const long = labelValue('x'.repeat(200));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(labelValue('x'.repeat(200))).toBe(long);
  });
});

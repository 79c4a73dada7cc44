import { describe, expect, it } from 'vitest';
import { describeTrigger, waitingForUpstreamMessage, waitingForWorkloadsMessage, type WatchedItem } from '../../src/runner/messages.ts';

const workload = (kind: string, ref: string, ready: boolean, message?: string): WatchedItem => {
  const [namespace = '', name = ''] = ref.split('/');
  return { kind, namespace, name, ready, ...(message === undefined ? {} : { message }) };
};
const runner = (ref: string, ready: boolean, message?: string): WatchedItem => workload('Runner', ref, ready, message);

describe('waitingForWorkloadsMessage', () => {
  it('names the one workload not ready out of several, with its detail', () => {
    const items = [
      workload('Deployment', 'shop/cart', false, '2/3 available'),
      workload('StatefulSet', 'shop/db', true, '3/3 ready'),
      workload('DaemonSet', 'ops/agent', true, '5/5 ready'),
    ];
    expect(waitingForWorkloadsMessage(items)).toBe('waiting for 1 of 3 workloads: Deployment shop/cart (2/3 available)');
  });

  it('speaks of a single workload directly', () => {
    expect(waitingForWorkloadsMessage([workload('Deployment', 'shop/cart', false, '1/3 updated')])).toBe(
      'waiting for workload Deployment shop/cart (1/3 updated)',
    );
  });

  it('lists at most three workloads, then says how many more', () => {
    const items = ['a', 'b', 'c', 'd', 'e'].map((n) => workload('Deployment', `shop/${n}`, false, '0/1 available'));
    expect(waitingForWorkloadsMessage(items)).toBe(
      'waiting for 5 of 5 workloads: Deployment shop/a (0/1 available), Deployment shop/b (0/1 available), ' +
        'Deployment shop/c (0/1 available) and 2 more',
    );
  });

  it('lists exactly three without "and 0 more"', () => {
    const items = ['a', 'b', 'c'].map((n) => workload('Deployment', `shop/${n}`, false));
    expect(waitingForWorkloadsMessage(items)).toBe('waiting for 3 of 3 workloads: Deployment shop/a, Deployment shop/b, Deployment shop/c');
  });

  it('gives the same text whatever order the cache returns the workloads in', () => {
    const items = [
      workload('StatefulSet', 'shop/db', false, '1/3 ready'),
      workload('Deployment', 'shop/web', false, '0/1 available'),
      workload('Deployment', 'shop/cart', false, '2/3 available'),
      workload('Deployment', 'blog/web', true),
    ];
    const expected =
      'waiting for 3 of 4 workloads: Deployment shop/cart (2/3 available), Deployment shop/web (0/1 available), StatefulSet shop/db (1/3 ready)';
    expect(waitingForWorkloadsMessage(items)).toBe(expected);
    expect(waitingForWorkloadsMessage([...items].reverse())).toBe(expected);
  });

  it('explains the enable label when no workload matches', () => {
    expect(waitingForWorkloadsMessage([])).toBe(
      'no enabled workload matches spec.workloadSelector (workloads need the label runner.stakater.com/enable: "true")',
    );
  });

  it('says so when every workload is ready', () => {
    expect(waitingForWorkloadsMessage([workload('Deployment', 'a/b', true), workload('Deployment', 'a/c', true)])).toBe(
      'all 2 workloads are ready',
    );
    expect(waitingForWorkloadsMessage([workload('Deployment', 'a/b', true)])).toBe('workload Deployment a/b is ready');
  });
});

describe('waitingForUpstreamMessage', () => {
  it('names a single upstream Runner and why it blocks', () => {
    expect(waitingForUpstreamMessage([runner('qa/a', false, 'latest run failed')])).toBe(
      'waiting for upstream Runner qa/a (latest run failed)',
    );
  });

  it('counts and lists the blocking upstreams among several', () => {
    const items = [runner('qa/c', true, 'latest run succeeded'), runner('qa/b', false, 'running'), runner('qa/a', false, 'latest run failed')];
    expect(waitingForUpstreamMessage(items)).toBe('waiting for 2 of 3 upstream Runners: qa/a (latest run failed), qa/b (running)');
  });

  it('lists at most three upstreams', () => {
    const items = ['a', 'b', 'c', 'd'].map((n) => runner(`qa/${n}`, false, 'no run yet'));
    expect(waitingForUpstreamMessage(items)).toMatch(/: qa\/a \(no run yet\), qa\/b \(no run yet\), qa\/c \(no run yet\) and 1 more$/);
  });

  it('says that no Runner matches', () => {
    expect(waitingForUpstreamMessage([])).toBe('no Runner matches spec.runnerSelector');
  });
});

describe('describeTrigger', () => {
  const base = ['Deployment/shop/cart@aaa', 'Runner/qa/a@smoke-111', 'StatefulSet/shop/db@bbb', 'spec@s1'];
  const replace = (parts: readonly string[], identity: string, next: string | null) =>
    [...parts.filter((p) => !p.startsWith(`${identity}@`)), ...(next === null ? [] : [`${identity}@${next}`])].sort();

  it('calls the first revision run the first run', () => {
    expect(describeTrigger(null, base, 'Revision')).toBe('first run');
  });

  it('names the workload whose template changed as a rollout', () => {
    expect(describeTrigger(base, replace(base, 'Deployment/shop/cart', 'ccc'), 'Revision')).toBe('rollout of Deployment shop/cart');
  });

  it('names a newly matched workload', () => {
    expect(describeTrigger(base, [...base, 'StatefulSet/a/b@x'], 'Revision')).toBe('new workload StatefulSet a/b');
  });

  it('names a workload that is no longer selected', () => {
    expect(describeTrigger(base, replace(base, 'StatefulSet/shop/db', null), 'Revision')).toBe(
      'workload StatefulSet shop/db no longer selected',
    );
  });

  it('names a new run of an upstream Runner', () => {
    expect(describeTrigger(base, replace(base, 'Runner/qa/a', 'smoke-222'), 'Revision')).toBe('new run of upstream Runner qa/a');
  });

  it('names a newly selected upstream Runner', () => {
    expect(describeTrigger(base, [...base, 'Runner/qa/b@x-1'], 'Revision')).toBe('new upstream Runner qa/b');
  });

  it('calls a change of the Runner\'s own spec a spec change', () => {
    expect(describeTrigger(base, replace(base, 'spec', 's2'), 'Revision')).toBe('spec change');
  });

  it('joins two changes with "and"', () => {
    const parts = replace(replace(base, 'Deployment/shop/cart', 'ccc'), 'StatefulSet/shop/db', 'ddd');
    expect(describeTrigger(base, parts, 'Revision')).toBe('rollout of Deployment shop/cart and rollout of StatefulSet shop/db');
  });

  it('names the first two of several changes and counts the rest', () => {
    let parts = replace(base, 'Deployment/shop/cart', 'ccc');
    parts = replace(parts, 'StatefulSet/shop/db', 'ddd');
    parts = replace(parts, 'spec', 's2');
    parts = replace(parts, 'Runner/qa/a', 'smoke-9');
    expect(describeTrigger(base, parts, 'Revision')).toBe(
      'rollout of Deployment shop/cart, new run of upstream Runner qa/a and 2 more',
    );
  });

  it('quotes the manual trigger value, which may contain @ and /', () => {
    const parts = [...base, 'trigger@2024-05-01 by ops@example.com/x'];
    expect(describeTrigger(base, parts, 'Manual')).toBe('manual trigger "2024-05-01 by ops@example.com/x"');
    expect(describeTrigger(null, parts, 'Manual')).toBe('manual trigger "2024-05-01 by ops@example.com/x"');
  });

  it('describes a trigger value change inside a revision run', () => {
    expect(describeTrigger([...base, 'trigger@1'], [...base, 'trigger@2'], 'Revision')).toBe('manual trigger "2"');
  });

  it('says "manual trigger" when the parts carry no value', () => {
    expect(describeTrigger(base, base, 'Manual')).toBe('manual trigger');
  });

  it('calls a scheduled run "schedule", with the tick when given', () => {
    expect(describeTrigger(base, replace(base, 'Deployment/shop/cart', 'zzz'), 'Schedule')).toBe('schedule');
    expect(describeTrigger(base, base, 'Schedule', '2024-05-01T12:00:00.000Z')).toBe('schedule 2024-05-01T12:00:00.000Z');
  });

  it('says so when a revision run has the same inputs as the previous run', () => {
    expect(describeTrigger(base, base, 'Revision')).toBe('re-run of the same inputs');
  });
});

// The one label selector of a Runner's Jobs (src/runner/job.ts): it must select exactly the labels buildJob writes,
// for every Runner name a cluster accepts (a DNS-1123 subdomain, up to 253 characters), and be a selector the API
// server accepts: each value a valid label value of at most 63 characters.
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { buildJob, runnerJobLabels, runnerJobsSelector } from '../../src/runner/job.ts';

/** A Kubernetes label value: empty, or at most 63 characters, alphanumeric at both ends, `-_.` inside. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const runnerNamed = (namespace: string, name: string): Runner => ({
  apiVersion: 'e2e.stakater.com/v1alpha1',
  kind: 'Runner',
  metadata: { name, namespace, uid: 'uid-1' },
  spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
});

/** `k=v,k=v` back into its pairs. */
const parse = (selector: string): Record<string, string> => Object.fromEntries(selector.split(',').map((term) => term.split('=') as [string, string]));

/** A name of `length` characters as a Runner could be called: DNS-1123, with dots and dashes. */
const nameOf = (length: number, head = 'checkout.smoke-test'): string => `${head}-${'x'.repeat(length)}`.slice(0, length - 1) + 'z';

describe('runnerJobsSelector', () => {
  it('selects a short-named Runner by its name and namespace as they are', () => {
    expect(runnerJobsSelector({ namespace: 'qa', name: 'smoke' })).toBe('runner.stakater.com/name=smoke,runner.stakater.com/namespace=qa');
  });

  it.each([1, 5, 62, 63, 64, 78, 120, 253])('selects the labels buildJob writes for a %i-character name', (length) => {
    const name = nameOf(length);
    expect(name).toHaveLength(length);
    const job = buildJob(runnerNamed('qa', name), { key: 'k', revision: 'r' }, 'job', { backoffLimit: 0, ttlSecondsAfterFinished: 1 });
    const selected = parse(runnerJobsSelector({ namespace: 'qa', name }));
    expect(job.metadata?.labels).toMatchObject(selected);
    expect(job.spec?.template.metadata?.labels).toMatchObject(selected);
    for (const value of Object.values(selected)) {
      expect(value.length).toBeLessThanOrEqual(63);
      expect(value).toMatch(LABEL_VALUE);
    }
  });

  it('keeps a name of 63 characters whole, and shortens one of 64 or more to a readable head and a hash', () => {
    const at = nameOf(63);
    expect(runnerJobLabels({ namespace: 'qa', name: at })['runner.stakater.com/name']).toBe(at);
    const over = nameOf(64);
    const shortened = runnerJobLabels({ namespace: 'qa', name: over })['runner.stakater.com/name']!;
    expect(shortened).not.toBe(over);
    expect(shortened).toMatch(/^checkout\.smoke-test-x+-[0-9a-f]{10}$/);
    // The seen case: a 78-character name, which as a raw label value the API server refuses with a 400.
    const seen = nameOf(78);
    expect(runnerJobsSelector({ namespace: 'qa', name: seen })).not.toContain(seen);
  });

  it('tells apart long names that share their first 63 characters', () => {
    const head = nameOf(70);
    const a = runnerJobsSelector({ namespace: 'qa', name: `${head}-a` });
    const b = runnerJobsSelector({ namespace: 'qa', name: `${head}-b` });
    expect(a).not.toBe(b);
  });

  it('shortens a long namespace the same way the Job labels it', () => {
    const namespace = nameOf(63, 'team');
    expect(parse(runnerJobsSelector({ namespace, name: 'smoke' }))['runner.stakater.com/namespace']).toBe(namespace);
  });
});

// src/runner/readiness/kstatus.ts against the real kstatus library (test/tools/kstatus, sigs.k8s.io/cli-utils): over a corpus of
// objects as Flux, Argo CD, Argo Rollouts, Knative and CloudNativePG leave them, and thousands of objects generated
// by fast-check — shapes real controllers write and shapes no controller should (fields of the wrong type, missing
// parts, odd condition values) — both must give the same status and the same message for every object.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { computeKstatus } from '../../src/runner/readiness/kstatus.ts';
import { runTool } from '../support/tools.ts';
import { kstatusObject } from './support/kstatus-objects.ts';

interface Verdict {
  name: string;
  status: string;
  message: string;
  error?: string;
}

const corpus = (loadAll(readFileSync(new URL('./fixtures/kstatus-corpus.yaml', import.meta.url), 'utf8')) as (object | null)[]).filter((o): o is object => o !== null);

/** The library's verdicts, one per object, in order (one process for the whole batch). */
const library = (objects: object[]): Verdict[] => JSON.parse(runTool('kstatus', [], JSON.stringify(objects))) as Verdict[];

/** What differs between the library and src/runner/readiness/kstatus.ts, one line per object (empty when they agree on all). */
function disagreements(objects: object[]): string[] {
  const now = new Date();
  const theirs = library(objects);
  expect(theirs).toHaveLength(objects.length);
  return objects.flatMap((object, i) => {
    // What the operator sees: the object as JSON text, parsed.
    const ours = computeKstatus(JSON.parse(JSON.stringify(object)), now);
    const lib = theirs[i]!;
    // When the library refuses an object, its wording is Go's; only the verdict has to agree.
    const same = lib.error ? ours.status === 'Unknown' && ours.error !== undefined : ours.status === lib.status && ours.message === lib.message && ours.error === undefined;
    return same ? [] : [`${JSON.stringify(object)}\n  library: ${lib.status} ${JSON.stringify(lib.error ?? lib.message)}\n  ours:    ${ours.status} ${JSON.stringify(ours.error ?? ours.message)}`];
  });
}

describe('kstatus in TypeScript, against the kstatus library', () => {
  it('agrees on every object of the corpus (Flux, Argo CD, Argo Rollouts, Knative, CloudNativePG, built-in kinds)', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(25);
    expect(disagreements(corpus)).toEqual([]);
  });

  it('says what the corpus documents for each kind', () => {
    const status = (name: string) => computeKstatus(corpus.find((o) => (o as { metadata: { name: string } }).metadata.name === name), new Date()).status;
    expect(status('podinfo')).toBe('Current');
    expect(status('podinfo-upgrading')).toBe('InProgress');
    expect(status('podinfo-failed')).toBe('Failed');
    expect(status('podinfo-new-values')).toBe('InProgress');
    expect(status('apps-going')).toBe('Terminating');
    // What kstatus cannot tell, and readyWhen is for: an Argo CD Application's health, an Argo Rollout.
    expect(status('guestbook-degraded')).toBe('Current');
    expect(status('checkout')).toBe('Unknown');
    expect(status('hello-broken')).toBe('InProgress');
    expect(status('pg-main')).toBe('Current');
  });

  it('agrees on thousands of generated objects', () => {
    const seed = Number(process.env.HESTIA_FC_SEED ?? 20261128);
    const objects = fc.sample(kstatusObject, { numRuns: 4000, seed });
    const found = disagreements(objects);
    expect(found.slice(0, 5), `${found.length} of ${objects.length} objects differ (seed ${seed})`).toEqual([]);
  }, 120_000);
});

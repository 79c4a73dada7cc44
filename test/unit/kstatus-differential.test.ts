// src/runner/readiness/kstatus.ts against the real kstatus library (test/tools/kstatus, sigs.k8s.io/cli-utils): over a corpus of
// objects as Flux, Argo CD, Argo Rollouts, Knative and CloudNativePG leave them, and thousands of objects generated
// by fast-check — shapes real controllers write and shapes no controller should (fields of the wrong type, missing
// parts, odd condition values) — both must give the same status and the same message for every object.
//
// The operator's default verdict on a selected resource (src/runner/readiness/resource-readiness.ts, defaultReadiness)
// is kstatus Current with one deliberate departure: kstatus fails open on an object whose controller has not written
// a status yet (a custom resource created a moment ago, kubernetes-sigs/cli-utils#632), and Hestia does not. The last
// tests hold the operator's verdict to the library's on every object that has a status, and show the departure on
// the objects that have none.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { computeKstatus } from '../../src/runner/readiness/kstatus.ts';
import { awaitedReport, defaultReadiness } from '../../src/runner/readiness/resource-readiness.ts';
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

/** Whether the object carries a status with anything in it: what a controller leaves once it has reported. */
const hasStatus = (object: object): boolean => {
  const status = (object as { status?: unknown }).status;
  return typeof status === 'object' && status !== null && (Array.isArray(status) || Object.keys(status).length > 0);
};

/**
 * The operator's default readiness against "the library says Current", over `objects`. An object departs when the
 * library calls it Current although it awaits its controller's first report (a generation, no status, not a built-in
 * kind): there the library fails open and Hestia does not, on purpose. Every other object must agree; a departure
 * must have no status and be not ready; disagreements are one line per object.
 */
function againstLibrary(objects: object[]): { disagreements: string[]; departures: { name: string; ready: boolean; message: string }[] } {
  const now = new Date();
  const theirs = library(objects);
  const disagreements: string[] = [];
  const departures: { name: string; ready: boolean; message: string }[] = [];
  objects.forEach((object, i) => {
    const parsed = JSON.parse(JSON.stringify(object)) as object;
    const ours = defaultReadiness(parsed, now);
    const lib = theirs[i]!;
    const libraryReady = !lib.error && lib.status === 'Current';
    const line = (why: string) => `${JSON.stringify(object)}\n  ${why}\n  library: ${lib.status} ${JSON.stringify(lib.error ?? lib.message)}\n  ours:    ${ours.ready ? 'ready' : 'not ready'} ${JSON.stringify(ours.message)}`;
    if (libraryReady && awaitedReport(parsed) !== null) {
      departures.push({ name: lib.name, ready: ours.ready, message: ours.message });
      if (hasStatus(parsed)) disagreements.push(line('has a status, yet is taken as awaiting its first report'));
      if (ours.ready) disagreements.push(line('awaits its first report, yet is ready'));
    } else if (ours.ready !== libraryReady) disagreements.push(line('differs'));
  });
  return { disagreements, departures };
}

const fresh = (apiVersion: string, kind: string, name: string, extra: { generation?: number; status?: unknown } = {}) => ({
  apiVersion,
  kind,
  metadata: { name, namespace: 'shop', ...(extra.generation !== undefined ? { generation: extra.generation } : {}) },
  ...(extra.status !== undefined ? { status: extra.status } : {}),
});

describe("the operator's default readiness, against the kstatus library", () => {
  // A moment after `kubectl apply`: objects whose controllers have not spoken yet.
  const unreported = [
    fresh('helm.toolkit.fluxcd.io/v2', 'HelmRelease', 'podinfo-just-applied', { generation: 1 }),
    fresh('kustomize.toolkit.fluxcd.io/v1', 'Kustomization', 'apps-empty-status', { generation: 3, status: {} }),
    fresh('postgresql.cnpg.io/v1', 'Cluster', 'pg-null-status', { generation: 1, status: null }),
  ];
  // Objects kstatus calls ready without a status, and Hestia too.
  const readyByExisting = [
    fresh('v1', 'ConfigMap', 'settings'),
    fresh('v1', 'Secret', 'credentials'),
    fresh('example.com/v1', 'Widget', 'no-generation'),
    fresh('batch/v1', 'CronJob', 'nightly', { generation: 1, status: {} }),
  ];
  // A built-in workload without status: kstatus' own rule already says not ready.
  const workloads = [fresh('apps/v1', 'Deployment', 'cart', { generation: 1 }), fresh('apps/v1', 'StatefulSet', 'db', { generation: 1 })];

  it('is not ready while the controller of a custom resource has not reported, where the library says Current', () => {
    const { disagreements, departures } = againstLibrary(unreported);
    expect(disagreements).toEqual([]);
    expect(departures).toEqual(
      ['podinfo-just-applied', 'apps-empty-status', 'pg-null-status'].map((name) => ({
        name,
        ready: false,
        message: expect.stringMatching(/^no status yet: its controller has not reported on generation [13]; if no controller will, give this kind a readyWhen$/),
      })),
    );
  });

  it('is ready by existing for an object without generation or status (ConfigMap, Secret), and follows kstatus for built-in kinds', () => {
    expect(againstLibrary([...readyByExisting, ...workloads])).toEqual({ disagreements: [], departures: [] });
    expect(readyByExisting.map((o) => defaultReadiness(o, new Date()).ready)).toEqual([true, true, true, true]);
    expect(workloads.map((o) => defaultReadiness(o, new Date()))).toEqual([
      { ready: false, message: 'InProgress: Replicas: 0/1' },
      { ready: false, message: 'InProgress: Replicas: 0/1' },
    ]);
  });

  it('is the library\'s verdict on every object of the corpus but the HelmRelease just created', () => {
    const { disagreements, departures } = againstLibrary(corpus);
    expect(disagreements).toEqual([]);
    // The LoadBalancer Service "edge" has no status either: a built-in kind, judged by kstatus' rule (not ready).
    expect(departures).toEqual([{ name: 'podinfo-fresh', ready: false, message: expect.stringContaining('not reported on generation 1') }]);
  });

  it('is the library\'s verdict on every generated object that has a status, and departs only on some without', () => {
    const seed = Number(process.env.HESTIA_FC_SEED ?? 20261128);
    const objects = fc.sample(kstatusObject, { numRuns: 4000, seed });
    const { disagreements, departures } = againstLibrary(objects);
    expect(disagreements.slice(0, 5), `${disagreements.length} of ${objects.length} objects differ (seed ${seed})`).toEqual([]);
    // The departure is exercised by the generated objects, not only by the cases above.
    expect(departures.length).toBeGreaterThan(0);
    console.log(`kstatus differential: ${departures.length} of ${objects.length} generated objects await their first report (seed ${seed}), every other verdict the library's`);
  }, 120_000);
});

// SPEC §2.3 without a cluster: readyWhen in CEL, the checks of spec.resources and spec.probes naming their field,
// resource readiness and revision parts in the assessment, probes as the last gate, and who selects which object.
import { describe, expect, it } from 'vitest';
import type { ResourceInput, Runner } from '../../src/api/runner.ts';
import { assess, gateOnProbes, type SelectedResources } from '../../src/runner/assess.ts';
import { describeTrigger } from '../../src/runner/messages.ts';
import { compileReadyWhen } from '../../src/runner/readiness/ready-when.ts';
import { kstatusReadiness, resourceReadiness, viewOfResource, type ResourceView } from '../../src/runner/readiness/resource-readiness.ts';
import { ResourceSelections } from '../../src/operator/resource-selections.ts';
import { validateRunnerSpec } from '../../src/runner/spec/spec.ts';

const template = { spec: { containers: [{ name: 'check', image: 'busybox' }] } };
const runner = (spec: Partial<Runner['spec']>, name = 'smoke'): Runner => ({ metadata: { namespace: 'qa', name, uid: `uid-${name}`, generation: 1 }, spec: { template, ...spec } });
const HR: ResourceInput = { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', selector: { matchLabels: { app: 'podinfo' } } };
const ENABLE = { 'runner.stakater.com/enable': 'true' };

const helmRelease = (name: string, ready: boolean, extra: { generation?: number; labels?: Record<string, string> } = {}) => ({
  apiVersion: 'helm.toolkit.fluxcd.io/v2',
  kind: 'HelmRelease',
  metadata: { name, namespace: 'shop', uid: `${name}-0123456789`, generation: extra.generation ?? 1, resourceVersion: '1', labels: extra.labels ?? { app: 'podinfo', ...ENABLE } },
  status: { observedGeneration: extra.generation ?? 1, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', message: ready ? 'released' : 'install failed' }] },
});

const view = (o: object, expressions: string[] = []) => viewOfResource(o, expressions, new Date());
const selected = (input: ResourceInput, objects: ResourceView[], index = 0): SelectedResources => ({ index, input, availability: { state: 'ready' }, objects });

describe('readyWhen (CEL over object)', () => {
  it('judges an object as Kubernetes CEL would: whole numbers are ints, missing fields are errors', () => {
    const app = { status: { health: { status: 'Healthy' }, sync: { status: 'Synced' }, readyReplicas: 2 }, metadata: { generation: 3 } };
    const ok = (e: string) => {
      const c = compileReadyWhen(e);
      if (!c.ok) throw new Error(c.problem);
      return c;
    };
    expect(ok("object.status.health.status == 'Healthy' && object.status.sync.status == 'Synced'").evaluate(app)).toEqual({ ready: true, message: 'readyWhen is true' });
    expect(ok('object.status.readyReplicas + 1 == 3 && object.metadata.generation == 3').evaluate(app).ready).toBe(true);
    expect(ok("object.status.health.status == 'Degraded'").evaluate(app)).toEqual({ ready: false, message: 'readyWhen is false' });
    expect(ok('object.status.phase == "Healthy"').evaluate(app)).toEqual({ ready: false, message: 'readyWhen: No such key: phase' });
    expect(ok('object.status.readyReplicas').evaluate(app)).toEqual({ ready: false, message: 'readyWhen gave an int, not true or false' });
  });

  it('refuses what cannot be a readiness rule, saying why', () => {
    const problem = (e: string) => {
      const c = compileReadyWhen(e);
      return c.ok ? null : c.problem;
    };
    expect(problem("object.status.phase == 'Healthy' &&")).toMatch(/^is not a CEL expression: /);
    expect(problem('status.phase == "Healthy"')).toBe('is not a valid CEL expression over object: Unknown variable: status');
    expect(problem('"Healthy"')).toBe('gives a string, not true or false');
    expect(problem(' ')).toMatch(/^is empty/);
    expect(problem('true'.padEnd(3000, ' '))).toMatch(/^is 3000 characters long/);
  });
});

describe('validateRunnerSpec: spec.resources and spec.probes', () => {
  const fields = (spec: Partial<Runner['spec']>) => validateRunnerSpec({ template, ...spec }).map((p) => p.field);

  it('accepts the fields as documented', () => {
    expect(fields({
      resources: [HR, { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', selector: {}, readyWhen: "object.status.health.status == 'Healthy'" }, { apiVersion: 'v1', kind: 'Service', selector: {} }],
      probes: [{ name: 'api', http: { url: 'https://api.shop.svc:8443/healthz', expectStatus: [200, 204], headers: { Authorization: 'Bearer x' } }, timeoutSeconds: 3, periodSeconds: 30 }],
    })).toEqual([]);
  });

  it('names the field of each problem', () => {
    expect(fields({ resources: [{ ...HR, readyWhen: 'object.status ==' }, { apiVersion: 'a/b/c', kind: 'helm release', selector: { matchExpressions: [{ key: 'app', operator: 'Equals' }] } } as never, { kind: 'X' } as never] })).toEqual([
      'spec.resources[0].readyWhen',
      'spec.resources[1].apiVersion',
      'spec.resources[1].kind',
      'spec.resources[1].selector.matchExpressions[0].operator',
      'spec.resources[2].apiVersion',
      'spec.resources[2].selector',
    ]);
    expect(fields({
      probes: [
        { name: 'API', http: { url: 'ftp://x', expectStatus: [600] }, timeoutSeconds: 0 },
        { name: 'b', http: { url: 'http://user:secret@x/', headers: { 'Bad Header': 'v', ok: 'line\nbreak' } }, periodSeconds: 1.5 },
        { name: 'b', http: { url: 'http://x/' } },
      ] as never,
    })).toEqual([
      'spec.probes[0].name',
      'spec.probes[0].http.url',
      'spec.probes[0].http.expectStatus[0]',
      'spec.probes[0].timeoutSeconds',
      'spec.probes[1].http.url',
      'spec.probes[1].http.headers[Bad Header]',
      'spec.probes[1].http.headers[ok]',
      'spec.probes[1].periodSeconds',
      'spec.probes[2].name',
    ]);
  });
});

describe('readiness of a selected resource', () => {
  it('is kstatus Current by default, or what its readyWhen says', () => {
    const o = view(helmRelease('podinfo', true), ["object.status.conditions.exists(c, c.type == 'Ready' && c.message == 'nope')"]);
    expect(resourceReadiness(o, undefined)).toEqual({ ready: true, message: 'Current: Resource is Ready' });
    expect(resourceReadiness(o, "object.status.conditions.exists(c, c.type == 'Ready' && c.message == 'nope')")).toEqual({ ready: false, message: 'readyWhen is false' });
    expect(resourceReadiness(o, 'true')).toEqual({ ready: false, message: 'readyWhen not evaluated yet' });
    // An Argo Rollout's observedGeneration is a string: kstatus cannot judge it, and says what to do.
    expect(kstatusReadiness({ status: 'Unknown', message: 'x', error: '.status.observedGeneration accessor error' }).message).toMatch(/give this kind a readyWhen$/);
  });

  it('keeps of the object its identity, generation and verdicts only', () => {
    expect(Object.keys(view(helmRelease('podinfo', true))).sort()).toEqual(['kstatus', 'metadata', 'readyWhen']);
  });
});

describe('assess with resources and probes', () => {
  it('waits for resources as for workloads, naming each, and lists them in watchedResources', () => {
    const a = assess({ runner: runner({ resources: [HR] }), workloads: [], upstreams: [], problems: [], cycle: null, resources: [selected(HR, [view(helmRelease('podinfo', false)), view(helmRelease('other', true))])] });
    expect(a.inputs.workloadsReady).toBe(false);
    expect(a.blockedMessage).toBe('waiting for 1 of 2 resources: HelmRelease shop/podinfo (InProgress: install failed)');
    expect(a.watchedResources.map((w) => [w.kind, w.apiVersion, w.name, w.ready])).toEqual([
      ['HelmRelease', 'helm.toolkit.fluxcd.io/v2', 'other', true],
      ['HelmRelease', 'helm.toolkit.fluxcd.io/v2', 'podinfo', false],
    ]);
  });

  it('reports a kind that cannot be read, and an entry that selects nothing', () => {
    const unserved = { state: 'unserved' as const, message: 'kind HelmRelease (helm.toolkit.fluxcd.io/v2) is not served by this cluster' };
    const a = assess({ runner: runner({ resources: [HR, HR] }), workloads: [], upstreams: [], problems: [], cycle: null, resources: [{ ...selected(HR, []), availability: unserved }, selected(HR, [], 1)] });
    expect(a.blockedMessage).toBe('kind HelmRelease (helm.toolkit.fluxcd.io/v2) is not served by this cluster; no enabled HelmRelease (helm.toolkit.fluxcd.io/v2) matches spec.resources[1].selector (objects need the label runner.stakater.com/enable: "true")');
  });

  it('makes uid and generation a resource\'s part of the revision, told as "change of" in the trigger', () => {
    const at = (generation: number) => assess({ runner: runner({ resources: [HR] }), workloads: [], upstreams: [], problems: [], cycle: null, resources: [selected(HR, [view(helmRelease('podinfo', true, { generation }))])] });
    const [one, again, two] = [at(1), at(1), at(2)];
    expect(one.inputs.revision).toBe(again.inputs.revision);
    expect(two.inputs.revision).not.toBe(one.inputs.revision);
    expect(one.inputs.parts).toContain('HelmRelease.helm.toolkit.fluxcd.io/shop/podinfo@podinfo-.1');
    expect(describeTrigger(one.inputs.parts, two.inputs.parts, 'Revision')).toBe('change of HelmRelease shop/podinfo');
    expect(describeTrigger(null, one.inputs.parts, 'Revision')).toBe('first run');
    expect(describeTrigger(two.inputs.parts, assess({ runner: runner({ resources: [HR] }), workloads: [], upstreams: [], problems: [], cycle: null }).inputs.parts, 'Revision')).toBe('resource HelmRelease shop/podinfo no longer selected');
  });

  it('lets probes hold a Runner back last, without changing its revision', () => {
    const base = assess({ runner: runner({}), workloads: [], upstreams: [], problems: [], cycle: null });
    expect(base.satisfiedButProbes).toBe(true);
    const closed = gateOnProbes(base, { open: false, statuses: [{ name: 'api', url: 'http://api/', ready: false, message: 'answered 503, not 200–399' }] });
    expect(closed.inputs.workloadsReady).toBe(false);
    expect(closed.inputs.revision).toBe(base.inputs.revision);
    expect(closed.blockedMessage).toBe('waiting for probe api (answered 503, not 200–399)');
    expect(closed.satisfiedButProbes).toBe(true);
    const open = gateOnProbes(base, { open: true, statuses: [{ name: 'api', url: 'http://api/', ready: true, message: 'answered 200' }] });
    expect(open.inputs).toEqual(base.inputs);
    expect(open.probes).toHaveLength(1);
  });
});

describe('ResourceSelections', () => {
  it('links each entry to the enabled objects of its kind that its selector and namespaceSelector allow, both ways', () => {
    const objects = new Map<string, ResourceView>();
    const labels: Record<string, Record<string, string>> = { shop: { env: 'staging' }, prod: { env: 'prod' } };
    const s = new ResourceSelections({ resource: (kind, ns, name) => objects.get(`${kind}|${ns}/${name}`), namespaceLabels: (ns) => labels[ns] ?? {} });
    const KIND = 'helm.toolkit.fluxcd.io/v2/HelmRelease';
    const add = (ns: string, name: string, l: Record<string, string>) => {
      const v = view({ ...helmRelease(name, true, { labels: l }), metadata: { ...helmRelease(name, true, { labels: l }).metadata, namespace: ns } });
      objects.set(`${KIND}|${ns}/${name}`, v);
      return s.objectChanged(KIND, v, true);
    };
    add('shop', 'a', { app: 'podinfo', ...ENABLE });
    s.runnerChanged(runner({ resources: [HR], namespaceSelector: { matchLabels: { env: 'staging' } } }));
    expect(s.selected('qa/smoke', 0).map((v) => v.metadata.name)).toEqual(['a']);
    expect(add('prod', 'b', { app: 'podinfo', ...ENABLE })).toEqual(new Set());
    expect(add('shop', 'c', { app: 'podinfo' })).toEqual(new Set());
    expect(add('shop', 'd', { app: 'podinfo', ...ENABLE })).toEqual(new Set(['qa/smoke']));
    expect(s.selected('qa/smoke', 0).map((v) => v.metadata.name).sort()).toEqual(['a', 'd']);
    labels.prod = { env: 'staging' };
    expect(s.namespaceLabelsChanged()).toEqual(new Set(['qa/smoke']));
    expect(s.selected('qa/smoke', 0).map((v) => v.metadata.name).sort()).toEqual(['a', 'b', 'd']);
    expect(s.objectRemoved(KIND, objects.get(`${KIND}|shop/a`)!)).toEqual(new Set(['qa/smoke']));
    expect([...s.usersOf(KIND)]).toEqual(['qa/smoke']);
    s.runnerRemoved('qa/smoke');
    expect([...s.usersOf(KIND)]).toEqual([]);
  });
});

// Hestia's CRDs are structural schemas the API server will take (every node typed, arrays with items, no
// properties beside additionalProperties), the Destination and Notification CRDs say what src/notify/api.ts says
// (kinds, enums, bounds, required fields), and the notification samples are objects those schemas and their
// spec-level CEL rules admit. test/integration/admission.test.ts has the real API server judge the Runner CRD.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { GROUP, VERSION } from '../../src/api/runner.ts';
import { CLOUDEVENTS_MODES, DESTINATION_DEFAULTS, DESTINATION_KIND, DESTINATION_PLURAL, DESTINATION_TYPES, HAPPENINGS, NOTIFICATION_KIND, NOTIFICATION_PLURAL, NOTIFY_API_VERSION } from '../../src/notify/api.ts';

interface Schema {
  type?: string;
  description?: string;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  anyOf?: Schema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message: string }[];
  [keyword: string]: unknown;
}
interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; shortNames?: string[]; categories?: string[] };
    versions: { name: string; subresources?: { status?: object }; additionalPrinterColumns?: { name: string; jsonPath: string }[]; schema: { openAPIV3Schema: Schema } }[];
  };
}
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [field: string]: unknown;
}

const readYaml = (path: string) => (loadAll(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')) as unknown[]).filter(Boolean);
const crdOf = (plural: string) => readYaml(`crds/${GROUP}_${plural}.yaml`)[0] as Crd;
const CRDS = { runners: crdOf('runners'), destinations: crdOf(DESTINATION_PLURAL), notifications: crdOf(NOTIFICATION_PLURAL) };
const rootOf = (crd: Crd) => crd.spec.versions.find((v) => v.name === VERSION)!.schema.openAPIV3Schema;
const at = (schema: Schema, path: string) => path.split('.').reduce((s, key) => (key === '[]' ? s.items! : s.properties![key]!), schema);

/** Where a schema is not structural (k8s.io/apiextensions-apiserver's rules that a file can show), by path. */
function structuralProblems(schema: Schema, path = ''): string[] {
  const own: string[] = [];
  const where = path || '/';
  const special = schema['x-kubernetes-int-or-string'] || schema['x-kubernetes-preserve-unknown-fields'];
  if (!schema.type && !special) own.push(`${where}: no type`);
  if ('$ref' in schema || 'definitions' in schema) own.push(`${where}: $ref or definitions`);
  if (schema.properties && schema.additionalProperties !== undefined) own.push(`${where}: properties beside additionalProperties`);
  if (schema.type === 'array' && !schema.items) own.push(`${where}: an array without items`);
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set' && (schema.items?.type === 'object' || schema.items?.type === 'array')) own.push(`${where}: a set of ${schema.items.type}s`);
  if (listType === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    if (keys.length === 0 || keys.some((k) => !schema.items?.required?.includes(k))) own.push(`${where}: a map list whose keys are not required fields`);
  }
  const children: [string, Schema][] = [
    ...Object.entries(schema.properties ?? {}).map(([k, v]): [string, Schema] => [`${path}.${k}`, v]),
    ...(schema.items ? [[`${path}[]`, schema.items] as [string, Schema]] : []),
    ...(typeof schema.additionalProperties === 'object' ? [[`${path}{}`, schema.additionalProperties] as [string, Schema]] : []),
  ];
  return [...own, ...children.flatMap(([p, s]) => structuralProblems(s, p))];
}

/** What the API server would refuse (or prune) of `value` by the schema's types and bounds, by path; CEL rules aside. */
function schemaProblems(schema: Schema, value: unknown, path: string): string[] {
  const type = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (schema.type && schema.type !== type && !(schema.type === 'number' && type === 'integer')) return [`${path}: a ${type}, not a ${schema.type}`];
  const problems: string[] = [];
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${path}: ${String(value)} is not one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${path}: longer than ${schema.maxLength}`);
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) problems.push(`${path}: does not match ${schema.pattern}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${path}: more than ${schema.maxItems} items`);
    if (schema['x-kubernetes-list-type'] === 'set' && new Set(value).size !== value.length) problems.push(`${path}: a set with duplicates`);
    value.forEach((item, i) => problems.push(...schemaProblems(schema.items!, item, `${path}[${i}]`)));
  }
  if (type === 'object' && value !== null) {
    const fields = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in fields)) problems.push(`${path}.${key}: required`);
    for (const [key, field] of Object.entries(fields)) {
      // ObjectMeta is the API server's own: a CRD's schema for it is only `type: object`.
      if (path === '' && key === 'metadata') continue;
      const fieldSchema = schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (fieldSchema) problems.push(...schemaProblems(fieldSchema, field, `${path}.${key}`));
      else if (!schema['x-kubernetes-preserve-unknown-fields']) problems.push(`${path}.${key}: unknown field (would be pruned)`);
    }
  }
  return problems;
}

const cel = createRequire(import.meta.url)('@marcbachmann/cel-js') as typeof import('@marcbachmann/cel-js');
const celSelf = new cel.Environment().registerVariable('self', 'map');

/** The messages of the spec-level CEL rules that `spec` breaks. */
function specRuleMessages(crd: Crd, spec: unknown): string[] {
  return (at(rootOf(crd), 'spec')['x-kubernetes-validations'] ?? []).filter((r) => celSelf.parse(r.rule)({ self: spec }) !== true).map((r) => r.message);
}

const samples = ['notification-slack.yaml', 'notification-cloudevents.yaml'].flatMap((file) => readYaml(`deploy/samples/${file}`) as KubeObject[]);
const notifyKinds: Record<string, Crd> = { [DESTINATION_KIND]: CRDS.destinations, [NOTIFICATION_KIND]: CRDS.notifications };

describe("Hestia's CRDs", () => {
  it.each(Object.entries(CRDS))('%s: a structural schema, with a description at its root', (_, crd) => {
    expect(structuralProblems(rootOf(crd))).toEqual([]);
    expect(rootOf(crd).description).toBeTruthy();
  });

  it.each(Object.entries(CRDS))('%s: namespaced, in the hestia category, with a status subresource and an Age column', (_, crd) => {
    expect(crd.spec.group).toBe(GROUP);
    expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.${GROUP}`);
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names.categories).toEqual(['hestia']);
    const [version] = crd.spec.versions;
    expect(version!.subresources?.status).toEqual({});
    expect(version!.additionalPrinterColumns).toContainEqual(expect.objectContaining({ name: 'Age', jsonPath: '.metadata.creationTimestamp' }));
  });

  it('would be told apart from a schema that is not structural', () => {
    const bad: Schema = { type: 'object', properties: { a: {}, b: { type: 'array' } }, additionalProperties: { type: 'string' } };
    expect(structuralProblems(bad)).toEqual(['/: properties beside additionalProperties', '.a: no type', '.b: an array without items']);
  });

  it('have short names of their own', () => {
    const shortNames = Object.values(CRDS).flatMap((c) => c.spec.names.shortNames ?? []);
    expect(shortNames).toEqual(['rn', 'hdst', 'hntf']);
  });

  it('describe conditions as the Runner does (metav1.Condition)', () => {
    const conditions = at(rootOf(CRDS.runners), 'status.conditions');
    for (const crd of [CRDS.destinations, CRDS.notifications]) {
      const own = at(rootOf(crd), 'status.conditions');
      expect({ ...own, description: undefined }).toEqual({ ...conditions, description: undefined });
      expect(at(rootOf(crd), 'status.observedGeneration').type).toBe('integer');
    }
  });
});

describe('the Destination CRD', () => {
  const root = rootOf(CRDS.destinations);

  it('is the Destination of src/notify/api.ts: its kind, types, CloudEvents modes and timeout bounds', () => {
    expect(CRDS.destinations.spec.names.kind).toBe(DESTINATION_KIND);
    expect(at(root, 'spec').required).toEqual(['type']);
    expect(at(root, 'spec.type').enum).toEqual([...DESTINATION_TYPES]);
    expect(at(root, 'spec.cloudEvents.mode').enum).toEqual([...CLOUDEVENTS_MODES]);
    expect(at(root, 'spec.cloudEvents.mode').description).toContain(`${DESTINATION_DEFAULTS.cloudEventsMode} (the default)`);
    expect(at(root, 'spec.timeoutSeconds')).toMatchObject({ type: 'integer', minimum: 1, maximum: 60 });
    expect(at(root, 'spec.timeoutSeconds').description).toContain(`default ${DESTINATION_DEFAULTS.timeoutSeconds}`);
    expect(at(root, 'spec.secretRef').required).toEqual(['name']);
    expect(CRDS.destinations.spec.versions[0]!.additionalPrinterColumns!.map((c) => c.name)).toEqual(['Type', 'Ready', 'Age', 'Message']);
  });

  it('refuses a Destination with neither an address nor a Secret, naming both fields', () => {
    expect(specRuleMessages(CRDS.destinations, { type: 'Webhook' })).toEqual([expect.stringMatching(/spec\.address.*spec\.secretRef/)]);
    expect(specRuleMessages(CRDS.destinations, { type: 'Webhook', address: 'https://hooks.example.com/' })).toEqual([]);
    expect(specRuleMessages(CRDS.destinations, { type: 'Slack', secretRef: { name: 'slack' } })).toEqual([]);
  });

  it('refuses CloudEvents settings on a Destination of another type', () => {
    expect(specRuleMessages(CRDS.destinations, { type: 'Slack', secretRef: { name: 'slack' }, cloudEvents: { mode: 'Binary' } })).toEqual(['spec.cloudEvents applies only to type CloudEvents']);
  });

  it('refuses a timeout outside 1–60 seconds and an unknown type', () => {
    expect(schemaProblems(root, { spec: { type: 'Webhook', address: 'https://x.example/', timeoutSeconds: 61 } }, '')).toEqual(['.spec.timeoutSeconds: above 60']);
    expect(schemaProblems(root, { spec: { type: 'Email', address: 'https://x.example/', timeoutSeconds: 0 } }, '')).toEqual([
      '.spec.type: Email is not one of CloudEvents, Webhook, Slack, MSTeams',
      '.spec.timeoutSeconds: below 1',
    ]);
  });
});

describe('the Notification CRD', () => {
  const root = rootOf(CRDS.notifications);

  it('is the Notification of src/notify/api.ts: its kind, its happenings (a set of at least one), its required fields', () => {
    expect(CRDS.notifications.spec.names.kind).toBe(NOTIFICATION_KIND);
    expect(at(root, 'spec').required).toEqual(['destinationRef', 'events']);
    expect(at(root, 'spec.destinationRef').required).toEqual(['name']);
    expect(at(root, 'spec.events')).toMatchObject({ minItems: 1, 'x-kubernetes-list-type': 'set' });
    expect(at(root, 'spec.events.[]').enum).toEqual([...HAPPENINGS]);
    expect(CRDS.notifications.spec.versions[0]!.additionalPrinterColumns!.map((c) => c.name)).toEqual(['Destination', 'Events', 'Ready', 'Age', 'Message']);
  });

  it('keeps what was delivered per Runner: a time and the ids', () => {
    const status = { delivered: { 'qa/smoke': { at: '2026-12-01T10:00:00Z', ids: ['1a2b3c', '4d5e6f'] } } };
    expect(schemaProblems(at(root, 'status'), status, '.status')).toEqual([]);
    expect(schemaProblems(at(root, 'status'), { delivered: { 'qa/smoke': { ids: 'x' } } }, '.status')).toEqual([
      '.status.delivered.qa/smoke.at: required',
      '.status.delivered.qa/smoke.ids: a string, not a array',
    ]);
  });

  it('refuses no happening, an unknown one, and a Notification without a Destination', () => {
    expect(schemaProblems(root, { spec: { destinationRef: { name: 'd' }, events: [] } }, '')).toEqual(['.spec.events: fewer than 1 items']);
    expect(schemaProblems(root, { spec: { events: ['RunExploded'] } }, '')).toEqual([
      '.spec.destinationRef: required',
      '.spec.events[0]: RunExploded is not one of RunStarted, RunSucceeded, RunFailed, RunRecovered, RunFlaky, RunError, Stalled',
    ]);
  });
});

describe('the notification samples (deploy/samples/notification-*.yaml)', () => {
  it('are a Slack Destination with its Secret, a CloudEvents one, and a Notification for each', () => {
    expect(samples.map((s) => `${s.kind}/${s.metadata.name}`)).toEqual([
      'Secret/slack-webhook', 'Destination/shop-slack', 'Notification/shop-failures', 'Destination/cloudevents-receiver', 'Notification/all-runs',
    ]);
    const secret = samples[0] as unknown as { stringData: Record<string, string> };
    expect(Object.keys(secret.stringData)).toEqual(['address']);
  });

  it.each(samples.filter((s) => s.kind in notifyKinds).map((s) => [`${s.kind}/${s.metadata.name}`, s] as const))('%s is admitted by its CRD', (_, sample) => {
    const crd = notifyKinds[sample.kind]!;
    expect(sample.apiVersion).toBe(NOTIFY_API_VERSION);
    const { apiVersion: _apiVersion, kind: _kind, ...object } = sample;
    expect(schemaProblems(rootOf(crd), object, '')).toEqual([]);
    expect(specRuleMessages(crd, sample.spec)).toEqual([]);
  });

  it('name Destinations that the samples define', () => {
    const destinations = new Set(samples.filter((s) => s.kind === DESTINATION_KIND).map((s) => s.metadata.name));
    const secrets = new Set(samples.filter((s) => s.kind === 'Secret').map((s) => s.metadata.name));
    for (const n of samples.filter((s) => s.kind === NOTIFICATION_KIND)) expect(destinations).toContain((n.spec as { destinationRef: { name: string } }).destinationRef.name);
    for (const d of samples.filter((s) => s.kind === DESTINATION_KIND)) {
      const ref = (d.spec as { secretRef?: { name: string } }).secretRef;
      if (ref) expect(secrets).toContain(ref.name);
    }
  });
});

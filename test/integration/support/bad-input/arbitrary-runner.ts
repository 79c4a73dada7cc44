// Random Runner manifests for the bad-input suite (fast-check): mostly a sensible Runner with one or more fields
// spoilt — a wrong type, a number out of range, a string that is too long, unicode, a huge or deeply nested value —
// and sometimes a Runner with nothing wrong at all. Each field has its own generator of good and bad values, so a
// sample covers every field of SPEC §2 and the metadata the API server checks (long names and labels).
import fc from 'fast-check';
import { API_VERSION, KIND } from '../../../../src/api/runner.ts';

export interface GeneratedRunner {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, unknown>; annotations?: Record<string, unknown> };
  spec: unknown;
}

const dns1123Label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
const labelValue = fc.stringMatching(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?)?$/);
const labelKey = fc.oneof(dns1123Label, fc.tuple(dns1123Label, dns1123Label).map(([p, n]) => `${p}.example.com/${n}`));

/** A value nested `depth` levels deep: {"a": {"a": ... "leaf" }} or [[[ ... ]]]. */
export function nested(depth: number, inArrays = false): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i += 1) value = inArrays ? [value] : { a: value };
  return value;
}

/** Values of the wrong kind for any field, and values that are merely awkward: huge, deep, unicode. */
const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);
const hugeString = fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'x'.repeat(n));
const unicodeString = fc.string({ unit: 'binary', minLength: 1, maxLength: 60 });
const deepValue = fc.tuple(fc.integer({ min: 10, max: 3_000 }), fc.boolean()).map(([depth, inArrays]) => nested(depth, inArrays));
const awkward = fc.oneof(wrongType, hugeString, unicodeString, deepValue);

/** A field's sensible values, and its bad ones. */
interface Field {
  good: fc.Arbitrary<unknown>;
  bad: fc.Arbitrary<unknown>;
}
type Fields = Record<string, Field>;

/** An object whose fields are all good: `required` ones always there, the others some of the time. */
function good(fields: Fields, required: string[]): fc.Arbitrary<Record<string, unknown>> {
  const arbitraries = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.good]));
  return fc.record(arbitraries, { requiredKeys: required }) as fc.Arbitrary<Record<string, unknown>>;
}

/** The same, with 1 to `most` of its fields given a bad value instead. */
function spoilt(fields: Fields, required: string[], most: number): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(good(fields, required), fc.subarray(Object.keys(fields), { minLength: 1, maxLength: most }))
    .chain(([base, keys]) => fc.record(Object.fromEntries(keys.map((k) => [k, fields[k]!.bad]))).map((bad) => ({ ...base, ...bad })));
}

const count = (max: number): Field => ({
  good: fc.oneof(fc.integer({ min: 0, max: Math.min(max, 100_000) }), fc.constantFrom(0, max)),
  bad: fc.oneof(fc.constantFrom(max + 1, -1, -max, 2 ** 53, 1.5, -0.5), fc.integer({ max: -1 }), awkward),
});

const cronField = fc.oneof(fc.constant('*'), fc.integer({ min: 0, max: 70 }).map(String), fc.constantFrom('*/5', '1-5', 'MON', 'JAN', '?', 'L', 'H'));
const schedule: Field = {
  good: fc.constantFrom('@hourly', '@daily', '@weekly', '@monthly', '@yearly', '0 0 1 1 *', '*/15 9-17 * * MON-FRI', '30 4 * * 0'),
  bad: fc.oneof(
    fc.array(cronField, { minLength: 4, maxLength: 7 }).map((fields) => fields.join(' ')),
    fc.constantFrom('@every 5m', '@reboot', 'garbage', '', 'CRON_TZ=UTC 0 * * * *', '0 0 30 2 *', '61 * * * *', '* * * * * *'),
    awkward,
  ),
};
const timeZone: Field = {
  good: fc.constantFrom('UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+1', 'Asia/Kolkata'),
  bad: fc.oneof(fc.constantFrom('Mars/Olympus', '+01:00', 'utc ', 'Europe/', 'Local', 'Europe/Berlin/Mitte', 'Ünïcode/Zone'), awkward),
};
const stableStateTimeout: Field = {
  good: fc.constantFrom('30m', '0s', '1h30m', '250ms', '1.5h'),
  bad: fc.oneof(fc.constantFrom('-5m', '1d', '5', 'forever', ''), awkward),
};
const jobName: Field = {
  good: dns1123Label,
  bad: fc.oneof(fc.integer({ min: 53, max: 80 }).map((n) => 'j'.repeat(n)), fc.constantFrom('Smoke', '-a', 'a_b', 'a.b', ''), awkward),
};
const flag: Field = { good: fc.boolean(), bad: awkward };
const oneOf = (values: string[], bad: string[]): Field => ({ good: fc.constantFrom(...values), bad: fc.oneof(fc.constantFrom(...bad), awkward) });

const requirementFields: Fields = {
  key: { good: labelKey, bad: fc.oneof(fc.constantFrom('', 'bad key!', 'k'.repeat(64), 'a/b/c', `${'p'.repeat(254)}/k`), awkward) },
  operator: oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'], ['Gt', 'in', '']),
  values: { good: fc.array(labelValue, { maxLength: 3 }), bad: fc.oneof(fc.array(fc.oneof(unicodeString, awkward), { minLength: 1, maxLength: 2 }), awkward) },
};
// A requirement's values must match its operator: In/NotIn need some, Exists/DoesNotExist none.
const goodRequirement = good(requirementFields, ['key', 'operator']).map((r) =>
  r.operator === 'In' || r.operator === 'NotIn' ? { ...r, values: ['v', ...((r.values as string[] | undefined) ?? [])] } : { key: r.key, operator: r.operator },
);
const selectorFields: Fields = {
  matchLabels: {
    good: fc.dictionary(labelKey, labelValue, { maxKeys: 3 }),
    bad: fc.oneof(fc.dictionary(fc.oneof(unicodeString, fc.constant('k'.repeat(64))), fc.oneof(labelValue, unicodeString, awkward), { minKeys: 1, maxKeys: 2 }), awkward),
  },
  matchExpressions: {
    good: fc.array(goodRequirement, { maxLength: 3 }),
    bad: fc.oneof(fc.tuple(spoilt(requirementFields, ['key', 'operator'], 2)).map(([r]) => [r]), fc.array(goodRequirement, { minLength: 65, maxLength: 70 }), awkward),
  },
};
const selector: Field = { good: good(selectorFields, []), bad: fc.oneof(spoilt(selectorFields, [], 2), awkward) };

const containerFields: Fields = {
  name: { good: dns1123Label, bad: fc.oneof(fc.constantFrom('', 'Check', 'c'.repeat(64)), awkward) },
  image: { good: fc.constantFrom('busybox', 'registry.example.com/qa/smoke:1.4'), bad: fc.oneof(fc.constant(''), awkward) },
  command: { good: fc.constant(['sh', '-c', 'echo ok']), bad: fc.oneof(fc.constant('sh -c "echo ok"'), awkward) },
  args: { good: fc.array(unicodeString, { maxLength: 3 }), bad: fc.oneof(fc.constant([1, 2]), awkward) },
  env: {
    good: fc.constant([{ name: 'TARGET', value: 'cart' }]),
    bad: fc.oneof(fc.array(fc.record({ name: fc.oneof(unicodeString, awkward), value: fc.oneof(fc.string(), awkward) }), { minLength: 1, maxLength: 2 }), awkward),
  },
};
// Containers need distinct names in a pod.
const goodContainers = fc.uniqueArray(good(containerFields, ['name', 'image']), { minLength: 1, maxLength: 3, selector: (c) => c.name });
const podMetadataFields: Fields = {
  labels: { good: fc.dictionary(labelKey, labelValue, { maxKeys: 3 }), bad: fc.oneof(fc.dictionary(unicodeString, fc.oneof(labelValue, awkward), { minKeys: 1, maxKeys: 2 }), awkward) },
  annotations: { good: fc.dictionary(labelKey, fc.string(), { maxKeys: 3 }), bad: fc.oneof(fc.dictionary(labelKey, hugeString, { minKeys: 1, maxKeys: 1 }), awkward) },
  namespace: { good: dns1123Label, bad: awkward },
};
const podSpecFields: Fields = {
  containers: {
    good: goodContainers,
    bad: fc.oneof(fc.constant([]), fc.tuple(goodContainers, spoilt(containerFields, ['name', 'image'], 2)).map(([cs, c]) => [...cs, c]), fc.array(good(containerFields, ['name', 'image']), { minLength: 30, maxLength: 40 }), awkward),
  },
  restartPolicy: oneOf(['Never', 'OnFailure'], ['Always', 'never', '']),
  nodeSelector: { good: fc.dictionary(labelKey, labelValue, { maxKeys: 2 }), bad: awkward },
  automountServiceAccountToken: flag,
  'x-unknown-field': { good: fc.constantFrom(1, 'x'), bad: deepValue },
};
const templateFields: Fields = {
  metadata: { good: good(podMetadataFields, []), bad: fc.oneof(spoilt(podMetadataFields, [], 2), awkward) },
  spec: { good: good(podSpecFields, ['containers']), bad: fc.oneof(spoilt(podSpecFields, ['containers'], 2), awkward) },
};

/** Every field of SPEC §2, with good and bad values; `template` is there most of the time. */
const specFields: Fields = {
  template: { good: good(templateFields, ['spec']), bad: fc.oneof(spoilt(templateFields, ['spec'], 2), fc.constant({}), awkward) },
  workloadSelector: selector,
  runnerSelector: selector,
  namespaceSelector: selector,
  schedule,
  timeZone,
  suspend: flag,
  concurrencyPolicy: oneOf(['Forbid', 'Replace'], ['Allow', 'forbid', '']),
  deadlineSeconds: count(Number.MAX_SAFE_INTEGER),
  startingDeadlineSeconds: count(Number.MAX_SAFE_INTEGER),
  backoffLimit: count(2_147_483_647),
  ttlSecondsAfterFinished: count(2_147_483_647),
  successfulRunsHistoryLimit: count(2_147_483_647),
  failedRunsHistoryLimit: count(2_147_483_647),
  stableStateTimeout,
  jobName,
  unknownField: { good: fc.constant(undefined), bad: awkward },
};

/**
 * A quarter of the specs have nothing wrong; most others have one bad field (so that it is that field's check
 * which decides), some up to three; the pod template, where most of a spec's freedom is, gets its own share.
 */
const anySpec = fc.oneof(
  { weight: 8, arbitrary: good(specFields, ['template']) },
  { weight: 10, arbitrary: spoilt(specFields, ['template'], 1) },
  { weight: 8, arbitrary: fc.tuple(good(specFields, ['template']), specFields.template!.bad).map(([spec, template]) => ({ ...spec, template })) },
  { weight: 4, arbitrary: spoilt(specFields, ['template'], 3) },
  { weight: 1, arbitrary: awkward },
);

const runnerName = fc.oneof(
  { weight: 16, arbitrary: dns1123Label },
  // The longest names a custom resource may have (253 characters, DNS subdomain): Job names and labels derive from them.
  { weight: 1, arbitrary: fc.integer({ min: 64, max: 253 }).map((n) => Array.from({ length: n }, (_, i) => ((i + 1) % 40 === 0 && i < n - 1 ? '.' : 'n')).join('')) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('Upper', 'a_b', 'n'.repeat(254)), unicodeString) },
);

const metadataLabels = fc.oneof(
  { weight: 8, arbitrary: fc.dictionary(labelKey, labelValue, { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.oneof(labelKey, unicodeString, fc.constant('k'.repeat(64))), fc.oneof(labelValue, fc.constant('v'.repeat(64)), unicodeString), { minKeys: 1, maxKeys: 3 }) },
);

/** A Runner manifest; the caller makes its name unique. */
export const runnerManifest = fc
  .record({
    name: runnerName,
    labels: fc.option(metadataLabels, { nil: undefined }),
    trigger: fc.option(fc.oneof({ weight: 6, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: hugeString }), { nil: undefined }),
    spec: anySpec,
  })
  .map(({ name, labels, trigger, spec }): GeneratedRunner => ({
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, ...(labels ? { labels } : {}), ...(trigger !== undefined ? { annotations: { 'runner.stakater.com/trigger': trigger } } : {}) },
    spec,
  }));

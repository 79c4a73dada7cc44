// The bad-input corpus: every kind of invalid spec SPEC §6 names (bad cron, bad time zone, bad selector operator,
// empty template, no containers, negative numbers) and the others found since, each with the ending it must have
// and what its message must mention. Generated cases (arbitrary-runner.ts) add the random ones.
import { nested } from './arbitrary-runner.ts';

export type Expected = 'refused' | 'invalidSpec' | 'accepted' | 'jobRefused';

export interface CorpusCase {
  name: string;
  /** The spec, or with `metadata` the rest of the manifest too. */
  spec: unknown;
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  expect: Expected;
  /** Replaces the value DEEP in `spec` by one nested this many levels (sent as text: see createCase). */
  deep?: number;
  /** Text the refusal or the InvalidSpec message must contain (the field, mostly). */
  mentions: string;
}

/** Stands for a value nested `deep` levels; see manifestText. */
export const DEEP = '@@deep@@';

/** The case's manifest as JSON text, with DEEP spelled out as {"a":{"a":...}} `deep` levels deep. */
export function manifestText(manifest: object, deep: number): string {
  return JSON.stringify(manifest).replace(JSON.stringify(DEEP), `${'{"a":'.repeat(deep)}"leaf"${'}'.repeat(deep)}`);
}

const container = { name: 'check', image: 'busybox', command: ['sh', '-c', 'echo ok'] };
export const validTemplate = { spec: { containers: [container] } };
const withTemplate = (fields: Record<string, unknown>) => ({ template: validTemplate, ...fields });
const withPodSpec = (fields: Record<string, unknown>) => ({ template: { spec: { containers: [container], ...fields } } });
const withContainer = (fields: Record<string, unknown>) => ({ template: { spec: { containers: [{ ...container, ...fields }] } } });
const selecting = (requirement: Record<string, unknown>) => withTemplate({ workloadSelector: { matchExpressions: [requirement] } });

const COUNTS = ['deadlineSeconds', 'startingDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'successfulRunsHistoryLimit', 'failedRunsHistoryLimit'];

export const corpus: CorpusCase[] = [
  // Bad cron: the shape is refused at admission; a field out of range only the operator's parser sees.
  { name: 'cron with a seconds field', spec: withTemplate({ schedule: '0 * * * * *' }), expect: 'refused', mentions: 'spec.schedule' },
  { name: 'cron with 4 fields', spec: withTemplate({ schedule: '* * * *' }), expect: 'refused', mentions: 'spec.schedule' },
  { name: 'cron that is a word', spec: withTemplate({ schedule: 'garbage' }), expect: 'refused', mentions: 'spec.schedule' },
  { name: 'cron macro @every', spec: withTemplate({ schedule: '@every 5m' }), expect: 'refused', mentions: 'spec.schedule' },
  { name: 'empty cron', spec: withTemplate({ schedule: '' }), expect: 'refused', mentions: 'spec.schedule' },
  { name: 'cron minute 61', spec: withTemplate({ schedule: '61 * * * *' }), expect: 'invalidSpec', mentions: 'spec.schedule' },
  { name: 'cron month 13', spec: withTemplate({ schedule: '0 0 1 13 *' }), expect: 'invalidSpec', mentions: 'spec.schedule' },
  { name: 'cron with the hashed value H', spec: withTemplate({ schedule: 'H * * * *' }), expect: 'invalidSpec', mentions: 'spec.schedule' },
  { name: 'cron that is a number', spec: withTemplate({ schedule: 5 }), expect: 'refused', mentions: 'spec.schedule' },
  // Bad time zone.
  { name: 'time zone that is an offset', spec: withTemplate({ schedule: '@daily', timeZone: '+01:00' }), expect: 'refused', mentions: 'spec.timeZone' },
  { name: 'time zone that does not exist', spec: withTemplate({ schedule: '@daily', timeZone: 'Mars/Olympus' }), expect: 'invalidSpec', mentions: 'spec.timeZone' },
  { name: 'time zone with unicode', spec: withTemplate({ timeZone: 'Ünïcode/Zone' }), expect: 'refused', mentions: 'spec.timeZone' },
  { name: 'time zone of 65 characters', spec: withTemplate({ timeZone: `A/${'b'.repeat(63)}` }), expect: 'refused', mentions: 'spec.timeZone' },
  // Bad selectors.
  { name: 'selector operator Gt', spec: selecting({ key: 'a', operator: 'Gt', values: ['1'] }), expect: 'refused', mentions: 'spec.workloadSelector.matchExpressions[0].operator' },
  { name: 'selector operator in lower case', spec: selecting({ key: 'a', operator: 'in', values: ['x'] }), expect: 'refused', mentions: 'operator' },
  { name: 'In without values', spec: selecting({ key: 'a', operator: 'In' }), expect: 'refused', mentions: 'spec.workloadSelector.matchExpressions[0].values' },
  { name: 'Exists with values', spec: selecting({ key: 'a', operator: 'Exists', values: ['x'] }), expect: 'refused', mentions: 'spec.workloadSelector.matchExpressions[0].values' },
  { name: 'selector key with a space', spec: selecting({ key: 'bad key', operator: 'Exists' }), expect: 'invalidSpec', mentions: 'spec.workloadSelector.matchExpressions[0].key' },
  { name: 'selector value with a space', spec: selecting({ key: 'a', operator: 'In', values: ['x y'] }), expect: 'invalidSpec', mentions: 'spec.workloadSelector.matchExpressions[0].values[0]' },
  { name: 'matchLabels key of 64 characters', spec: withTemplate({ runnerSelector: { matchLabels: { ['k'.repeat(64)]: 'v' } } }), expect: 'invalidSpec', mentions: 'spec.runnerSelector.matchLabels' },
  { name: 'matchLabels value that is a number', spec: withTemplate({ runnerSelector: { matchLabels: { a: 1 } } }), expect: 'refused', mentions: 'spec.runnerSelector.matchLabels.a' },
  { name: 'namespaceSelector that is a list', spec: withTemplate({ namespaceSelector: [] }), expect: 'refused', mentions: 'spec.namespaceSelector' },
  { name: '65 selector requirements', spec: withTemplate({ workloadSelector: { matchExpressions: Array.from({ length: 65 }, (_, i) => ({ key: `k${i}`, operator: 'Exists' })) } }), expect: 'refused', mentions: 'spec.workloadSelector.matchExpressions' },
  // Empty or broken template.
  { name: 'no template', spec: {}, expect: 'refused', mentions: 'spec.template' },
  { name: 'empty template', spec: { template: {} }, expect: 'refused', mentions: 'spec.template.spec.containers' },
  { name: 'template without containers', spec: { template: { spec: {} } }, expect: 'refused', mentions: 'spec.template.spec.containers' },
  { name: 'empty container list', spec: { template: { spec: { containers: [] } } }, expect: 'refused', mentions: 'spec.template.spec.containers' },
  { name: 'container without an image', spec: { template: { spec: { containers: [{ name: 'check' }] } } }, expect: 'refused', mentions: 'spec.template.spec.containers[0].image' },
  { name: 'container name in upper case', spec: withContainer({ name: 'Check' }), expect: 'refused', mentions: 'spec.template.spec.containers[0].name' },
  { name: 'two containers of one name', spec: { template: { spec: { containers: [container, container] } } }, expect: 'refused', mentions: 'spec.template.spec.containers[1]' },
  { name: 'restartPolicy Always', spec: withPodSpec({ restartPolicy: 'Always' }), expect: 'refused', mentions: 'spec.template.spec.restartPolicy' },
  { name: 'template that is a string', spec: { template: 'pod' }, expect: 'refused', mentions: 'spec.template' },
  { name: 'spec that is a list', spec: [], expect: 'refused', mentions: 'spec' },
  // Negative, fractional and too large numbers.
  ...COUNTS.map((field): CorpusCase => ({ name: `negative ${field}`, spec: withTemplate({ [field]: -1 }), expect: 'refused', mentions: `spec.${field}` })),
  ...COUNTS.map((field): CorpusCase => ({ name: `fractional ${field}`, spec: withTemplate({ [field]: 1.5 }), expect: 'refused', mentions: `spec.${field}` })),
  { name: 'backoffLimit beyond int32', spec: withTemplate({ backoffLimit: 2 ** 31 }), expect: 'refused', mentions: 'spec.backoffLimit' },
  { name: 'deadlineSeconds as a string', spec: withTemplate({ deadlineSeconds: '60' }), expect: 'refused', mentions: 'spec.deadlineSeconds' },
  // Other fields.
  { name: 'jobName of 53 characters', spec: withTemplate({ jobName: 'j'.repeat(53) }), expect: 'refused', mentions: 'spec.jobName' },
  { name: 'jobName in upper case', spec: withTemplate({ jobName: 'Smoke' }), expect: 'refused', mentions: 'spec.jobName' },
  { name: 'concurrencyPolicy Allow', spec: withTemplate({ concurrencyPolicy: 'Allow' }), expect: 'refused', mentions: 'spec.concurrencyPolicy' },
  { name: 'negative stableStateTimeout', spec: withTemplate({ stableStateTimeout: '-5m' }), expect: 'refused', mentions: 'spec.stableStateTimeout' },
  { name: 'stableStateTimeout in days', spec: withTemplate({ stableStateTimeout: '1d' }), expect: 'refused', mentions: 'spec.stableStateTimeout' },
  { name: 'suspend "yes"', spec: withTemplate({ suspend: 'yes' }), expect: 'refused', mentions: 'spec.suspend' },
  // Pod fields: their types are checked at admission (the CRD embeds Kubernetes' pod schema) ...
  { name: 'container command that is a string', spec: withContainer({ command: 'sh -c "echo ok"' }), expect: 'refused', mentions: 'spec.template.spec.containers[0].command' },
  { name: 'nodeSelector that is a number', spec: withPodSpec({ nodeSelector: 5 }), expect: 'refused', mentions: 'spec.template.spec.nodeSelector' },
  { name: 'memory limit "lots"', spec: withContainer({ resources: { limits: { memory: 'lots' } } }), expect: 'refused', mentions: 'spec.template.spec.containers[0].resources.limits.memory' },
  { name: 'pod label value that is a number', spec: { template: { ...validTemplate, metadata: { labels: { team: 1 } } } }, expect: 'refused', mentions: 'spec.template.metadata.labels.team' },
  // ... their values by the operator where it can (labels, annotations) ...
  { name: 'pod label key with a space', spec: { template: { ...validTemplate, metadata: { labels: { 'bad key': 'x' } } } }, expect: 'invalidSpec', mentions: 'spec.template.metadata.labels[bad key]' },
  { name: 'pod annotations of 300 kB', spec: { template: { ...validTemplate, metadata: { annotations: { note: 'x'.repeat(300_000) } } } }, expect: 'invalidSpec', mentions: 'spec.template.metadata.annotations' },
  // ... and the rest by the Job API when the run starts: the run fails, naming the field (a known gap).
  { name: 'env var name with "="', spec: withContainer({ env: [{ name: 'A=B', value: 'x' }] }), expect: 'jobRefused', mentions: 'spec.template.spec.containers[0].env[0].name' },
  { name: 'port 70000', spec: withContainer({ ports: [{ containerPort: 70_000 }] }), expect: 'jobRefused', mentions: 'spec.template.spec.containers[0].ports[0].containerPort' },
  // Names and labels: the API server's own checks.
  { name: 'Runner name of 254 characters', spec: withTemplate({}), metadata: { name: 'n'.repeat(254) }, expect: 'refused', mentions: 'metadata.name' },
  { name: 'Runner name in upper case', spec: withTemplate({}), metadata: { name: 'Upper' }, expect: 'refused', mentions: 'metadata.name' },
  { name: 'label value of 64 characters', spec: withTemplate({}), metadata: { labels: { team: 'v'.repeat(64) } }, expect: 'refused', mentions: 'metadata.labels' },
  // Huge and deep values: accepted where the schema allows them, and the operator copes.
  { name: 'Runner name of 253 characters', spec: withTemplate({}), metadata: { name: `${'n'.repeat(120)}.${'n'.repeat(132)}` }, expect: 'accepted', mentions: '' },
  { name: 'argument of 1 MB', spec: withContainer({ args: ['x'.repeat(1_000_000)] }), expect: 'accepted', mentions: '' },
  // Unknown fields are dropped by the API server (as for a Job), however deep: the operator never sees them.
  { name: 'unknown pod field nested 1,000 deep', spec: withPodSpec({ 'x-unknown-field': nested(1_000) }), expect: 'accepted', mentions: '' },
  { name: 'unknown pod field nested 9,000 deep', spec: withPodSpec({ 'x-unknown-field': DEEP }), deep: 9_000, expect: 'accepted', mentions: '' },
  { name: 'pod template metadata nested 9,000 deep', spec: { template: { ...validTemplate, metadata: { 'x-unknown-field': DEEP } } }, deep: 9_000, expect: 'accepted', mentions: '' },
  { name: '2,000 bad matchLabels keys (a long message, cut short)', spec: withTemplate({ workloadSelector: { matchLabels: Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`bad key ${i}`, 'v'])) } }), expect: 'invalidSpec', mentions: 'and 1990 more problems' },
  { name: 'unknown spec field (dropped by the API server)', spec: withTemplate({ retries: 3 }), expect: 'accepted', mentions: '' },
  { name: 'a request of 4 MB', spec: withContainer({ args: ['x'.repeat(4_000_000)] }), expect: 'refused', mentions: 'too large' },
];

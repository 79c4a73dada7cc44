// What a Runner's spec may say, checked without I/O.
//
// The CRD schema and its CEL rules refuse most bad input at admission (crds/e2e.stakater.com_runners.yaml), but
// not all of it: CEL cannot parse a cron expression or know the IANA zone list, the pod schema checks types but not
// label syntax, and a Runner stored before the CRD was tightened (or by the original Go operator's looser CRD) may
// still be there. Whatever reaches the operator is therefore checked again here; a Runner with problems is reported
// as Stalled/InvalidSpec with these messages and never runs. This module must never throw, whatever it is given.
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { SPEC_DEFAULTS, type ConcurrencyPolicy, type RunnerSpec } from '../../api/runner.ts';
import { parseDuration } from '../duration.ts';
import { cronParser } from '../schedule.ts';
import { checkPodMetadata, checkSelector } from './spec-labels.ts';
import { checkProbes, checkResources } from './spec-inputs.ts';
import { isRecord, problem, quoted, type Problems, type SpecProblem } from './spec-problem.ts';

export type { SpecProblem } from './spec-problem.ts';

/** The longest `jobName`: a Job name may have 63 characters and the operator appends "-" and a 10-character run suffix. */
export const MAX_JOB_NAME_PREFIX = 52;

const CRON_MACROS = ['@yearly', '@monthly', '@weekly', '@daily', '@hourly'];
const CONCURRENCY_POLICIES: readonly ConcurrencyPolicy[] = ['Forbid', 'Replace'];
const JOB_RESTART_POLICIES = ['Never', 'OnFailure'];
const INT32_MAX = 2_147_483_647;
// A message goes into a condition (at most 32,768 characters) and an Event: a spec with many problems is summed up.
const MESSAGE_PROBLEMS_MAX = 10;
// A pod template's deepest real paths (affinity terms, volume claim templates) are about 12 levels below it; far
// deeper values are unknown fields that could only hurt (the API server accepts 10,000 levels).
export const MAX_TEMPLATE_DEPTH = 32;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// What the IANA database names look like ("UTC", "Europe/London", "America/Argentina/Buenos_Aires", "Etc/GMT+1").
// Intl also accepts UTC offsets such as "+01:00", which are not zones and would not survive a move to another
// implementation, so the shape is checked first.
const IANA_ZONE_SHAPE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** Every problem with a Runner's spec; an empty list means the operator can act on it. */
export function validateRunnerSpec(spec: unknown): SpecProblem[] {
  if (!isRecord(spec)) return [problem('spec', 'is required and must be an object')];
  return [
    ...checkTemplate(spec.template, 'spec.template'),
    ...checkSchedule(spec.schedule, 'spec.schedule'),
    ...checkTimeZone(spec.timeZone, 'spec.timeZone'),
    ...checkSelector(spec.workloadSelector, 'spec.workloadSelector'),
    ...checkSelector(spec.runnerSelector, 'spec.runnerSelector'),
    ...checkSelector(spec.namespaceSelector, 'spec.namespaceSelector'),
    ...checkCount(spec.deadlineSeconds, 'spec.deadlineSeconds', Number.MAX_SAFE_INTEGER),
    ...checkCount(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds', Number.MAX_SAFE_INTEGER),
    ...checkCount(spec.backoffLimit, 'spec.backoffLimit', INT32_MAX),
    ...checkCount(spec.ttlSecondsAfterFinished, 'spec.ttlSecondsAfterFinished', INT32_MAX),
    ...checkCount(spec.successfulRunsHistoryLimit, 'spec.successfulRunsHistoryLimit', INT32_MAX),
    ...checkCount(spec.failedRunsHistoryLimit, 'spec.failedRunsHistoryLimit', INT32_MAX),
    ...checkStableStateTimeout(spec.stableStateTimeout, 'spec.stableStateTimeout'),
    ...checkConcurrencyPolicy(spec.concurrencyPolicy, 'spec.concurrencyPolicy'),
    ...checkJobName(spec.jobName, 'spec.jobName'),
    ...checkBoolean(spec.suspend, 'spec.suspend'),
    ...checkBoolean(spec.advisory, 'spec.advisory'),
    ...checkTestResults(spec.testResults, 'spec.testResults', spec.template),
    ...checkResources(spec.resources, 'spec.resources'),
    ...checkProbes(spec.probes, 'spec.probes'),
  ];
}

/** One line for a condition or an Event: "spec.schedule: ...; spec.jobName: ...". */
/**
 * What a valid spec still cannot do where the operator runs: an operator that watches only some
 * namespaces (HESTIA_NAMESPACES) may not read Namespaces, so it cannot evaluate a namespaceSelector.
 */
export function problemsInScope(spec: unknown, namespaceScoped: boolean): SpecProblem[] {
  if (!namespaceScoped || !isRecord(spec) || spec.namespaceSelector === undefined) return [];
  return [problem('spec.namespaceSelector', 'cannot be used while the operator watches only some namespaces (HESTIA_NAMESPACES): it may not read Namespace labels; remove it, selectors already look only in those namespaces')];
}

export function describeProblems(problems: readonly SpecProblem[]): string {
  const shown = problems.slice(0, MESSAGE_PROBLEMS_MAX).map((p) => p.message);
  const more = problems.length - shown.length;
  return [...shown, ...(more > 0 ? [`and ${more} more problem${more === 1 ? '' : 's'}`] : [])].join('; ');
}

/**
 * Why a cron expression is not one Hestia accepts, or undefined if it is. Accepted: five fields (minute hour
 * day-of-month month day-of-week, as Kubernetes CronJobs and the original operator read them) or one of
 * @yearly/@monthly/@weekly/@daily/@hourly. Refused although cron-parser would take them: a sixth (seconds) field,
 * its other macros (@minutely, @secondly, @weekdays, ...), and "H" (a hashed, effectively random, value).
 */
export function cronExpressionProblem(expression: string): string | undefined {
  // Asked at every assessment of a scheduled Runner; a thousand Runners share a handful of expressions.
  if (cronProblems.has(expression)) return cronProblems.get(expression);
  const why = cronProblemOf(expression);
  if (cronProblems.size >= CRON_PROBLEMS_KEPT) cronProblems.clear();
  cronProblems.set(expression, why);
  return why;
}

const CRON_PROBLEMS_KEPT = 1000;
const cronProblems = new Map<string, string | undefined>();

function cronProblemOf(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed === '') return 'it is empty';
  if (trimmed.startsWith('@')) {
    return CRON_MACROS.includes(trimmed) ? undefined : `unknown macro ${trimmed} (use one of ${CRON_MACROS.join(', ')})`;
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) {
    const hint = fields.length === 6 ? '; a seconds field is not supported' : '';
    return `it has ${fields.length} fields, expected 5 (minute hour day-of-month month day-of-week)${hint}`;
  }
  // "H" only counts at the start of a list element: "THU" and "H" differ.
  if (fields.some((field) => /(^|,)H(\(|\/|,|$)/.test(field))) return 'the hashed value "H" is not supported';
  try {
    cronParser().CronExpressionParser.parse(trimmed, { tz: 'UTC' });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Why a time zone name is not an IANA zone this runtime knows, or undefined if it is one. */
export function timeZoneProblem(zone: string): string | undefined {
  if (!IANA_ZONE_SHAPE.test(zone)) return 'expected an IANA time zone name such as "UTC" or "Europe/Berlin"';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return undefined;
  } catch {
    return 'unknown time zone (expected an IANA name such as "UTC" or "Europe/Berlin")';
  }
}

function checkSchedule(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'string') return [problem(field, `must be a cron expression string, got ${quoted(value)}`)];
  const why = cronExpressionProblem(value);
  return why === undefined ? [] : [problem(field, `${quoted(value)} is not a valid cron expression: ${why}`)];
}

function checkTimeZone(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'string') return [problem(field, `must be a time zone name, got ${quoted(value)}`)];
  const why = timeZoneProblem(value);
  return why === undefined ? [] : [problem(field, `${quoted(value)} is not a valid time zone: ${why}`)];
}

function checkTemplate(value: unknown, field: string): Problems {
  if (value === undefined || value === null) {
    return [problem(field, 'is required: a pod template with at least one container')];
  }
  if (!isRecord(value)) return [problem(field, 'must be a pod template object')];
  const tooDeep = deeperThan(value, MAX_TEMPLATE_DEPTH, field);
  if (tooDeep) return [problem(tooDeep, `is nested more than ${MAX_TEMPLATE_DEPTH} levels deep below ${field}, deeper than any pod field`)];
  const podSpec = value.spec;
  if (!isRecord(podSpec)) return [problem(`${field}.spec`, 'is required: a pod spec with at least one container')];
  return [
    ...checkPodMetadata(value.metadata, `${field}.metadata`),
    ...checkContainers(podSpec.containers, `${field}.spec.containers`),
    ...checkJobRestartPolicy(podSpec.restartPolicy, `${field}.spec.restartPolicy`),
  ];
}

/** The path of the first value found more than `limit` levels below `root`, or undefined; iterative on purpose. */
function deeperThan(root: unknown, limit: number, field: string): string | undefined {
  const work: Array<{ value: unknown; path: string; depth: number }> = [{ value: root, path: field, depth: 0 }];
  while (work.length > 0) {
    const { value, path, depth } = work.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= limit) return path;
    const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v] as const) : Object.entries(value).map(([k, v]) => [`.${k}`, v] as const);
    for (const [step, child] of entries) work.push({ value: child, path: `${path}${step}`, depth: depth + 1 });
  }
  return undefined;
}

function checkContainers(value: unknown, field: string): Problems {
  if (!Array.isArray(value) || value.length === 0) return [problem(field, 'must list at least one container')];
  const seen = new Set<string>();
  return value.flatMap((container: unknown, index): Problems => {
    const at = `${field}[${index}]`;
    if (!isRecord(container)) return [problem(at, 'must be a container object')];
    const out: Problems = [];
    const { name, image } = container;
    if (typeof name !== 'string' || name === '') out.push(problem(`${at}.name`, 'is required'));
    else if (!DNS1123_LABEL.test(name) || name.length > 63) {
      out.push(problem(`${at}.name`, `${quoted(name)} must be a DNS-1123 label (lower-case letters, digits, "-"; at most 63)`));
    } else if (seen.has(name)) out.push(problem(`${at}.name`, `${quoted(name)} is used by another container`));
    else seen.add(name);
    if (typeof image !== 'string' || image.trim() === '') out.push(problem(`${at}.image`, 'is required'));
    return out;
  });
}

function checkJobRestartPolicy(value: unknown, field: string): Problems {
  if (value === undefined || value === null || (typeof value === 'string' && JOB_RESTART_POLICIES.includes(value))) {
    return [];
  }
  return [problem(field, `${quoted(value)} is not allowed for a Job's pod (use Never or OnFailure)`)];
}

// Counts and seconds: whole numbers from 0 up to what the Job field they end up in can hold.
function checkCount(value: unknown, field: string, max: number): Problems {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [problem(field, `${quoted(value)} must be a whole number`)];
  if (value < 0) return [problem(field, `${value} must not be negative`)];
  if (value > max) return [problem(field, `${value} is too large (at most ${max})`)];
  return [];
}

function checkStableStateTimeout(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'string') return [problem(field, `must be a duration such as "30m" or "0s", got ${quoted(value)}`)];
  const parsed = parseDuration(value);
  if (!parsed.ok) return [problem(field, `${parsed.reason} (e.g. "30m", "1h30m", "0s" to disable)`)];
  if (parsed.milliseconds < 0) return [problem(field, `${quoted(value)} must not be negative (use "0s" to disable)`)];
  return [];
}

function checkConcurrencyPolicy(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string' && (CONCURRENCY_POLICIES as readonly string[]).includes(value)) return [];
  return [problem(field, `${quoted(value)} is not a concurrency policy (use ${CONCURRENCY_POLICIES.join(' or ')})`)];
}

function checkJobName(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'string' || !DNS1123_LABEL.test(value)) {
    return [problem(field, `${quoted(value)} must be lower-case letters, digits and "-", starting and ending alphanumeric`)];
  }
  if (value.length > MAX_JOB_NAME_PREFIX) {
    return [problem(field, `${quoted(value)} is ${value.length} characters long; at most ${MAX_JOB_NAME_PREFIX} leave room for the run suffix in a 63-character Job name`)];
  }
  return [];
}

function checkBoolean(value: unknown, field: string): Problems {
  return value === undefined || value === null || typeof value === 'boolean' ? [] : [problem(field, `must be true or false, got ${quoted(value)}`)];
}

const TEST_REPORT_FORMATS = ['JUnit'];
const TEST_REPORT_SOURCES = ['Log', 'TerminationMessage'];

/** spec.testResults: a known format and source, and a container the template has. */
function checkTestResults(value: unknown, field: string, template: unknown): Problems {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [problem(field, `must be an object such as {"format": "JUnit"}, got ${quoted(value)}`)];
  const problems: Problems = [];
  if (!TEST_REPORT_FORMATS.includes(value.format as string)) {
    problems.push(problem(`${field}.format`, `must be one of ${TEST_REPORT_FORMATS.join(', ')}, got ${quoted(value.format)}`));
  }
  if (value.from !== undefined && !TEST_REPORT_SOURCES.includes(value.from as string)) {
    problems.push(problem(`${field}.from`, `must be one of ${TEST_REPORT_SOURCES.join(', ')}, got ${quoted(value.from)}`));
  }
  if (value.container !== undefined) {
    const containers = isRecord(template) && isRecord(template.spec) && Array.isArray(template.spec.containers) ? template.spec.containers : [];
    const names = containers.map((c: unknown) => (isRecord(c) ? c.name : undefined));
    if (typeof value.container !== 'string' || !names.includes(value.container)) {
      problems.push(problem(`${field}.container`, `${quoted(value.container)} is not a container of spec.template (${names.map((n) => quoted(n)).join(', ') || 'none'})`));
    }
  }
  return problems;
}

/** The settings a Runner actually runs with: its spec with every omitted optional field filled in. */
export interface EffectiveRunnerSpec extends RunnerSpec {
  template: V1PodTemplateSpec & { spec: NonNullable<V1PodTemplateSpec['spec']> };
  timeZone: string;
  suspend: boolean;
  concurrencyPolicy: ConcurrencyPolicy;
  backoffLimit: number;
  ttlSecondsAfterFinished: number;
  successfulRunsHistoryLimit: number;
  failedRunsHistoryLimit: number;
  stableStateTimeout: string;
  /** `stableStateTimeout` in milliseconds; 0 means the timeout is disabled. */
  stableStateTimeoutMs: number;
}

const defaultStableStateTimeout = parseDuration(SPEC_DEFAULTS.stableStateTimeout);
const DEFAULT_STABLE_STATE_TIMEOUT_MS = defaultStableStateTimeout.ok ? defaultStableStateTimeout.milliseconds : 0;

/**
 * Fills in the defaults of SPEC §2 (SPEC_DEFAULTS; the pod's restartPolicy defaults to Never). Meant for a spec
 * that validateRunnerSpec accepted; it does not copy or change anything else, and never mutates its argument.
 * `jobName` stays optional: its default is the Runner's name, which is not part of the spec.
 */
export function withDefaults(spec: RunnerSpec): EffectiveRunnerSpec {
  const stableStateTimeout = spec.stableStateTimeout ?? SPEC_DEFAULTS.stableStateTimeout;
  const parsedTimeout = parseDuration(stableStateTimeout);
  const podSpec = spec.template?.spec ?? { containers: [] };
  return {
    ...spec,
    template: {
      ...spec.template,
      spec: { ...podSpec, restartPolicy: podSpec.restartPolicy ?? SPEC_DEFAULTS.restartPolicy },
    },
    timeZone: spec.timeZone ?? SPEC_DEFAULTS.timeZone,
    suspend: spec.suspend ?? SPEC_DEFAULTS.suspend,
    concurrencyPolicy: spec.concurrencyPolicy ?? SPEC_DEFAULTS.concurrencyPolicy,
    backoffLimit: spec.backoffLimit ?? SPEC_DEFAULTS.backoffLimit,
    ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished ?? SPEC_DEFAULTS.ttlSecondsAfterFinished,
    successfulRunsHistoryLimit: spec.successfulRunsHistoryLimit ?? SPEC_DEFAULTS.successfulRunsHistoryLimit,
    failedRunsHistoryLimit: spec.failedRunsHistoryLimit ?? SPEC_DEFAULTS.failedRunsHistoryLimit,
    stableStateTimeout,
    // A spec that failed validation never runs, so the fallback only keeps this function total.
    stableStateTimeoutMs: parsedTimeout.ok && parsedTimeout.milliseconds >= 0 ? parsedTimeout.milliseconds : DEFAULT_STABLE_STATE_TIMEOUT_MS,
  };
}

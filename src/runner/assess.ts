// What a Runner's inputs look like right now (SPEC §3.1–3.3): a pure function of the Runner and
// the cached objects it selects. The operator sends the result to the Runner's actor as INPUTS.
import { inputsSatisfied, type RunnerInputs } from '../../machines/runner-context.ts';
import { ANNOTATION_TRIGGER, LABEL_ENABLE, type ProbeStatus, type ResourceInput, type Runner, type WatchedResource } from '../api/runner.ts';
import { canonicalJson } from './canonical-json.ts';
import { shortHash } from './job-name.ts';
import { upstreamWords, waitingForProbesMessage, waitingForResourcesMessage, waitingForUpstreamMessage, waitingForWorkloadsMessage } from './messages.ts';
import type { WorkloadKind, WorkloadView } from './readiness/readiness.ts';
import { groupOfApiVersion, resourceReadiness, type KindAvailability, type ResourceView } from './readiness/resource-readiness.ts';
import { describeProblems, type SpecProblem } from './spec/spec.ts';

export interface SelectedWorkload {
  kind: WorkloadKind;
  object: WorkloadView;
}

/** One entry of spec.resources as the operator sees it now: whether its kind can be read, and what it selects. */
export interface SelectedResources {
  index: number;
  input: ResourceInput;
  availability: KindAvailability;
  objects: ResourceView[];
}

/** The probes of a Runner (SPEC §2.3): whether they let a run start now, and what each answered. */
export interface ProbeGate {
  open: boolean;
  statuses: ProbeStatus[];
}

export interface Assessment {
  inputs: RunnerInputs;
  watchedResources: WatchedResource[];
  probes: ProbeStatus[];
  /** Why the Runner cannot run now, for people; null when nothing blocks it. */
  blockedMessage: string | null;
  /** What of workloads, resources and probes it waits for, one sentence each (empty when none holds it back). */
  waiting: string[];
  /** Every input but the probes lets the Runner run now (the moment its probes are asked). */
  satisfiedButProbes: boolean;
  problems: SpecProblem[];
  /** Members of the dependency cycle this Runner is in, as namespace/name. */
  cycle: string[] | null;
}

export interface AssessArgs {
  runner: Runner;
  workloads: SelectedWorkload[];
  upstreams: Runner[];
  problems: SpecProblem[];
  cycle: string[] | null;
  resources?: SelectedResources[];
}

/** Fields that control how runs happen rather than what a run checks: changing them is no new revision. */
const RUN_CONTROL_FIELDS = new Set([
  'suspend',
  'concurrencyPolicy',
  'startingDeadlineSeconds',
  'successfulRunsHistoryLimit',
  'failedRunsHistoryLimit',
  'stableStateTimeout',
  'advisory',
  'testResults',
]);

export function specRevisionHash(runner: Runner): string {
  const relevant = Object.entries(runner.spec ?? {}).filter(([field]) => !RUN_CONTROL_FIELDS.has(field));
  return shortHash(canonicalJson(Object.fromEntries(relevant)));
}

const refOf = (o: { metadata?: { namespace?: string; name?: string } }) => ({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' });

/**
 * Whether a downstream Runner may run after this upstream: its latest run succeeded — or, the upstream being
 * advisory (spec.advisory), finished whatever its result, since an advisory check reports and never blocks.
 */
const upstreamSucceeded = (upstream: Runner): boolean => {
  const result = upstream.status?.lastRun?.result;
  return result === 'Succeeded' || (upstream.spec?.advisory === true && result !== undefined && result !== 'Running');
};

function upstreamDetail(upstream: Runner): string {
  const lastRun = upstream.status?.lastRun;
  if (!lastRun) return 'no run yet';
  if (lastRun.result === 'Running') return 'running';
  const advisory = upstream.spec?.advisory === true && lastRun.result !== 'Succeeded' ? ' (advisory: does not block)' : '';
  return `${upstreamWords(lastRun.result)}${advisory}`;
}

export function assess({ runner, workloads, upstreams, problems, cycle, resources = [] }: AssessArgs): Assessment {
  const spec = runner.spec ?? ({} as Runner['spec']);
  const watchedWorkloads = workloads
    .map(({ kind, object }) => ({ kind, ...refOf(object), ...object.readiness }))
    .sort(byKindNamespaceName);
  const watchedUpstreams = upstreams
    .map((u) => ({ kind: 'Runner' as const, ...refOf(u), ready: upstreamSucceeded(u), message: upstreamDetail(u) }))
    .sort(byKindNamespaceName);
  const resourceEntries = resources.map(watchedOfEntry);
  const watchedResources = uniqueWatched(resourceEntries.flatMap((e) => e.watched)).sort(byKindNamespaceName);

  const workloadsOnlyReady =
    spec.workloadSelector === undefined || (watchedWorkloads.length > 0 && watchedWorkloads.every((w) => w.ready));
  const resourcesReady = resourceEntries.every((e) => e.problem === null);
  const upstreamReady =
    spec.runnerSelector === undefined || (watchedUpstreams.length > 0 && watchedUpstreams.every((u) => u.ready));

  const trigger = boundedTrigger(runner.metadata.annotations?.[ANNOTATION_TRIGGER] ?? null);
  const parts = [
    `spec@${specRevisionHash(runner)}`,
    ...workloads.map(
      ({ kind, object }) => `${kind}/${refOf(object).namespace}/${refOf(object).name}@${object.templateHash}.${(object.metadata?.uid ?? '').slice(0, 8)}`,
    ),
    ...new Set(resources.flatMap(({ input, objects }) => objects.map((o) => resourcePart(input, o)))),
    ...upstreams
      .filter(upstreamSucceeded)
      .map((u) => `Runner/${refOf(u).namespace}/${refOf(u).name}@${u.status?.lastRun?.jobName ?? ''}`),
    ...(trigger !== null ? [`trigger@${trigger}`] : []),
  ].sort();

  const inputs: RunnerInputs = {
    valid: problems.length === 0,
    suspended: spec.suspend === true,
    cycle: cycle !== null,
    // Resources (and, once everything else holds, probes: gateOnProbes) make a Runner wait as workloads do.
    workloadsReady: workloadsOnlyReady && resourcesReady,
    upstreamReady,
    scheduled: typeof spec.schedule === 'string' && spec.schedule.length > 0,
    concurrencyPolicy: spec.concurrencyPolicy === 'Replace' ? 'Replace' : 'Forbid',
    revision: shortHash(parts.join('\n')),
    parts: boundedParts(parts),
    trigger,
  };

  const waiting = [
    ...(workloadsOnlyReady ? [] : [waitingForWorkloadsMessage(watchedWorkloads)]),
    ...resourceEntries.flatMap((e) => (e.problem === null ? [] : [e.problem])),
  ];
  return {
    inputs,
    watchedResources: [...watchedWorkloads, ...watchedResources, ...watchedUpstreams],
    probes: [],
    waiting,
    satisfiedButProbes: inputsSatisfied(inputs),
    blockedMessage: blockedMessage(inputs, waiting, watchedUpstreams, problems, cycle),
    problems,
    cycle,
  };
}

/**
 * Probes are checked last (SPEC §3.1): once every other input holds, a run waits until they answer as expected,
 * and the Runner waits as it does for workloads (state WaitingForWorkloads), its message naming the probe.
 */
export function gateOnProbes(a: Assessment, gate: ProbeGate): Assessment {
  const waiting = gate.open ? a.waiting : [...a.waiting, waitingForProbesMessage(gate.statuses.map((p) => ({ namespace: '', ...p })))];
  const inputs = { ...a.inputs, workloadsReady: a.inputs.workloadsReady && gate.open };
  const upstreams = a.watchedResources.filter((w) => w.kind === 'Runner');
  return { ...a, inputs, probes: gate.statuses, waiting, blockedMessage: blockedMessage(inputs, waiting, upstreams, a.problems, a.cycle) };
}

/** A resource's part of the revision (SPEC §2.3): its uid and metadata.generation. */
function resourcePart(input: ResourceInput, o: ResourceView): string {
  const group = groupOfApiVersion(input.apiVersion) || 'core';
  return `${input.kind}.${group}/${refOf(o).namespace}/${refOf(o).name}@${(o.metadata.uid ?? '').slice(0, 8)}.${o.metadata.generation ?? 0}`;
}

/** Two entries may select the same object (with different readyWhen): it is listed once, ready only if both say so. */
function uniqueWatched(items: WatchedResource[]): WatchedResource[] {
  const byKey = new Map<string, WatchedResource>();
  for (const item of items) {
    const key = `${item.apiVersion}/${item.kind}/${item.namespace}/${item.name}`;
    const seen = byKey.get(key);
    if (!seen || (seen.ready && !item.ready)) byKey.set(key, item);
  }
  return [...byKey.values()];
}

/** What one entry of spec.resources selects, and why it holds the Runner back (null when it does not). */
function watchedOfEntry({ index, input, availability, objects }: SelectedResources): { watched: WatchedResource[]; problem: string | null } {
  if (availability.state !== 'ready') return { watched: [], problem: availability.message };
  const watched = objects
    .map((o) => ({ kind: input.kind, apiVersion: input.apiVersion, ...refOf(o), ...resourceReadiness(o, input.readyWhen) }))
    .sort(byKindNamespaceName);
  if (watched.length === 0) {
    return { watched, problem: `no enabled ${input.kind} (${input.apiVersion}) matches spec.resources[${index}].selector (objects need the label ${LABEL_ENABLE}: "true")` };
  }
  return { watched, problem: watched.every((w) => w.ready) ? null : waitingForResourcesMessage(watched) };
}

/** Parts kept in the machine (and so in status.snapshot) by name; the rest are summarised in one. */
export const MAX_NAMED_PARTS = 48;
/** The identity of the part that stands for the inputs beyond MAX_NAMED_PARTS. */
export const OTHER_PARTS = 'others';

/**
 * The parts a Runner's snapshot keeps, whatever it selects: the revision is a hash of every part,
 * but the parts themselves only serve to tell people what triggered a run. The spec and the manual
 * trigger always stay named, then workloads and upstreams in order; the rest become one part whose
 * value changes when any of them changes ("changes among 1,952 other inputs").
 */
export function boundedParts(sorted: readonly string[]): string[] {
  if (sorted.length <= MAX_NAMED_PARTS) return [...sorted];
  const first = (p: string) => (p.startsWith('spec@') || p.startsWith('trigger@') ? 0 : 1);
  const byPriority = [...sorted].sort((a, b) => first(a) - first(b));
  const named = byPriority.slice(0, MAX_NAMED_PARTS - 1);
  const rest = byPriority.slice(MAX_NAMED_PARTS - 1);
  return [...named.sort(), `${OTHER_PARTS}@${rest.length}:${shortHash(rest.join('\n'))}`];
}

/** A manual-trigger value as the machine keeps it: long values by their head and a hash. */
export function boundedTrigger(value: string | null): string | null {
  if (value === null || value.length <= 128) return value;
  return `${value.slice(0, 100)}…${shortHash(value)}`;
}

function blockedMessage(
  inputs: RunnerInputs,
  waiting: readonly string[],
  upstreams: WatchedResource[],
  problems: SpecProblem[],
  cycle: string[] | null,
): string | null {
  if (!inputs.valid) return describeProblems(problems);
  if (cycle) return `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`;
  if (inputs.suspended) return 'suspended: spec.suspend is true';
  if (!inputs.workloadsReady) return waiting.join('; ');
  if (!inputs.upstreamReady) return waitingForUpstreamMessage(upstreams);
  return null;
}

function byKindNamespaceName(a: WatchedResource, b: WatchedResource): number {
  return a.kind.localeCompare(b.kind) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

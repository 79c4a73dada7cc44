// What a Runner's inputs look like right now (SPEC §3.1–3.3): a pure function of the Runner and
// the cached objects it selects. The operator sends the result to the Runner's actor as INPUTS.
import type { RunnerInputs } from '../machines/runner.ts';
import { ANNOTATION_TRIGGER, type Runner, type WatchedResource } from './api/runner.ts';
import { canonicalJson } from './canonical-json.ts';
import { shortHash } from './job-name.ts';
import { waitingForUpstreamMessage, waitingForWorkloadsMessage } from './messages.ts';
import type { WorkloadKind, WorkloadView } from './readiness.ts';
import { describeProblems, type SpecProblem } from './spec.ts';

export interface SelectedWorkload {
  kind: WorkloadKind;
  object: WorkloadView;
}

export interface Assessment {
  inputs: RunnerInputs;
  watchedResources: WatchedResource[];
  /** Why the Runner cannot run now, for people; null when nothing blocks it. */
  blockedMessage: string | null;
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
}

/** Fields that control how runs happen rather than what a run checks: changing them is no new revision. */
const RUN_CONTROL_FIELDS = new Set([
  'suspend',
  'concurrencyPolicy',
  'startingDeadlineSeconds',
  'successfulRunsHistoryLimit',
  'failedRunsHistoryLimit',
  'stableStateTimeout',
]);

export function specRevisionHash(runner: Runner): string {
  const relevant = Object.entries(runner.spec ?? {}).filter(([field]) => !RUN_CONTROL_FIELDS.has(field));
  return shortHash(canonicalJson(Object.fromEntries(relevant)));
}

const refOf = (o: { metadata?: { namespace?: string; name?: string } }) => ({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' });

const upstreamSucceeded = (upstream: Runner): boolean => upstream.status?.lastRun?.result === 'Succeeded';

function upstreamDetail(upstream: Runner): string {
  const lastRun = upstream.status?.lastRun;
  if (!lastRun) return 'no run yet';
  if (lastRun.result === 'Running') return 'running';
  return lastRun.result === 'Succeeded' ? 'latest run succeeded' : 'latest run failed';
}

export function assess({ runner, workloads, upstreams, problems, cycle }: AssessArgs): Assessment {
  const spec = runner.spec ?? ({} as Runner['spec']);
  const watchedWorkloads = workloads
    .map(({ kind, object }) => ({ kind, ...refOf(object), ...object.readiness }))
    .sort(byKindNamespaceName);
  const watchedUpstreams = upstreams
    .map((u) => ({ kind: 'Runner' as const, ...refOf(u), ready: upstreamSucceeded(u), message: upstreamDetail(u) }))
    .sort(byKindNamespaceName);

  const workloadsReady =
    spec.workloadSelector === undefined || (watchedWorkloads.length > 0 && watchedWorkloads.every((w) => w.ready));
  const upstreamReady =
    spec.runnerSelector === undefined || (watchedUpstreams.length > 0 && watchedUpstreams.every((u) => u.ready));

  const trigger = boundedTrigger(runner.metadata.annotations?.[ANNOTATION_TRIGGER] ?? null);
  const parts = [
    `spec@${specRevisionHash(runner)}`,
    ...workloads.map(
      ({ kind, object }) => `${kind}/${refOf(object).namespace}/${refOf(object).name}@${object.templateHash}.${(object.metadata?.uid ?? '').slice(0, 8)}`,
    ),
    ...upstreams
      .filter(upstreamSucceeded)
      .map((u) => `Runner/${refOf(u).namespace}/${refOf(u).name}@${u.status?.lastRun?.jobName ?? ''}`),
    ...(trigger !== null ? [`trigger@${trigger}`] : []),
  ].sort();

  const inputs: RunnerInputs = {
    valid: problems.length === 0,
    suspended: spec.suspend === true,
    cycle: cycle !== null,
    workloadsReady,
    upstreamReady,
    scheduled: typeof spec.schedule === 'string' && spec.schedule.length > 0,
    concurrencyPolicy: spec.concurrencyPolicy === 'Replace' ? 'Replace' : 'Forbid',
    revision: shortHash(parts.join('\n')),
    parts: boundedParts(parts),
    trigger,
  };

  return {
    inputs,
    watchedResources: [...watchedWorkloads, ...watchedUpstreams],
    blockedMessage: blockedMessage(inputs, watchedWorkloads, watchedUpstreams, problems, cycle),
    problems,
    cycle,
  };
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
  workloads: WatchedResource[],
  upstreams: WatchedResource[],
  problems: SpecProblem[],
  cycle: string[] | null,
): string | null {
  if (!inputs.valid) return describeProblems(problems);
  if (cycle) return `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`;
  if (inputs.suspended) return 'suspended: spec.suspend is true';
  if (!inputs.workloadsReady) return waitingForWorkloadsMessage(workloads);
  if (!inputs.upstreamReady) return waitingForUpstreamMessage(upstreams);
  return null;
}

function byKindNamespaceName(a: WatchedResource, b: WatchedResource): number {
  return a.kind.localeCompare(b.kind) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

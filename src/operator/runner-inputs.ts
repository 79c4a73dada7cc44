// What the operator knows of one Runner's inputs, gathered from its caches and indexes for the pure assessment
// (src/runner/assess.ts): the workloads, upstreams and resources it selects, its spec problems, its cycle, and — once
// all of those hold — its probes (probe-gates.ts). Also the objects a finished run verified, for their Events.
// It never looks at the Runner's own actor: the reconcile that asks (operator.ts) passes what the actor holds, for
// the probes, which are asked only when the machine's own rule says a run is due.
import type { LastRunStatus, Runner } from '../api/runner.ts';
import { assess, gateOnProbes, type Assessment, type SelectedWorkload } from '../runner/assess.ts';
import type { WatchScope } from '../k8s/watch-scope.ts';
import { problemsInScope, validateRunnerSpec } from '../runner/spec/spec.ts';
import type { RunnerContext } from '../../machines/runner.ts';
import type { CachedRunner } from './cached-objects.ts';
import type { Caches } from './caches.ts';
import type { ProbeGates } from './probe-gates.ts';
import type { ResourceInputs, VerifiedObject } from './resource-inputs.ts';
import { parseWorkloadKey, runnerKey, type Selections } from './selections.ts';
import { WORKLOAD_API_VERSIONS, type WorkloadKinds } from './workload-kinds.ts';

export interface InputSources {
  caches: Caches;
  kinds: WorkloadKinds;
  selections: Selections;
  resources: ResourceInputs;
  probes: ProbeGates;
  /**
   * The latest run of the Runner with this uid as its own actor knows it (undefined: no run yet), or null while it
   * has no actor: another client may have put back an older status, and an older run seen again is no new revision
   * to run for.
   */
  lastRunKnown(uid: string, shown: Runner): LastRunStatus | undefined | null;
  scope: WatchScope;
  now(): string;
}

/**
 * The spec's problems, found once per spec object: a watch event replaces a Runner's spec object, so a Runner
 * reassessed for a workload's burst of events is validated once, not once per event.
 */
const problemsOfSpec = new WeakMap<object, ReturnType<typeof validateRunnerSpec>>();
function specProblems(spec: Runner['spec']): ReturnType<typeof validateRunnerSpec> {
  if (typeof spec !== 'object' || spec === null) return validateRunnerSpec(spec);
  let problems = problemsOfSpec.get(spec);
  if (!problems) problemsOfSpec.set(spec, (problems = validateRunnerSpec(spec)));
  return problems;
}

/** The Runner's inputs assessed; `context` is what its actor holds (null before it has one), for its probes. */
export function assessRunner(runner: Runner, context: RunnerContext | null, s: InputSources): Assessment {
  const key = runnerKey(runner);
  const workloads: SelectedWorkload[] = [];
  for (const wkey of s.selections.workloadsOf(key)) {
    const { kind, namespace, name } = parseWorkloadKey(wkey);
    const object = s.kinds.get(kind, namespace, name);
    if (object) workloads.push({ kind, object });
  }
  const upstreams = [...s.selections.upstreamsOf(key)]
    .map((k) => s.caches.upstream(k))
    .filter((r): r is CachedRunner => r !== undefined)
    .map((u) => upstreamAsItsActorKnowsIt(u, s));
  const problems = [...specProblems(runner.spec), ...problemsInScope(runner.spec, s.scope.namespaces !== null)];
  const base = assess({ runner, workloads, upstreams, problems, cycle: s.selections.cycleOf(key), resources: s.resources.selectedOf(runner) });
  const gate = s.probes.gate(key, problems.length === 0 ? runner.spec.probes : undefined, base.inputs, context, s.now());
  return gate ? gateOnProbes(base, gate) : base;
}

/** An upstream Runner with the latest run its own actor knows, not the one its status shows; without an actor, its status. */
function upstreamAsItsActorKnowsIt(upstream: CachedRunner, s: InputSources): Runner {
  const lastRun = s.lastRunKnown(upstream.metadata.uid ?? '', upstream);
  if (lastRun === null) return upstream;
  const { lastRun: _shown, ...status } = upstream.status ?? {};
  return { ...upstream, status: lastRun ? { ...status, lastRun } : status };
}

/** The workloads and resources a run of this Runner verified (SPEC §5: each gets an Event). */
export function verifiedObjects(runner: Runner | undefined, s: InputSources): VerifiedObject[] {
  if (!runner) return [];
  const workloads = [...s.selections.workloadsOf(runnerKey(runner))].map((wkey): VerifiedObject => {
    const { kind, namespace, name } = parseWorkloadKey(wkey);
    const uid = s.kinds.get(kind, namespace, name)?.metadata.uid;
    return { apiVersion: WORKLOAD_API_VERSIONS[kind], kind, namespace, name, ...(uid ? { uid } : {}) };
  });
  return [...workloads, ...s.resources.verified(runner)];
}

// What the operator keeps of each object it watches: only the fields it reads. An operator's
// memory is mostly its caches; a Deployment with its managedFields and pod template is several
// KiB, its readiness and template hash a few dozen bytes. Pure functions, applied by the watch
// caches before an object is stored.
import type { KubernetesObject, V1Job, V1Namespace, V1ObjectMeta } from '@kubernetes/client-node';
import { ANNOTATION_TRIGGER, API_VERSION, KIND, LABEL_JOB_NAME, LABEL_REVISION, type LastRunStatus, type Runner, type RunnerStatus } from '../api/runner.ts';
import { canonicalJson } from '../runner/canonical-json.ts';
import { ANNOTATION_RUN_KEY } from '../runner/job.ts';
import { shortHash } from '../runner/job-name.ts';

/** A Runner, with a digest of its status standing in for most of it. */
export interface CachedRunner extends Runner {
  /** Digest of the whole status as the server has it, so a write that would change nothing is not sent. */
  statusDigest: string;
}

export const statusDigest = (status: RunnerStatus | undefined): string => shortHash(canonicalJson(status ?? null), 20);

const identity = (m: V1ObjectMeta | undefined) => ({
  name: m?.name,
  namespace: m?.namespace,
  uid: m?.uid,
  resourceVersion: m?.resourceVersion,
});

/** What every cached Runner keeps of its metadata: who it is, its generation, whether it is going, its labels (upstream selection). */
const runnerIdentity = (m: V1ObjectMeta) => ({
  ...identity(m),
  generation: m.generation,
  ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
  labels: m.labels ?? {},
});

/**
 * A Runner keeps its spec (the Job is built from it), its labels (upstream selection), the manual
 * trigger annotation, and of its status what the operator reads back: conditions (their
 * transition times), lastRun (what downstream Runners wait for) and, until the actors are
 * restored at start-up, the snapshot.
 */
export function slimRunner(o: KubernetesObject, keepSnapshot: boolean): CachedRunner {
  const r = o as Runner;
  const m = r.metadata ?? {};
  const trigger = m.annotations?.[ANNOTATION_TRIGGER];
  const status = r.status;
  return {
    // The watch's own: one string for every cached Runner, not a copy of the server's per object.
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      ...runnerIdentity(m),
      creationTimestamp: m.creationTimestamp,
      ...(trigger !== undefined ? { annotations: { [ANNOTATION_TRIGGER]: trigger } } : {}),
    },
    spec: r.spec,
    ...(status
      ? {
          status: {
            ...(status.conditions ? { conditions: status.conditions } : {}),
            ...(status.lastRun ? { lastRun: status.lastRun } : {}),
            ...(keepSnapshot && status.snapshot ? { snapshot: status.snapshot } : {}),
          },
        }
      : {}),
    statusDigest: statusDigest(status),
  };
}

/** The pod template of a Runner whose Jobs another replica makes: one shared, frozen stand-in. */
const NOT_KEPT: Runner['spec']['template'] = Object.freeze({});

/**
 * A Runner another replica acts on (replicas that share the Runners, src/shard/): only what this replica's own Runners
 * read of it as an upstream — its labels (they select it), its lastRun and whether it is advisory (the gate), its
 * selectors of upstreams (the dependency cycles span every replica's Runners). Its template, workload selector and
 * conditions are not kept: at 20,000 Runners over 4 replicas, three quarters of the cache are such Runners. Applied to
 * what is cached of a Runner too (a replica giving it up keeps less of it from then on), so its own output is an input.
 */
/** Whether the cache keeps all of this Runner (this replica acts on it), not only what an upstream needs (foreignRunner). */
export const keptInFull = (runner: CachedRunner): boolean => runner.spec.template !== NOT_KEPT;

export function foreignRunner(o: KubernetesObject): CachedRunner {
  const r = o as Runner;
  const m = r.metadata ?? {};
  const spec = r.spec ?? {};
  // Of its latest run, what the gate and a downstream run's revision read: not the test report or the message.
  const { tests: _tests, message: _message, ...lastRun } = r.status?.lastRun ?? {};
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: runnerIdentity(m),
    spec: {
      template: NOT_KEPT,
      ...(spec.runnerSelector ? { runnerSelector: spec.runnerSelector } : {}),
      ...(spec.namespaceSelector ? { namespaceSelector: spec.namespaceSelector } : {}),
      ...(spec.advisory !== undefined ? { advisory: spec.advisory } : {}),
    },
    ...(r.status?.lastRun ? { status: { lastRun: lastRun as LastRunStatus } } : {}),
    // Only the replica that writes a status compares its digest (src/operator/status-writer.ts).
    statusDigest: '',
  };
}

/** A Job keeps whose run it is and how it ended: not its pod template. */
export function slimJob(o: KubernetesObject): V1Job {
  const j = o as V1Job;
  const m = j.metadata;
  const runKey = m?.annotations?.[ANNOTATION_RUN_KEY];
  const revision = m?.labels?.[LABEL_REVISION];
  // Whether the history limits may delete it by selector (src/operator/job-pruner.ts). The label's value is the
  // name string the cache holds anyway, so keeping it costs no memory but the entry.
  const named = m?.name !== undefined && m.labels?.[LABEL_JOB_NAME] === m.name;
  const labels = { ...(revision !== undefined ? { [LABEL_REVISION]: revision } : {}), ...(named ? { [LABEL_JOB_NAME]: m.name! } : {}) };
  const s = j.status;
  return {
    metadata: {
      ...identity(m),
      creationTimestamp: m?.creationTimestamp,
      ...(m?.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
      ...(runKey !== undefined ? { annotations: { [ANNOTATION_RUN_KEY]: runKey } } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ownerReferences: (m?.ownerReferences ?? []).filter((ref) => ref.controller),
    },
    // The deadline and the attempts counted say how a run ended: an Error's words, a flaky success (run-outcome.ts).
    ...(j.spec?.activeDeadlineSeconds !== undefined ? { spec: { activeDeadlineSeconds: j.spec.activeDeadlineSeconds, template: {} } } : {}),
    status: {
      ...(s?.conditions ? { conditions: s.conditions.map(({ type, status, reason, message, lastTransitionTime }) => ({ type, status, reason, message, lastTransitionTime })) } : {}),
      ...(s?.completionTime ? { completionTime: s.completionTime } : {}),
      ...(s?.startTime ? { startTime: s.startTime } : {}),
      ...(s?.failed ? { failed: s.failed } : {}),
      ...(s?.succeeded ? { succeeded: s.succeeded } : {}),
    },
  };
}

export function slimNamespace(o: KubernetesObject): V1Namespace {
  return { metadata: { ...identity(o.metadata), labels: o.metadata?.labels ?? {} } };
}

/** A CustomResourceDefinition: its name and whether it is Established. */
export function slimCrd(o: KubernetesObject): KubernetesObject & { established: boolean } {
  const conditions = (o as { status?: { conditions?: { type?: string; status?: string }[] } }).status?.conditions ?? [];
  return {
    metadata: identity(o.metadata),
    established: conditions.some((c) => c.type === 'Established' && c.status === 'True'),
  };
}

/** A CustomResourceDefinition as spec.resources needs it: which kind of which group it serves, and whether it is Established. */
export interface CrdKind extends KubernetesObject {
  group: string;
  kind: string;
  established: boolean;
}

export function slimCrdKind(o: KubernetesObject): CrdKind {
  const spec = (o as { spec?: { group?: unknown; names?: { kind?: unknown } } }).spec;
  return {
    ...slimCrd(o),
    group: typeof spec?.group === 'string' ? spec.group : '',
    kind: typeof spec?.names?.kind === 'string' ? spec.names.kind : '',
  };
}

// Readiness of an object selected through `spec.resources` (SPEC §2.3), and what the operator keeps of it: who it
// is, its generation (its part of a run revision, with its uid), its kstatus verdict and the verdict of each
// readyWhen expression that Runners apply to its kind — never the object itself. Pure.
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { computeKstatus, isBuiltinKind, type KstatusResult } from './kstatus.ts';
import type { Readiness } from './readiness.ts';
import { compileReadyWhen } from './ready-when.ts';
import { groupOf, isInt64, isMap } from './unstructured.ts';

/** Whether a kind's objects can be judged now; `message` says why not, for the Runner's status. */
export type KindAvailability = { state: 'ready' } | { state: 'pending' | 'unserved' | 'forbidden' | 'failing'; message: string };

export interface ResourceView extends KubernetesObject {
  metadata: Pick<V1ObjectMeta, 'name' | 'namespace' | 'uid' | 'labels' | 'resourceVersion' | 'generation'>;
  /** The verdict without readyWhen: kstatus', unless its controller has not reported yet (defaultReadiness). */
  kstatus: Readiness;
  /** By expression text: the verdict of each readyWhen that applied to the kind when the object was last seen. */
  readyWhen: Record<string, Readiness>;
}

/** A controller's message can be long; status keeps the start of it. */
const MESSAGE_MAX = 200;
const cut = (text: string) => (text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX - 1)}…` : text);

/** Ready means kstatus Current; the message says kstatus' word and why. */
export function kstatusReadiness(result: KstatusResult): Readiness {
  if (result.error !== undefined) return { ready: false, message: cut(`kstatus cannot judge it (${result.error}); give this kind a readyWhen`) };
  return { ready: result.status === 'Current', message: cut(result.message ? `${result.status}: ${result.message}` : result.status) };
}

/**
 * Ready by default, when the entry has no readyWhen: kstatus Current, and reported on by the object's controller.
 *
 * kstatus fails open on an object whose controller has not written a status yet: with no observedGeneration and no
 * conditions to read, it calls the object Current (kubernetes-sigs/cli-utils#632). A Flux HelmRelease created a moment
 * ago would be "ready" before Flux has installed anything. Hestia promises truly ready, so an object that kstatus calls
 * Current but whose controller has not reported yet (awaitedReport) is not ready. Every other verdict is kstatus' own:
 * an object with a status, whatever it holds (test/unit/kstatus-differential.test.ts holds that to the library); a
 * ConfigMap or Secret, which has neither generation nor status and is ready by existing; a built-in kind, judged by
 * kstatus' rule for it — the workload kinds by the counts their controllers write, so a Deployment without status is
 * not ready ("Replicas: 0/1") as through workloadSelector, and a CronJob always ready (its controller writes status
 * only when it schedules a Job).
 */
export function defaultReadiness(object: KubernetesObject, now: Date): Readiness {
  const result = computeKstatus(object, now);
  const generation = result.status === 'Current' ? awaitedReport(object) : null;
  if (generation !== null) {
    return { ready: false, message: `no status yet: its controller has not reported on generation ${generation}; if no controller will, give this kind a readyWhen` };
  }
  return kstatusReadiness(result);
}

/**
 * The generation whose report the object awaits: it has a `metadata.generation` (every custom resource has one) but
 * no status (absent, null or `{}`), and kstatus has no rule of its own for its kind. Null when none is awaited.
 */
export function awaitedReport(object: unknown): number | null {
  if (!isMap(object) || isBuiltinKind(object)) return null;
  const generation = isMap(object.metadata) ? object.metadata.generation : undefined;
  if (!isInt64(generation)) return null;
  const status = object.status;
  const silent = status === undefined || status === null || (isMap(status) && Object.keys(status).length === 0);
  return silent ? generation : null;
}

export function viewOfResource(object: KubernetesObject, expressions: Iterable<string>, now: Date): ResourceView {
  const m = object.metadata ?? {};
  const readyWhen: Record<string, Readiness> = {};
  for (const expression of expressions) {
    const compiled = compileReadyWhen(expression);
    if (compiled.ok) readyWhen[expression] = compiled.evaluate(object);
  }
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      generation: m.generation,
      labels: m.labels ?? {},
    },
    kstatus: defaultReadiness(object, now),
    readyWhen,
  };
}

/** Ready by readyWhen when the entry has one (it alone decides), else by default (kstatus, once reported on). */
export function resourceReadiness(view: ResourceView, readyWhen: string | undefined): Readiness {
  if (readyWhen === undefined) return view.kstatus;
  return view.readyWhen[readyWhen] ?? { ready: false, message: 'readyWhen not evaluated yet' };
}

/** `helm.toolkit.fluxcd.io/v2` → `helm.toolkit.fluxcd.io`; `v1` → `` (the core group). */
export const groupOfApiVersion = (apiVersion: string): string => groupOf(apiVersion) ?? '';

/** "kind HelmRelease (helm.toolkit.fluxcd.io/v2)": how messages name a kind. */
export const kindPhrase = (ref: { apiVersion: string; kind: string }): string => `kind ${ref.kind} (${ref.apiVersion})`;

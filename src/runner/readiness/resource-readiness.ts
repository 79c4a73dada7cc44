// Readiness of an object selected through `spec.resources` (SPEC §2.3), and what the operator keeps of it: who it
// is, its generation (its part of a run revision, with its uid), its kstatus verdict and the verdict of each
// readyWhen expression that Runners apply to its kind — never the object itself. Pure.
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { computeKstatus, type KstatusResult } from './kstatus.ts';
import type { Readiness } from './readiness.ts';
import { compileReadyWhen } from './ready-when.ts';
import { groupOf } from './unstructured.ts';

/** Whether a kind's objects can be judged now; `message` says why not, for the Runner's status. */
export type KindAvailability = { state: 'ready' } | { state: 'pending' | 'unserved' | 'forbidden' | 'failing'; message: string };

export interface ResourceView extends KubernetesObject {
  metadata: Pick<V1ObjectMeta, 'name' | 'namespace' | 'uid' | 'labels' | 'resourceVersion' | 'generation'>;
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
    kstatus: kstatusReadiness(computeKstatus(object, now)),
    readyWhen,
  };
}

/** Ready by readyWhen when the entry has one, else by kstatus. */
export function resourceReadiness(view: ResourceView, readyWhen: string | undefined): Readiness {
  if (readyWhen === undefined) return view.kstatus;
  return view.readyWhen[readyWhen] ?? { ready: false, message: 'readyWhen not evaluated yet' };
}

/** `helm.toolkit.fluxcd.io/v2` → `helm.toolkit.fluxcd.io`; `v1` → `` (the core group). */
export const groupOfApiVersion = (apiVersion: string): string => groupOf(apiVersion) ?? '';

/** "kind HelmRelease (helm.toolkit.fluxcd.io/v2)": how messages name a kind. */
export const kindPhrase = (ref: { apiVersion: string; kind: string }): string => `kind ${ref.kind} (${ref.apiVersion})`;

// Readiness of a workload (SPEC §3.2), read from the object the cache holds, and the workload's
// part of a run revision. Pure: no API calls, no clock.
//
// Absent status counters count as 0 (a controller omits zero-valued fields), and an absent
// `spec.replicas` means 1, the API server's default. A workload scaled to 0 whose counters are all
// 0 is ready: the SPEC's equalities hold, and there is nothing left to roll out.
import type { KubernetesObject, V1DaemonSet, V1Deployment, V1ObjectMeta, V1StatefulSet } from '@kubernetes/client-node';
import { canonicalJson } from '../canonical-json.ts';
import { shortHash } from '../job-name.ts';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'DeploymentConfig';

export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'DeploymentConfig'];

export interface Readiness {
  ready: boolean;
  /** For people: "3/3 available", "1/3 updated", "rollout in progress: generation 4 not yet observed". */
  message: string;
}

/** The fields of an OpenShift `apps.openshift.io/v1` DeploymentConfig that readiness reads. */
export interface DeploymentConfig extends KubernetesObject {
  spec?: { replicas?: number; template?: unknown };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
  };
}

export type WorkloadObject = V1Deployment | V1StatefulSet | V1DaemonSet | DeploymentConfig;

export function readinessOf(kind: WorkloadKind, obj: WorkloadObject | KubernetesObject): Readiness {
  switch (kind) {
    case 'Deployment':
      return deploymentReadiness(obj as V1Deployment);
    case 'StatefulSet':
      return statefulSetReadiness(obj as V1StatefulSet);
    case 'DaemonSet':
      return daemonSetReadiness(obj as V1DaemonSet);
    case 'DeploymentConfig':
      return deploymentConfigReadiness(obj as DeploymentConfig);
    default:
      // Unreachable for typed callers; a kind from untyped data must not crash the operator.
      return { ready: false, message: `unsupported kind ${String(kind satisfies never)}` };
  }
}

/** observedGeneration ≥ generation; updated, available and total replicas all equal spec.replicas. */
export function deploymentReadiness(d: V1Deployment): Readiness {
  const stale = unobservedGeneration(d.metadata?.generation, d.status?.observedGeneration);
  if (stale) return stale;
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return countsReadiness(desired, [
    [s.availableReplicas, 'available'],
    [s.updatedReplicas, 'updated'],
    [s.replicas, 'replicas'],
  ]);
}

/** observedGeneration ≥ generation; updated and ready replicas equal spec.replicas. */
export function statefulSetReadiness(s: V1StatefulSet): Readiness {
  const stale = unobservedGeneration(s.metadata?.generation, s.status?.observedGeneration);
  if (stale) return stale;
  const desired = s.spec?.replicas ?? 1;
  return countsReadiness(desired, [
    [s.status?.readyReplicas, 'ready'],
    [s.status?.updatedReplicas, 'updated'],
  ]);
}

/** observedGeneration ≥ generation; ready, available and updated pods equal desiredNumberScheduled. */
export function daemonSetReadiness(ds: V1DaemonSet): Readiness {
  const stale = unobservedGeneration(ds.metadata?.generation, ds.status?.observedGeneration);
  if (stale) return stale;
  const desired = ds.status?.desiredNumberScheduled ?? 0;
  const result = countsReadiness(desired, [
    [ds.status?.numberReady, 'ready'],
    [ds.status?.numberAvailable, 'available'],
    [ds.status?.updatedNumberScheduled, 'updated'],
  ]);
  // "scaled to 0" would be wrong for a DaemonSet: no node currently asks for its pod.
  return result.ready && desired === 0 ? { ready: true, message: 'no node to run on' } : result;
}

/** Condition Available=True; ready and available replicas equal spec.replicas. */
export function deploymentConfigReadiness(dc: DeploymentConfig): Readiness {
  const available = dc.status?.conditions?.find((c) => c.type === 'Available');
  if (available?.status !== 'True') {
    return { ready: false, message: `condition Available is ${available?.status ?? 'missing'}` };
  }
  const desired = dc.spec?.replicas ?? 1;
  return countsReadiness(desired, [
    [dc.status?.readyReplicas, 'ready'],
    [dc.status?.availableReplicas, 'available'],
  ]);
}

function unobservedGeneration(generation: number | undefined, observed: number | undefined): Readiness | null {
  if ((observed ?? 0) >= (generation ?? 0)) return null;
  return { ready: false, message: `rollout in progress: generation ${generation} not yet observed` };
}

type Count = readonly [value: number | undefined, what: string];

/**
 * Ready when every count equals `desired`. The message names every count that differs ("2/3
 * available, 1/3 updated"), or, when ready, the first one ("3/3 available"), or "scaled to 0".
 */
function countsReadiness(desired: number, counts: readonly Count[]): Readiness {
  const describe = ([value = 0, what]: Count) =>
    what === 'replicas' ? `${value} replica${value === 1 ? '' : 's'} (want ${desired})` : `${value}/${desired} ${what}`;
  const off = counts.filter(([value]) => (value ?? 0) !== desired);
  if (off.length > 0 && desired === 0) {
    // "1/0 available" reads as nonsense; what people want to know is that pods are still going.
    const left = Math.max(...off.map(([value]) => value ?? 0));
    return { ready: false, message: `scaling to 0: ${left} pod${left === 1 ? '' : 's'} left` };
  }
  if (off.length > 0) return { ready: false, message: off.map(describe).join(', ') };
  const [first] = counts;
  return { ready: true, message: desired === 0 || first === undefined ? 'scaled to 0' : describe(first) };
}

/**
 * A short, stable hash of the workload's pod template (`spec.template`), its part of a run revision.
 *
 * A rollout changes the template (including `kubectl rollout restart`, which stamps an annotation
 * on it), so it changes the hash; scaling changes `metadata.generation` but not the template, and
 * is not a rollout, so the hash stays. Keys are sorted and null/undefined fields dropped, so the
 * hash does not depend on key order or on how the object was deserialised.
 */
export function podTemplateHash(obj: KubernetesObject | WorkloadObject): string {
  const template = (obj as { spec?: { template?: unknown } }).spec?.template;
  return shortHash(canonicalJson(template ?? {}));
}

/**
 * A workload as the operator caches it: who it is, whether it is ready, and which rollout it is
 * at. A few dozen bytes, where the object with its managedFields and pod template is several KiB.
 */
export interface WorkloadView extends KubernetesObject {
  metadata: Pick<V1ObjectMeta, 'name' | 'namespace' | 'uid' | 'labels' | 'resourceVersion'>;
  readiness: Readiness;
  templateHash: string;
}

export const viewOfWorkload =
  (kind: WorkloadKind) =>
  (o: KubernetesObject): WorkloadView => ({
    metadata: {
      name: o.metadata?.name,
      namespace: o.metadata?.namespace,
      uid: o.metadata?.uid,
      resourceVersion: o.metadata?.resourceVersion,
      labels: o.metadata?.labels ?? {},
    },
    readiness: readinessOf(kind, o),
    templateHash: podTemplateHash(o),
  });

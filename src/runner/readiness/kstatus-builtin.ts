// kstatus' own rules for built-in kinds (src/runner/readiness/kstatus.ts applies them after the generic checks), as
// the kstatus library writes them: Deployments, StatefulSets, DaemonSets, ReplicaSets by their
// replica counts, Pods by phase, Jobs by their conditions, and so on.
import { current, failed, inProgress, type KstatusResult } from './kstatus-result.ts';
import { conditionsOf, FieldTypeError, intField, isMap, nestedField, nestedInt64, stringField, type JsonMap } from './unstructured.ts';

type Rule = (object: JsonMap, now: Date) => KstatusResult;

const MAX_INT32 = 2_147_483_647;
/** How long a Pod may stay unschedulable before kstatus calls it Failed. */
const SCHEDULE_WINDOW_MS = 15_000;

const int = (o: JsonMap, path: string, fallback: number) => intField(o, path.split('.'), fallback);
const str = (o: JsonMap, path: string, fallback: string) => stringField(o, path.split('.'), fallback);
const alwaysReady: Rule = () => current('Resource is always ready');

const RULES: Record<string, Rule> = {
  Service: serviceStatus,
  Pod: podStatus,
  Secret: alwaysReady,
  PersistentVolumeClaim: (o) => (str(o, 'status.phase', 'unknown') === 'Bound' ? current('PVC is Bound') : inProgress(`PVC is not Bound. phase: ${str(o, 'status.phase', 'unknown')}`)),
  'apps/StatefulSet': statefulSetStatus,
  'apps/DaemonSet': daemonSetStatus,
  'extensions/DaemonSet': daemonSetStatus,
  'apps/Deployment': deploymentStatus,
  'extensions/Deployment': deploymentStatus,
  'apps/ReplicaSet': replicaSetStatus,
  'extensions/ReplicaSet': replicaSetStatus,
  'policy/PodDisruptionBudget': () => current('AllowedDisruptions has been computed.'),
  'batch/CronJob': alwaysReady,
  ConfigMap: alwaysReady,
  'batch/Job': jobStatus,
  'apiextensions.k8s.io/CustomResourceDefinition': crdStatus,
};

/** The rule for `group/Kind` (or `Kind` in the core group), if kstatus has one. */
export function builtinRule(key: string): Rule | undefined {
  return Object.hasOwn(RULES, key) ? RULES[key] : undefined;
}

function statefulSetStatus(o: JsonMap): KstatusResult {
  if (str(o, 'spec.updateStrategy.type', '') === 'OnDelete') return current('StatefulSet is using the ondelete update strategy');
  const spec = int(o, 'spec.replicas', 1);
  const ready = int(o, 'status.readyReplicas', 0);
  const currentReplicas = int(o, 'status.currentReplicas', 0);
  const updated = int(o, 'status.updatedReplicas', 0);
  const replicas = int(o, 'status.replicas', 0);
  const partition = int(o, 'spec.updateStrategy.rollingUpdate.partition', -1);
  if (spec > replicas) return inProgress(`Replicas: ${replicas}/${spec}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  if (partition !== -1) {
    if (updated < spec - partition) return inProgress(`updated: ${updated}/${spec - partition}`);
    return current(`Partition rollout complete. updated: ${updated}`);
  }
  if (spec > currentReplicas) return inProgress(`current: ${currentReplicas}/${spec}`);
  if (str(o, 'status.currentRevision', '') !== str(o, 'status.updateRevision', '')) return inProgress('Waiting for updated revision to match current');
  return current(`All replicas scheduled as expected. Replicas: ${replicas}`);
}

function deploymentStatus(o: JsonMap): KstatusResult {
  let progressing = int(o, 'spec.progressDeadlineSeconds', MAX_INT32) === MAX_INT32;
  let available = false;
  for (const c of conditionsOf(o)) {
    if (c.type === 'Progressing') {
      if (c.reason === 'ProgressDeadlineExceeded') return failed('Progress deadline exceeded');
      if (c.status === 'True' && c.reason === 'NewReplicaSetAvailable') progressing = true;
    } else if (c.type === 'Available' && c.status === 'True') available = true;
  }
  const spec = int(o, 'spec.replicas', 1);
  const replicas = int(o, 'status.replicas', 0);
  const updated = int(o, 'status.updatedReplicas', 0);
  const ready = int(o, 'status.readyReplicas', 0);
  const availableReplicas = int(o, 'status.availableReplicas', 0);
  if (spec > replicas) return inProgress(`Replicas: ${replicas}/${spec}`);
  if (spec > updated) return inProgress(`Updated: ${updated}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  if (updated > availableReplicas) return inProgress(`Available: ${availableReplicas}/${updated}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (!progressing) return inProgress('ReplicaSet not Available');
  if (!available) return inProgress('Deployment not Available');
  return current(`Deployment is available. Replicas: ${replicas}`);
}

function replicaSetStatus(o: JsonMap): KstatusResult {
  for (const c of conditionsOf(o)) if (c.type === 'ReplicaFailure' && c.status === 'True') return inProgress('Replica Failure condition. Check Pods');
  const spec = int(o, 'spec.replicas', 1);
  const replicas = int(o, 'status.replicas', 0);
  const ready = int(o, 'status.readyReplicas', 0);
  const available = int(o, 'status.availableReplicas', 0);
  const labelled = int(o, 'status.fullyLabeledReplicas', 0);
  if (spec > labelled) return inProgress(`Labelled: ${labelled}/${spec}`);
  if (spec > available) return inProgress(`Available: ${available}/${spec}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  return current(`ReplicaSet is available. Replicas: ${replicas}`);
}

function daemonSetStatus(o: JsonMap): KstatusResult {
  // Unlike the generic check, a DaemonSet must have both generation fields: its controller always sets them.
  const kind = str(o, 'kind', '');
  if (!nestedInt64(o, ['metadata', 'generation']).found) return inProgress(`${kind} metadata.generation not found`);
  if (!nestedInt64(o, ['status', 'observedGeneration']).found) return inProgress(`${kind} status.observedGeneration not found`);
  const desired = int(o, 'status.desiredNumberScheduled', -1);
  const scheduled = int(o, 'status.currentNumberScheduled', 0);
  const updated = int(o, 'status.updatedNumberScheduled', 0);
  const available = int(o, 'status.numberAvailable', 0);
  const ready = int(o, 'status.numberReady', 0);
  if (desired === -1) return inProgress('Missing .status.desiredNumberScheduled');
  if (desired > scheduled) return inProgress(`Current: ${scheduled}/${desired}`);
  if (desired > updated) return inProgress(`Updated: ${updated}/${desired}`);
  if (desired > available) return inProgress(`Available: ${available}/${desired}`);
  if (desired > ready) return inProgress(`Ready: ${ready}/${desired}`);
  return current(`All replicas scheduled as expected. Replicas: ${desired}`);
}

function podStatus(o: JsonMap, now: Date): KstatusResult {
  const conditions = conditionsOf(o);
  const phase = str(o, 'status.phase', '');
  switch (phase) {
    case 'Succeeded':
      return current('Pod has completed successfully');
    case 'Failed':
      return current('Pod has completed, but not successfully');
    case 'Running': {
      if (conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return current('Pod is Ready');
      const crashing = crashLoopingContainers(o);
      if (crashing.length > 0) return failed(`Containers in CrashLoop state: ${crashing.join(',')}`);
      return inProgress('Pod is running but is not Ready');
    }
    case 'Pending': {
      const unschedulable = conditions.find((c) => c.type === 'PodScheduled' && c.status === 'False');
      if (unschedulable?.reason !== 'Unschedulable') return inProgress('Pod is in the Pending phase');
      const created = creationTime(o);
      return now.getTime() - SCHEDULE_WINDOW_MS < created ? inProgress('Pod has not been scheduled') : failed('Pod could not be scheduled');
    }
    case '':
      return inProgress('Pod phase not available');
    default:
      throw new FieldTypeError(`unknown phase ${phase}`);
  }
}

/** Containers waiting in CrashLoopBackOff. (The Go library panics on malformed container statuses; here they are an error.) */
function crashLoopingContainers(o: JsonMap): string[] {
  const { found, value } = nestedField(o, ['status', 'containerStatuses']);
  if (!found) return [];
  if (!Array.isArray(value)) throw new FieldTypeError('.status.containerStatuses accessor error: expected []interface{}');
  const names: string[] = [];
  for (const status of value) {
    if (!isMap(status)) throw new FieldTypeError('a container status is not an object');
    if (!Object.hasOwn(status, 'name')) continue;
    if (typeof status.name !== 'string') throw new FieldTypeError('a container status name is not a string');
    if (!Object.hasOwn(status, 'state')) continue;
    const waiting = isMap(status.state) ? status.state.waiting : undefined;
    if (!isMap(status.state) || (waiting !== undefined && !isMap(waiting))) throw new FieldTypeError('a container state is not an object');
    if (waiting === undefined || !Object.hasOwn(waiting, 'reason')) continue;
    if (typeof waiting.reason !== 'string') throw new FieldTypeError('a waiting reason is not a string');
    if (waiting.reason === 'CrashLoopBackOff') names.push(status.name);
  }
  return names;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** Go's zero time, 0001-01-01T00:00:00Z, in milliseconds since 1970. */
const ZERO_TIME_MS = -62_135_596_800_000;

/** metadata.creationTimestamp in milliseconds; the zero time (year 1) when absent or not RFC 3339, as Go reads it. */
function creationTime(o: JsonMap): number {
  const text = str(o, 'metadata.creationTimestamp', '');
  const parsed = RFC3339.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(parsed) ? ZERO_TIME_MS : parsed;
}

function jobStatus(o: JsonMap): KstatusResult {
  const parallelism = int(o, 'spec.parallelism', 1);
  const completions = int(o, 'spec.completions', parallelism);
  const succeeded = int(o, 'status.succeeded', 0);
  const active = int(o, 'status.active', 0);
  const failedPods = int(o, 'status.failed', 0);
  for (const c of conditionsOf(o)) {
    if (c.type === 'Complete' && c.status === 'True') return current(`Job Completed. succeeded: ${succeeded}/${completions}`);
    if (c.type === 'Failed' && c.status === 'True') return failed(`Job Failed. failed: ${failedPods}/${completions}`);
  }
  if (str(o, 'status.startTime', '') === '') return inProgress('Job not started');
  return current(`Job in progress. success:${succeeded}, active: ${active}, failed: ${failedPods}`);
}

function serviceStatus(o: JsonMap): KstatusResult {
  if (str(o, 'spec.type', 'ClusterIP') === 'LoadBalancer' && str(o, 'spec.clusterIP', '') === '') return inProgress('ClusterIP not set. Service type: LoadBalancer');
  return current('Service is ready');
}

function crdStatus(o: JsonMap): KstatusResult {
  for (const c of conditionsOf(o)) {
    if (c.type === 'NamesAccepted' && c.status === 'False') return failed(c.message);
    if (c.type === 'Established') {
      if (c.status === 'False' && c.reason !== 'Installing') return failed(c.message);
      if (c.status === 'True') return current('CRD is established');
    }
  }
  return inProgress('Install in progress');
}

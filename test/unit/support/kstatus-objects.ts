// Objects of many kinds for the kstatus differential test: the fields kstatus reads, filled with values a
// controller would write and with values of the wrong type, null or missing. Not generated: container statuses
// of the wrong shape inside a list, which make the Go library panic rather than refuse (src/runner/readiness/kstatus-builtin.ts
// reports them as Unknown).
import fc from 'fast-check';

const TYPES: [apiVersion: string, kind: string][] = [
  ['apps/v1', 'Deployment'], ['extensions/v1beta1', 'Deployment'], ['apps/v1', 'StatefulSet'], ['apps/v1', 'DaemonSet'], ['apps/v1', 'ReplicaSet'],
  ['v1', 'Pod'], ['v1', 'Service'], ['v1', 'Secret'], ['v1', 'ConfigMap'], ['v1', 'PersistentVolumeClaim'], ['batch/v1', 'Job'], ['batch/v1', 'CronJob'],
  ['policy/v1', 'PodDisruptionBudget'], ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'], ['helm.toolkit.fluxcd.io/v2', 'HelmRelease'],
  ['kustomize.toolkit.fluxcd.io/v1', 'Kustomization'], ['argoproj.io/v1alpha1', 'Application'], ['argoproj.io/v1alpha1', 'Rollout'],
  ['serving.knative.dev/v1', 'Service'], ['postgresql.cnpg.io/v1', 'Cluster'],
];
const API_VERSIONS = [...new Set(TYPES.map(([apiVersion]) => apiVersion)), 'example.com/v1', 'a/b/c', '', '/'];
const KINDS = [...new Set(TYPES.map(([, kind]) => kind)), 'Widget'];
const CONDITION_TYPES = ['Ready', 'Reconciling', 'Stalled', 'Available', 'Progressing', 'ReplicaFailure', 'Complete', 'Failed', 'PodScheduled', 'NamesAccepted', 'Established', 'Healthy', ''];
const CONDITION_STATUSES = ['True', 'False', 'Unknown', 'true', ''];
const REASONS = ['ProgressDeadlineExceeded', 'NewReplicaSetAvailable', 'Unschedulable', 'Installing', 'UpgradeSucceeded', 'RetriesExceeded', ''];
const PHASES = ['Running', 'Pending', 'Succeeded', 'Failed', 'Bound', 'Lost', 'Healthy', ''];

/** A value of any JSON type: what a field holds when it is not what its reader expects. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -3, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e22, max: 1e22 }),
  fc.string({ maxLength: 4 }),
  fc.constant([]),
  fc.constant({}),
);

/** Mostly a small whole number, rarely anything. */
const count = fc.oneof({ weight: 30, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: anyJson });
const text = (choices: string[]) => fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...choices) }, { weight: 1, arbitrary: anyJson });
const timestamp = fc.oneof({ weight: 10, arbitrary: fc.constantFrom('', '2020-01-01T00:00:00Z', '2999-01-01T00:00:00Z', 'yesterday') }, { weight: 1, arbitrary: anyJson });
/** Absent most of the time (JSON leaves out undefined). */

const condition = fc.oneof(
  { weight: 40, arbitrary: fc.record({ type: text(CONDITION_TYPES), status: text(CONDITION_STATUSES), reason: text(REASONS), message: fc.oneof({ weight: 30, arbitrary: fc.string({ maxLength: 8 }) }, { weight: 1, arbitrary: anyJson }) }, { requiredKeys: ['type'] }) },
  { weight: 1, arbitrary: anyJson },
);

const containerStatus = fc.record(
  {
    name: fc.constantFrom('web', 'sidecar'),
    state: fc.record({ waiting: fc.record({ reason: fc.constantFrom('CrashLoopBackOff', 'ImagePullBackOff') }, { requiredKeys: [] }) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const status = fc.record(
  {
    observedGeneration: count,
    conditions: fc.oneof({ weight: 30, arbitrary: fc.array(condition, { maxLength: 4 }) }, { weight: 1, arbitrary: anyJson }),
    replicas: count,
    readyReplicas: count,
    updatedReplicas: count,
    availableReplicas: count,
    currentReplicas: count,
    fullyLabeledReplicas: count,
    currentRevision: text(['r1', 'r2']),
    updateRevision: text(['r1', 'r2']),
    desiredNumberScheduled: count,
    currentNumberScheduled: count,
    updatedNumberScheduled: count,
    numberAvailable: count,
    numberReady: count,
    phase: text(PHASES),
    succeeded: count,
    active: count,
    failed: count,
    startTime: timestamp,
    containerStatuses: fc.oneof({ weight: 4, arbitrary: fc.array(containerStatus, { maxLength: 2 }) }, { weight: 1, arbitrary: fc.constantFrom(null, 'x', 3) }),
  },
  { requiredKeys: [] },
);

const spec = fc.record(
  {
    replicas: count,
    progressDeadlineSeconds: fc.oneof(count, fc.constant(2_147_483_647)),
    updateStrategy: fc.oneof(
      fc.record({ type: text(['OnDelete', 'RollingUpdate']), rollingUpdate: fc.record({ partition: count }, { requiredKeys: [] }) }, { requiredKeys: [] }),
      anyJson,
    ),
    parallelism: count,
    completions: count,
    type: text(['ClusterIP', 'LoadBalancer']),
    clusterIP: text(['', '10.0.0.1']),
  },
  { requiredKeys: [] },
);

const metadata = fc.record(
  {
    name: fc.constantFrom('a', 'b'),
    namespace: fc.constantFrom('shop', 'qa'),
    generation: count,
    deletionTimestamp: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: timestamp }),
    creationTimestamp: timestamp,
  },
  { requiredKeys: ['name'] },
);

const rawObject = fc.record(
  {
    type: fc.oneof(
      { weight: 20, arbitrary: fc.constantFrom(...TYPES) },
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...API_VERSIONS), fc.constantFrom(...KINDS)) },
      { weight: 1, arbitrary: fc.tuple(anyJson, anyJson) },
    ),
    metadata,
    spec,
    status: fc.oneof({ weight: 30, arbitrary: status }, { weight: 1, arbitrary: anyJson }),
  },
  { requiredKeys: ['type', 'metadata'] },
);

/** Most objects have been observed at their generation, as controllers leave them between changes. */
export const kstatusObject: fc.Arbitrary<object> = fc.tuple(rawObject, fc.nat(3)).map(([{ type: [apiVersion, kind], ...object }, n]) => {
  const status = object.status as Record<string, unknown> | null;
  if (n > 0 && typeof status === 'object' && status !== null && !Array.isArray(status) && object.metadata.generation !== undefined) {
    status.observedGeneration = object.metadata.generation;
  }
  return { apiVersion, kind, ...object };
});

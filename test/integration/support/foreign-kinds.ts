// Kinds of other projects on the test cluster, for spec.resources (SPEC §2.3): CustomResourceDefinitions with the
// real group, version, kind and plural of Flux's HelmRelease, Argo CD's Application, Argo Rollouts' Rollout and
// Knative's Service (their schemas reduced to "anything", with the status subresource), objects of those kinds
// whose status a test sets as their controller would, and read access granted the way installs grant it: a
// ClusterRole labelled for aggregation into deploy/rbac's hestia-operator-watched-resources.
import { KubernetesObjectApi, loadYaml, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { LABEL_AGGREGATE } from '../../../src/api/runner.ts';
import { operatorKubeConfig } from './identity.ts';
import { apiext, custom, kc, waitFor } from './kube.ts';

export interface ForeignKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

export const HELM_RELEASE: ForeignKind = { group: 'helm.toolkit.fluxcd.io', version: 'v2', kind: 'HelmRelease', plural: 'helmreleases' };
export const ARGO_APPLICATION: ForeignKind = { group: 'argoproj.io', version: 'v1alpha1', kind: 'Application', plural: 'applications' };
export const ARGO_ROLLOUT: ForeignKind = { group: 'argoproj.io', version: 'v1alpha1', kind: 'Rollout', plural: 'rollouts' };
export const KNATIVE_SERVICE: ForeignKind = { group: 'serving.knative.dev', version: 'v1', kind: 'Service', plural: 'services' };

const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
const objects = kc.makeApiClient(KubernetesObjectApi);
export const apiVersionOf = (k: ForeignKind) => `${k.group}/${k.version}`;
const crdName = (k: ForeignKind) => `${k.plural}.${k.group}`;

// Written as YAML and read with loadYaml, which maps x-kubernetes-preserve-unknown-fields to the typed client.
const crdOf = (k: ForeignKind) => loadYaml<V1CustomResourceDefinition>(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: ${crdName(k)} }
spec:
  group: ${k.group}
  scope: Namespaced
  names: { plural: ${k.plural}, singular: ${k.kind.toLowerCase()}, kind: ${k.kind}, listKind: ${k.kind}List }
  versions:
    - name: ${k.version}
      served: true
      storage: true
      subresources: { status: {} }
      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
`);

/** Installs the kind's CRD and waits until it is Established. */
export async function installKind(k: ForeignKind): Promise<void> {
  await apiext.createCustomResourceDefinition({ body: crdOf(k) }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  await waitFor(`the ${k.kind} CRD to be established`, async () =>
    (await apiext.readCustomResourceDefinition({ name: crdName(k) })).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
}

export async function uninstallKind(k: ForeignKind): Promise<void> {
  await apiext.deleteCustomResourceDefinition({ name: crdName(k) }).catch(() => undefined);
}

/**
 * Lets the operator read the kind, as an install would: a ClusterRole labelled for aggregation. Resolves once the
 * aggregation controller has copied its rule into hestia-operator-watched-resources.
 */
export async function grantRead(k: ForeignKind): Promise<void> {
  await operatorKubeConfig(); // deploy/rbac, with the aggregated ClusterRole, is in place
  const name = `hestia-test-reads-${k.plural}-${k.group.replaceAll('.', '-')}`;
  await rbac.createClusterRole({
    body: { metadata: { name, labels: { [LABEL_AGGREGATE]: 'true' } }, rules: [{ apiGroups: [k.group], resources: [k.plural], verbs: ['get', 'list', 'watch'] }] },
  }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  await waitFor(`read access to ${k.plural}.${k.group} aggregated into hestia-operator-watched-resources`, async () =>
    (await rbac.readClusterRole({ name: 'hestia-operator-watched-resources' })).rules?.some((r) => r.apiGroups?.includes(k.group) && r.resources?.includes(k.plural)));
}

export async function revokeRead(k: ForeignKind): Promise<void> {
  await rbac.deleteClusterRole({ name: `hestia-test-reads-${k.plural}-${k.group.replaceAll('.', '-')}` }).catch(() => undefined);
}

export async function createObject(k: ForeignKind, namespace: string, name: string, labels: Record<string, string>, spec: object = {}): Promise<void> {
  await objects.create({ apiVersion: apiVersionOf(k), kind: k.kind, metadata: { name, namespace, labels }, spec } as never);
}

/** Replaces the object's status, as its controller would (status subresource). */
export async function setStatus(k: ForeignKind, namespace: string, name: string, status: object): Promise<void> {
  await custom.patchNamespacedCustomObjectStatus(
    { group: k.group, version: k.version, namespace, plural: k.plural, name, body: [{ op: 'add', path: '/status', value: status }] },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
}

/** Changes the object's spec (a new metadata.generation), as a user or a GitOps tool would. */
export async function patchSpec(k: ForeignKind, namespace: string, name: string, spec: object): Promise<number> {
  const patched = (await custom.patchNamespacedCustomObject(
    { group: k.group, version: k.version, namespace, plural: k.plural, name, body: { spec } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as { metadata: { generation: number } };
  return patched.metadata.generation;
}

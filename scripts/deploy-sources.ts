// Reads the manifests of deploy/ — the one place Hestia's install is written down — for the generators
// that package it in other forms (the OLM bundle, scripts/olm-bundle.ts), so those never drift from it.
//
// Each kustomization's `resources` are followed (files and nested kustomizations); its `namespace` and
// `images` are not applied: the packagers set their own image and OLM chooses the namespace. That the
// kustomizations themselves render and apply is shown by `kubectl apply -k deploy/default` in
// test/integration/service-account.test.ts.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  KubernetesObject,
  V1ClusterRole,
  V1CustomResourceDefinition,
  V1Deployment,
  V1Role,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { API_VERSION, type Runner } from '../src/api/runner.ts';
import type { Destination, Notification } from '../src/notify/api.ts';

export const REPO_DIR = fileURLToPath(new URL('../', import.meta.url));

/** An object of a kind Hestia defines, as a user writes it. */
export type Sample = Runner | Destination | Notification;

export interface DeploySources {
  /** Hestia's CRDs (deploy/crd), in its order: Runner, Destination, Notification. */
  crds: V1CustomResourceDefinition[];
  serviceAccount: V1ServiceAccount;
  /** Everything the operator does across the cluster (deploy/rbac/role.yaml). */
  clusterRole: V1ClusterRole;
  /** Read access to spec.resources' kinds, aggregated from labelled ClusterRoles (deploy/rbac/watched_resources_role.yaml). */
  watchedResourcesRole: V1ClusterRole;
  /** Leader election, in the operator's own namespace. */
  leaderElectionRole: V1Role;
  deployment: V1Deployment;
  /** The metrics Service of deploy/prometheus. */
  metricsService: V1Service;
  /** The objects of deploy/samples of Hestia's own kinds (not the workloads and Secrets beside them), in the kustomization's order. */
  samples: Sample[];
}

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images']);

/** Every object a kustomization directory lists, in order, following nested kustomizations. */
export function kustomizationObjects(dir: string): KubernetesObject[] {
  const file = join(dir, 'kustomization.yaml');
  const kustomization = loadAll(readFileSync(file, 'utf8'))[0] as Record<string, unknown>;
  const unknown = Object.keys(kustomization).filter((k) => !KUSTOMIZATION_FIELDS.has(k));
  // A transformer this reader does not apply would make the packages differ from what kustomize renders.
  if (unknown.length > 0) throw new Error(`${file}: ${unknown.join(', ')} not supported by scripts/deploy-sources.ts`);
  const resources = (kustomization.resources ?? []) as string[];
  return resources.flatMap((resource) => {
    const path = join(dir, resource);
    if (statSync(path).isDirectory()) return kustomizationObjects(path);
    return (loadAll(readFileSync(path, 'utf8')) as (KubernetesObject | null)[]).filter((o): o is KubernetesObject => o !== null);
  });
}

function only<T extends KubernetesObject>(objects: KubernetesObject[], kind: string, where: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1) throw new Error(`${where}: expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}

export function readDeploySources(repoDir: string = REPO_DIR): DeploySources {
  const deploy = (name: string) => join(repoDir, 'deploy', name);
  const rbac = kustomizationObjects(deploy('rbac'));
  const manager = kustomizationObjects(deploy('manager'));
  const deployment = only<V1Deployment>(manager, 'Deployment', 'deploy/manager');
  const serviceAccount = only<V1ServiceAccount>(rbac, 'ServiceAccount', 'deploy/rbac');
  if (deployment.spec?.template.spec?.serviceAccountName !== serviceAccount.metadata?.name) {
    throw new Error('deploy/manager: the Deployment does not run as the ServiceAccount of deploy/rbac');
  }
  const crds = kustomizationObjects(deploy('crd')).filter((o): o is V1CustomResourceDefinition => o.kind === 'CustomResourceDefinition');
  if (crds.length === 0) throw new Error('deploy/crd: expected the CustomResourceDefinitions, found none');
  const ownKinds = new Set(crds.map((c) => c.spec.names.kind));
  return {
    crds,
    serviceAccount,
    clusterRole: only(rbac, 'ClusterRole', 'deploy/rbac', 'hestia-operator'),
    watchedResourcesRole: only(rbac, 'ClusterRole', 'deploy/rbac', 'hestia-operator-watched-resources'),
    leaderElectionRole: only(rbac, 'Role', 'deploy/rbac'),
    deployment,
    metricsService: only(kustomizationObjects(deploy('prometheus')), 'Service', 'deploy/prometheus'),
    samples: kustomizationObjects(deploy('samples')).filter((o): o is Sample => o.apiVersion === API_VERSION && ownKinds.has(o.kind!)),
  };
}

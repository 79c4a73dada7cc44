// The operator under test runs as its own ServiceAccount with the ClusterRole shipped in
// deploy/rbac: the tests then check the RBAC we ship, and the API server's audit log tells
// the operator's requests from the test's own.
import { readFileSync } from 'node:fs';
import { KubeConfig, KubernetesObjectApi, loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { KubeClient } from '../../../src/k8s/client.ts';
import { connectionOf } from '../../../src/k8s/kubeconfig.ts';
import { core, kc } from './kube.ts';
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT } from './operator-user.ts';

export { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, OPERATOR_USER } from './operator-user.ts';

const RBAC_FILES = ['service_account.yaml', 'role.yaml', 'role_binding.yaml', 'watched_resources_role.yaml', 'watched_resources_role_binding.yaml', 'leader_election_role.yaml', 'leader_election_role_binding.yaml'];

async function applyOnce(objects: KubernetesObject[]): Promise<void> {
  const api = kc.makeApiClient(KubernetesObjectApi);
  for (const object of objects) {
    await api.create(object).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
  }
}

let cached: KubeConfig | undefined;

/** The operator's own client, authenticated as its ServiceAccount. */
export async function operatorClient(): Promise<KubeClient> {
  return new KubeClient(await connectionOf(await operatorKubeConfig()));
}

/** A KubeConfig that authenticates as the operator's ServiceAccount (created on first use). */
export async function operatorKubeConfig(): Promise<KubeConfig> {
  if (cached) return cached;
  await core.createNamespace({ body: { metadata: { name: OPERATOR_NAMESPACE } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  const objects = RBAC_FILES.flatMap((f) => loadAllYaml(readFileSync(new URL(`../../../deploy/rbac/${f}`, import.meta.url), 'utf8')) as KubernetesObject[]);
  await applyOnce(objects);
  const token = await core.createNamespacedServiceAccountToken({
    namespace: OPERATOR_NAMESPACE,
    name: OPERATOR_SERVICE_ACCOUNT,
    body: { spec: { audiences: [], expirationSeconds: 24 * 3600 } },
  });
  const cluster = kc.getCurrentCluster()!;
  const operatorKc = new KubeConfig();
  operatorKc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'hestia-operator', token: token.status!.token }],
    contexts: [{ name: 'hestia-operator', cluster: cluster.name, user: 'hestia-operator' }],
    currentContext: 'hestia-operator',
  });
  cached = operatorKc;
  return operatorKc;
}

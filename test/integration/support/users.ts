// People with exactly the rights a test gives them: a KubeConfig that impersonates a user name (the test's own
// admin credentials allow impersonation), and RBAC Roles bound to that name in one namespace.
import { KubeConfig, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { kc } from './kube.ts';

const rbac = kc.makeApiClient(RbacAuthorizationV1Api);

/** The test cluster's connection, acting as `user` (no groups besides system:authenticated). */
export function kubeConfigAs(user: string): KubeConfig {
  const cluster = kc.getCurrentCluster()!;
  const admin = kc.getCurrentUser()!;
  const as = new KubeConfig();
  as.loadFromOptions({
    clusters: [cluster],
    users: [{ ...admin, name: `as-${user}`, impersonateUser: user }],
    contexts: [{ name: `as-${user}`, cluster: cluster.name, user: `as-${user}` }],
    currentContext: `as-${user}`,
  });
  return as;
}

/** Gives `user` the `rules` in `namespace` (a Role and a RoleBinding named after the user and `name`). */
export async function grant(namespace: string, user: string, name: string, rules: V1PolicyRule[]): Promise<void> {
  const roleName = `${name}-${user}`;
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: roleName }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: roleName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  });
}

export const RUNNER_WRITER: V1PolicyRule[] = [
  { apiGroups: ['e2e.stakater.com'], resources: ['runners'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
];
export const JOB_CREATOR: V1PolicyRule[] = [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] }];

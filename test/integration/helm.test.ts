// The Helm chart, with helm built from its Go module (test/tools/helm): `helm lint`, and what `helm template`
// renders — with the default values, and namespace-scoped with metrics and a ServiceMonitor — accepted by the
// API server (`kubectl apply --dry-run=server`), with the RBAC and Deployment of deploy/. The ServiceMonitor
// CRD is the Prometheus Operator's own, read from its Go module (test/tools/prometheus-operator-crds).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { V1ClusterRole, V1Deployment, V1PolicyRule, V1Role } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeploySources, REPO_DIR } from '../../scripts/deploy-sources.ts';
import { moduleDir, toolPath } from '../support/tools.ts';
import { operatorKubeConfig } from './support/identity.ts';
import { createNamespace, deleteNamespace, waitFor } from './support/kube.ts';

const kubectl = process.env.HESTIA_KUBECTL ?? 'kubectl';
const chart = join(REPO_DIR, 'charts/hestia');
const deploy = readDeploySources();
const namespaces: string[] = [];
let helm: string;

interface Rendered {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: any;
}

function run(command: string, args: string[], input = ''): { status: number | null; out: string; err: string } {
  const result = spawnSync(command, args, { input, encoding: 'utf8', cwd: REPO_DIR, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

function template(namespace: string, ...args: string[]): { text: string; objects: Rendered[] } {
  const result = run(helm, ['template', 'hestia', chart, '--namespace', namespace, '--include-crds', ...args]);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.err}`);
  return { text: result.out, objects: (loadAll(result.out) as (Rendered | null)[]).filter((o): o is Rendered => o !== null) };
}

/** `kubectl apply --dry-run=server`: the API server validates every object (schemas, RBAC, admission). */
function serverDryRun(manifests: string, ...args: string[]): string[] {
  const result = run(kubectl, ['apply', '--dry-run=server', ...args], manifests);
  if (result.status !== 0) throw new Error(`kubectl apply --dry-run=server failed: ${result.err}`);
  return result.out.trim().split('\n');
}

const byKind = (objects: Rendered[], kind: string) => objects.filter((o) => o.kind === kind);
const sortedRules = (rules: V1PolicyRule[]) => rules.map((r) => JSON.stringify(r)).sort();

beforeAll(async () => {
  // A cold build of helm takes minutes (test/tools/README.md); later runs find it cached.
  helm = toolPath('helm');
}, 30 * 60_000);

afterAll(async () => {
  for (const ns of namespaces) await deleteNamespace(ns);
});

async function namespace(prefix: string): Promise<string> {
  const ns = await createNamespace(prefix);
  namespaces.push(ns);
  return ns;
}

async function installServiceMonitorCrd(): Promise<void> {
  const dir = moduleDir('prometheus-operator-crds', 'github.com/prometheus-operator/prometheus-operator');
  const crd = join(dir, 'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml');
  const applied = run(kubectl, ['apply', '--server-side', '-f', crd]);
  if (applied.status !== 0) throw new Error(`installing the ServiceMonitor CRD failed: ${applied.err}`);
  await waitFor('the ServiceMonitor CRD to be established', () => run(kubectl, ['wait', '--for=condition=Established', '--timeout=5s', 'crd/servicemonitors.monitoring.coreos.com']).status === 0);
}

describe('the Helm chart', () => {
  it('passes helm lint --strict, with the default values and the namespace-scoped ones', () => {
    for (const values of [[], ['-f', join(chart, 'ci/namespaced-values.yaml')]]) {
      const lint = run(helm, ['lint', '--strict', chart, ...values]);
      expect(lint.status, lint.out + lint.err).toBe(0);
      expect(lint.out).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('renders, with the default values, the RBAC and Deployment of deploy/, and the API server accepts them', async () => {
    const ns = await namespace('helm-default');
    const { text, objects } = template(ns);
    expect(objects.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition', 'Deployment', 'Role', 'RoleBinding', 'ServiceAccount']);
    expect(byKind(objects, 'CustomResourceDefinition').map((o) => o.metadata.name).sort()).toEqual(['destinations.e2e.stakater.com', 'notifications.e2e.stakater.com', 'runners.e2e.stakater.com']);
    const clusterRole = (name: string) => byKind(objects, 'ClusterRole').find((o) => o.metadata.name === name)!;
    expect(sortedRules(clusterRole('hestia').rules)).toEqual(sortedRules((deploy.clusterRole as V1ClusterRole).rules!));
    // The same aggregation as deploy/rbac: installs extend what the operator may read with labelled ClusterRoles.
    expect(clusterRole('hestia-watched-resources').aggregationRule).toEqual(deploy.watchedResourcesRole.aggregationRule);
    expect(byKind(objects, 'ClusterRoleBinding').find((b) => b.metadata.name === 'hestia-watched-resources')!.roleRef.name).toBe('hestia-watched-resources');
    expect(byKind(objects, 'Role')[0]!.rules).toEqual((deploy.leaderElectionRole as V1Role).rules);

    const [deployment] = byKind(objects, 'Deployment') as unknown as V1Deployment[];
    const pod = deployment!.spec!.template.spec!;
    const shipped = deploy.deployment.spec!.template.spec!;
    const { image: _image, env, ...container } = pod.containers[0]!;
    const { image: _shippedImage, env: shippedEnv, ...shippedContainer } = shipped.containers[0]!;
    expect(container).toEqual(shippedContainer);
    expect(pod.securityContext).toEqual(shipped.securityContext);
    expect(pod.volumes).toEqual(shipped.volumes);
    expect(env).toEqual(expect.arrayContaining(shippedEnv!));
    expect(env!.find((e) => e.name === 'HESTIA_NAMESPACES')).toBeUndefined();

    const applied = serverDryRun(text, '-f', '-');
    expect(applied).toHaveLength(objects.length);
    for (const line of applied) expect(line).toMatch(/\((server dry run)\)$/);
  });

  it('renders namespace-scoped mode with metrics and a ServiceMonitor: Roles in each namespace, no ClusterRole', async () => {
    await installServiceMonitorCrd();
    const ns = await namespace('helm-scoped');
    const watched = [await namespace('team-a'), await namespace('team-b')];
    const { text, objects } = template(ns, '-f', join(chart, 'ci/namespaced-values.yaml'), '--set', `namespaces={${watched.join(',')}}`);

    expect(byKind(objects, 'ClusterRole')).toEqual([]);
    expect(byKind(objects, 'ClusterRoleBinding')).toEqual([]);
    const [deployment] = byKind(objects, 'Deployment');
    expect(deployment!.spec.template.spec.containers[0].env).toContainEqual({ name: 'HESTIA_NAMESPACES', value: watched.join(',') });

    const clusterScoped = new Set(['namespaces', 'customresourcedefinitions']);
    const expectedRules = [
      ...deploy.clusterRole.rules!.filter((r) => !r.resources!.some((x) => clusterScoped.has(x))),
      { apiGroups: ['helm.toolkit.fluxcd.io'], resources: ['helmreleases'], verbs: ['get', 'list', 'watch'] },
    ];
    for (const watchedNs of watched) {
      const [role] = byKind(objects, 'Role').filter((r) => r.metadata.namespace === watchedNs);
      expect(sortedRules(role!.rules)).toEqual(sortedRules(expectedRules));
      const [binding] = byKind(objects, 'RoleBinding').filter((r) => r.metadata.namespace === watchedNs);
      expect(binding!.subjects).toEqual([{ kind: 'ServiceAccount', name: 'hestia', namespace: ns }]);
    }

    const [service] = byKind(objects, 'Service');
    const [monitor] = byKind(objects, 'ServiceMonitor');
    expect(deployment!.spec.template.metadata.labels).toMatchObject(service!.spec.selector);
    expect(service!.metadata.labels).toMatchObject(monitor!.spec.selector.matchLabels);
    expect(monitor!.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(monitor!.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', scheme: 'http', interval: '30s' }]);

    const applied = serverDryRun(text, '-f', '-');
    expect(applied).toHaveLength(objects.length);
    expect(applied).toContainEqual(expect.stringMatching(/^servicemonitor\.monitoring\.coreos\.com\/hestia (created|configured) \(server dry run\)$/));
  });

  it('renders sharded replicas: every replica acts on its share, no leader election, the Leases Role kept', async () => {
    const ns = await namespace('helm-sharded');
    const { text, objects } = template(ns, '--set', 'replicaCount=3', '--set', 'sharding.enabled=true');
    const [deployment] = byKind(objects, 'Deployment') as unknown as V1Deployment[];
    expect(deployment!.spec!.replicas).toBe(3);
    const env = deployment!.spec!.template.spec!.containers[0]!.env!;
    expect(env).toContainEqual({ name: 'HESTIA_SHARDING', value: 'true' });
    expect(env).toContainEqual({ name: 'HESTIA_LEADER_ELECTION', value: 'false' });
    expect(env).toContainEqual({ name: 'HESTIA_LEASE_NAME', value: 'hestia' });
    expect(byKind(objects, 'Role')[0]!.rules).toEqual((deploy.leaderElectionRole as V1Role).rules);
    // Sharding without leader election is not refused: the member Leases keep replicas apart.
    expect(template(ns, '--set', 'replicaCount=3', '--set', 'sharding.enabled=true', '--set', 'leaderElection.enabled=false').objects).toHaveLength(objects.length);
    const applied = serverDryRun(text, '-f', '-');
    expect(applied).toHaveLength(objects.length);
  });

  it('refuses bad values with a message naming the value', () => {
    const refusal = (...args: string[]) => {
      const result = run(helm, ['template', 'hestia', chart, ...args]);
      expect(result.status).not.toBe(0);
      return result.err;
    };
    expect(refusal('--set', 'namespaces=team-a')).toContain("at '/namespaces': got string, want array");
    expect(refusal('--set', 'namespaces={Team_A}')).toContain("at '/namespaces/0'");
    expect(refusal('--set', 'rbac.extraWatchedResources[0].apiGroups={apps}', '--set', 'rbac.extraWatchedResources[0].resources={deployments}', '--set', 'rbac.extraWatchedResources[0].verbs={patch}'))
      .toContain("additional properties 'verbs' not allowed");
    expect(refusal('--set', 'metrics.serviceMonitor.enabled=true')).toContain('metrics.serviceMonitor.enabled needs metrics.enabled');
    expect(refusal('--set', 'logLevel=loud')).toContain("at '/logLevel'");
    expect(refusal('--set', 'replicaCount=2', '--set', 'leaderElection.enabled=false')).toContain('replicaCount above 1 needs leaderElection.enabled: true or sharding.enabled: true');
    expect(refusal('--set', 'sharding.enabled=yes')).toContain("at '/sharding/enabled'");
  });
});

describe('deploy/sharded', () => {
  it('installs deploy/default with three replicas that share the Runners, and the API server accepts it', async () => {
    await operatorKubeConfig(); // the namespace hestia-system exists: a dry run creates no namespace for what follows it
    const built = run(kubectl, ['kustomize', join(REPO_DIR, 'deploy/sharded')]);
    expect(built.status, built.err).toBe(0);
    const objects = (loadAll(built.out) as (Rendered | null)[]).filter((o): o is Rendered => o !== null);
    const [deployment] = byKind(objects, 'Deployment') as unknown as V1Deployment[];
    expect(deployment!.spec!.replicas).toBe(3);
    const env = deployment!.spec!.template.spec!.containers[0]!.env!;
    expect(env).toContainEqual({ name: 'HESTIA_SHARDING', value: 'true' });
    expect(env.filter((e) => e.name === 'HESTIA_LEADER_ELECTION')).toEqual([{ name: 'HESTIA_LEADER_ELECTION', value: 'false' }]);
    expect(objects.map((o) => o.kind).sort()).toEqual((loadAll(run(kubectl, ['kustomize', join(REPO_DIR, 'deploy/default')]).out) as (Rendered | null)[]).filter((o): o is Rendered => o !== null).map((o) => o.kind).sort());
    expect(serverDryRun(built.out, '-f', '-')).toHaveLength(objects.length);
  });
});

describe('deploy/prometheus', () => {
  it('is accepted by the API server with the Prometheus Operator’s ServiceMonitor CRD', async () => {
    await installServiceMonitorCrd();
    const ns = run(kubectl, ['create', 'namespace', 'hestia-system']);
    if (ns.status !== 0 && !ns.err.includes('AlreadyExists')) throw new Error(ns.err);
    const applied = serverDryRun('', '-k', 'deploy/prometheus');
    expect(applied).toEqual([
      expect.stringMatching(/^service\/hestia-operator-metrics (created|configured|unchanged) \(server dry run\)$/),
      expect.stringMatching(/^servicemonitor\.monitoring\.coreos\.com\/hestia-operator (created|configured|unchanged) \(server dry run\)$/),
    ]);
  });
});

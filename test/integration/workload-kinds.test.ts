// SPEC §2.1, §3.2, §6, §8.4: every workload kind, in any namespace, and DeploymentConfigs only
// where their API exists — picked up when it appears on a running operator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadYaml, PatchStrategy, setHeaderOptions, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import type { Operator } from '../../src/operator/operator.ts';
import {
  apiext, apps, condition, createDeployment, createNamespace, createRunner, custom, deleteNamespace, ENABLE, installCrd,
  jobsOf, runnerManifest, waitFor, waitForRunner,
} from './support/kube.ts';
import { startOperator } from './support/operator.ts';

let operator: Operator;
const namespaces: string[] = [];
const DC_CRD = 'deploymentconfigs.apps.openshift.io';

const ns = async (prefix: string) => {
  const name = await createNamespace(prefix);
  namespaces.push(name);
  return name;
};

beforeAll(async () => {
  await installCrd();
  await apiext.deleteCustomResourceDefinition({ name: DC_CRD }).catch(() => undefined);
  await waitFor('no DeploymentConfig API', async () => {
    try {
      await apiext.readCustomResourceDefinition({ name: DC_CRD });
      return false;
    } catch {
      return true;
    }
  });
  operator = await startOperator();
});

afterAll(async () => {
  await operator?.stop();
  for (const n of namespaces) await deleteNamespace(n);
  await apiext.deleteCustomResourceDefinition({ name: DC_CRD }).catch(() => undefined);
});

const podTemplate = (app: string) => ({
  metadata: { labels: { pod: app } },
  spec: { containers: [{ name: 'app', image: 'busybox' }] },
});

async function createStatefulSet(namespace: string, name: string, labels: Record<string, string>) {
  await apps.createNamespacedStatefulSet({
    namespace,
    body: { metadata: { name, labels }, spec: { replicas: 2, serviceName: name, selector: { matchLabels: { pod: name } }, template: podTemplate(name) } },
  });
}

async function createDaemonSet(namespace: string, name: string, labels: Record<string, string>) {
  await apps.createNamespacedDaemonSet({
    namespace,
    body: { metadata: { name, labels }, spec: { selector: { matchLabels: { pod: name } }, template: podTemplate(name) } },
  });
}

// As OpenShift serves it, reduced to what the operator reads. Written as YAML and read with
// loadYaml, which maps schema keys such as x-kubernetes-preserve-unknown-fields to the typed client.
const deploymentConfigCrd = loadYaml<V1CustomResourceDefinition>(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: ${DC_CRD} }
spec:
  group: apps.openshift.io
  scope: Namespaced
  names: { plural: deploymentconfigs, singular: deploymentconfig, kind: DeploymentConfig, shortNames: [dc] }
  versions:
    - name: v1
      served: true
      storage: true
      subresources: { status: {} }
      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
`);

async function createDeploymentConfig(namespace: string, name: string, labels: Record<string, string>) {
  await custom.createNamespacedCustomObject({
    group: 'apps.openshift.io', version: 'v1', namespace, plural: 'deploymentconfigs',
    body: { apiVersion: 'apps.openshift.io/v1', kind: 'DeploymentConfig', metadata: { name, labels }, spec: { replicas: 2, template: podTemplate(name) } },
  });
}

/** OpenShift's controller would do this; here the test plays it. */
async function setDeploymentConfigAvailable(namespace: string, name: string, available: boolean) {
  await custom.patchNamespacedCustomObjectStatus(
    {
      group: 'apps.openshift.io', version: 'v1', namespace, plural: 'deploymentconfigs', name,
      body: [{ op: 'add', path: '/status', value: { replicas: 2, readyReplicas: available ? 2 : 1, availableReplicas: available ? 2 : 1, conditions: [{ type: 'Available', status: available ? 'True' : 'False' }] } }],
    },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
}

describe('workload kinds', () => {
  it('starts without the DeploymentConfig API and still serves Deployments', async () => {
    expect(operator.ready).toBe(true);
    const n = await ns('kinds-plain');
    await createDeployment(n, 'web', { app: 'plain-web', ...ENABLE });
    await createRunner(runnerManifest(n, 'plain', { workloadSelector: { matchLabels: { app: 'plain-web' } } }));
    await waitForRunner(n, 'plain', 'Succeeded', (r) => r.status?.state === 'Succeeded');
  });

  it('runs the SPEC §8.4 Runner over one workload of each kind, each in its own namespace', async () => {
    const [dNs, sNs, dsNs, dcNs, runnerNs] = [await ns('hestia-deployment'), await ns('hestia-statefulset'), await ns('hestia-daemonset'), await ns('hestia-dc'), await ns('hestia-runners')];
    const labels = { suite: 'all-kinds', ...ENABLE };
    await createDeployment(dNs, 'deployment-1', labels, 2);
    await createStatefulSet(sNs, 'statefulset-1', labels);
    await createDaemonSet(dsNs, 'daemonset-1', labels);
    await createRunner(runnerManifest(runnerNs, 'all-kinds', { workloadSelector: { matchLabels: { suite: 'all-kinds' } } }));
    // Without the DeploymentConfig API, the other three are enough to run.
    await waitForRunner(runnerNs, 'all-kinds', 'Succeeded over three kinds', (r) => r.status?.state === 'Succeeded' && r.status.watchedResources?.length === 3);

    // The API appears on the running operator: it starts watching DeploymentConfigs.
    await apiext.createCustomResourceDefinition({ body: deploymentConfigCrd });
    await waitFor('the DeploymentConfig CRD to be established', async () =>
      (await apiext.readCustomResourceDefinition({ name: DC_CRD })).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
    await createDeploymentConfig(dcNs, 'deploymentconfig-1', labels);
    const waiting = await waitForRunner(runnerNs, 'all-kinds', 'waiting for the DeploymentConfig', (r) => r.status?.state === 'WaitingForWorkloads', 30_000);
    expect(waiting.status?.message).toContain(`DeploymentConfig ${dcNs}/deploymentconfig-1`);

    await setDeploymentConfigAvailable(dcNs, 'deploymentconfig-1', true);
    const done = await waitForRunner(runnerNs, 'all-kinds', 'second run Succeeded', (r) => r.status?.state === 'Succeeded' && (r.status.watchedResources?.length ?? 0) === 4);
    expect(condition(done, 'ReconcileSuccess')).toMatchObject({ status: 'True', reason: 'LastReconcileCycleSucceded', message: '' });
    expect(condition(done, 'JobCompleted')).toMatchObject({ status: 'True', reason: 'Successful' });
    expect(done.status?.lastSuccessfulRunTime).toBeTruthy();
    expect(done.status?.watchedResources?.map(({ name, namespace, kind, ready }) => ({ name, namespace, kind, ready })).sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { name: 'daemonset-1', namespace: dsNs, kind: 'DaemonSet', ready: true },
      { name: 'deployment-1', namespace: dNs, kind: 'Deployment', ready: true },
      { name: 'deploymentconfig-1', namespace: dcNs, kind: 'DeploymentConfig', ready: true },
      { name: 'statefulset-1', namespace: sNs, kind: 'StatefulSet', ready: true },
    ]);
    expect(await jobsOf(runnerNs, 'all-kinds')).toHaveLength(2);
  });

  it('narrows selectors with namespaceSelector', async () => {
    const inside = await createNamespace('kinds-team', { team: 'blue' });
    const outside = await createNamespace('kinds-other', { team: 'red' });
    namespaces.push(inside, outside);
    await createDeployment(inside, 'svc', { app: 'ns-scoped', ...ENABLE });
    await createDeployment(outside, 'svc', { app: 'ns-scoped', ...ENABLE });
    await createRunner(runnerManifest(inside, 'blue-only', { workloadSelector: { matchLabels: { app: 'ns-scoped' } }, namespaceSelector: { matchLabels: { team: 'blue' } } }));
    const r = await waitForRunner(inside, 'blue-only', 'Succeeded', (x) => x.status?.state === 'Succeeded');
    expect(r.status?.watchedResources?.map((w) => w.namespace)).toEqual([inside]);
  });
});


// Test support: clients for the real control plane that test/cluster/with-cluster.sh started,
// waits on conditions (never sleeps), and fixtures for workloads and Runners.
import { readFileSync } from 'node:fs';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  ApiextensionsV1Api,
  KubeConfig,
  loadYaml,
  type V1CustomResourceDefinition,
  type V1Deployment,
  type V1Job,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type Runner, type RunnerSpec } from '../../../src/api/runner.ts';
import { DESTINATION_PLURAL, NOTIFICATION_PLURAL } from '../../../src/notify/api.ts';
import { runnerJobsSelector } from '../../../src/runner/job.ts';

export function kubeConfig(): KubeConfig {
  if (!process.env.KUBECONFIG) throw new Error('KUBECONFIG is not set: run integration tests through test/cluster/with-cluster.sh (make test-integration)');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export const kc = kubeConfig();
export const core = kc.makeApiClient(CoreV1Api);
export const apps = kc.makeApiClient(AppsV1Api);
export const batch = kc.makeApiClient(BatchV1Api);
export const custom = kc.makeApiClient(CustomObjectsApi);
export const apiext = kc.makeApiClient(ApiextensionsV1Api);

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Asserts that `probe` stays false for `forMs` (used to show that something does NOT happen). */
export async function stays(what: string, probe: () => Promise<boolean> | boolean, forMs: number): Promise<void> {
  const until = Date.now() + forMs;
  while (Date.now() < until) {
    if (await probe()) throw new Error(`unexpectedly: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Hestia's CRDs: the Runner, and the Destination and Notification that tell of its runs. */
const CRD_PATHS = [PLURAL, DESTINATION_PLURAL, NOTIFICATION_PLURAL].map((plural) => new URL(`../../../crds/${GROUP}_${plural}.yaml`, import.meta.url));

/** Installs (or updates) Hestia's CRDs, and waits until the API server serves each. */
export async function installCrd(): Promise<void> {
  await Promise.all(CRD_PATHS.map(installOneCrd));
}

async function installOneCrd(path: URL): Promise<void> {
  const crd = loadYaml<V1CustomResourceDefinition>(readFileSync(path, 'utf8'));
  const name = crd.metadata!.name!;
  try {
    const existing = await apiext.readCustomResourceDefinition({ name });
    crd.metadata!.resourceVersion = existing.metadata!.resourceVersion;
    await apiext.replaceCustomResourceDefinition({ name, body: crd });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await apiext.createCustomResourceDefinition({ body: crd });
  }
  await waitFor(`the ${crd.spec.names.kind} CRD to be established`, async () => {
    const c = await apiext.readCustomResourceDefinition({ name });
    return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True');
  });
}

let counter = 0;
export async function createNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${process.pid.toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await core.deleteNamespace({ name }).catch(() => undefined);
}

export const ENABLE = { 'runner.stakater.com/enable': 'true' };
/** kwok's chaos stage: a pod with this label ends Failed (exit code 1) instead of Succeeded. */
export const FAIL_LABEL = { 'pod-container-running-failed.stage.kwok.x-k8s.io': 'true' };

export function deploymentManifest(namespace: string, name: string, labels: Record<string, string>, replicas = 1, env = 'v1'): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'busybox', env: [{ name: 'VERSION', value: env }] }] },
      },
    },
  };
}

export async function createDeployment(namespace: string, name: string, labels: Record<string, string>, replicas = 1): Promise<V1Deployment> {
  return apps.createNamespacedDeployment({ namespace, body: deploymentManifest(namespace, name, labels, replicas) });
}

export async function deploymentAvailable(namespace: string, name: string): Promise<boolean> {
  const d = await apps.readNamespacedDeployment({ namespace, name });
  const want = d.spec?.replicas ?? 1;
  return (
    (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (d.status?.updatedReplicas ?? 0) === want &&
    (d.status?.availableReplicas ?? 0) === want &&
    (d.status?.replicas ?? 0) === want
  );
}

/** Changes the pod template (a rollout) by setting an env var. */
export async function rollOut(namespace: string, name: string, version: string): Promise<void> {
  const d = await apps.readNamespacedDeployment({ namespace, name });
  d.spec!.template.spec!.containers[0]!.env = [{ name: 'VERSION', value: version }];
  await apps.replaceNamespacedDeployment({ namespace, name, body: d });
}

export function runnerManifest(namespace: string, name: string, spec: Partial<RunnerSpec>, labels: Record<string, string> = {}, fail = false): Runner {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Runner',
    metadata: { name, namespace, labels },
    spec: {
      template: {
        ...(fail ? { metadata: { labels: FAIL_LABEL } } : {}),
        spec: { containers: [{ name: 'check', image: 'busybox', command: ['sh', '-c', 'echo ok'] }], restartPolicy: 'Never' },
      },
      // A failing check fails at once: no retry pod, and no 10 s back-off of the Job controller.
      ...(fail ? { backoffLimit: 0 } : {}),
      ...spec,
    },
  };
}

export async function createRunner(runner: Runner): Promise<Runner> {
  return (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: runner.metadata.namespace!, plural: PLURAL, body: runner })) as Runner;
}

export async function getRunner(namespace: string, name: string): Promise<Runner> {
  return (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as Runner;
}

export async function patchRunner(namespace: string, name: string, patch: object): Promise<void> {
  const { setHeaderOptions, PatchStrategy } = await import('@kubernetes/client-node');
  await custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: patch },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

export async function deleteRunner(namespace: string, name: string): Promise<void> {
  await custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name }).catch(() => undefined);
}

export async function jobsOf(namespace: string, runnerName: string): Promise<V1Job[]> {
  const list = await batch.listNamespacedJob({ namespace, labelSelector: runnerJobsSelector({ namespace, name: runnerName }) });
  return list.items;
}

export const condition = (r: Runner, type: string) => r.status?.conditions?.find((c) => c.type === type);

/** Waits until the Runner's status satisfies `check`; returns that Runner. */
export async function waitForRunner(namespace: string, name: string, what: string, check: (r: Runner) => boolean, timeoutMs = 60_000): Promise<Runner> {
  let last: Runner | undefined;
  try {
    return await waitFor(`Runner ${namespace}/${name}: ${what}`, async () => {
      last = await getRunner(namespace, name);
      return check(last) ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    // Say what the Runner looked like instead: the state and message usually tell why.
    const { snapshot: _snapshot, ...status } = last?.status ?? {};
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(status)}`);
  }
}

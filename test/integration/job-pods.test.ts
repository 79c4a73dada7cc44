// What a Runner's Job gets (SECURITY.md, SPEC §6): it is always created in the Runner's namespace, and its pod
// template is the Runner's template plus only the documented additions — three labels, and restartPolicy Never
// when the template names none. No service account, token, volume, env or privilege comes from the operator;
// what the pod gets beyond its template comes from Kubernetes itself (the namespace's default ServiceAccount).
import type { V1Job, V1PodTemplateSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_REVISION, LABEL_RUNNER_NAME, LABEL_RUNNER_NAMESPACE } from '../../src/api/runner.ts';
import { operatorEnvironment } from './support/environment.ts';
import { batch, core, createNamespace, createRunner, deleteNamespace, jobsOf, runnerManifest, waitFor } from './support/kube.ts';

const env = operatorEnvironment('pods');
let other = '';

beforeAll(async () => {
  other = await createNamespace('pods-other');
});
afterAll(async () => {
  if (other) await deleteNamespace(other);
});

const onlyJob = (name: string) =>
  waitFor(`the Job of Runner ${name}`, async () => {
    const jobs = await jobsOf(env.ns, name);
    return jobs.length === 1 ? jobs[0] : undefined;
  });

/** What Kubernetes makes of a Job with exactly this pod template (server-side defaults; nothing stored). */
async function asKubernetesStoresIt(template: V1PodTemplateSpec): Promise<V1PodTemplateSpec> {
  const job = await batch.createNamespacedJob({
    namespace: env.ns,
    dryRun: 'All',
    body: { metadata: { generateName: 'reference-' }, spec: { template } },
  });
  return job.spec!.template;
}

/** Labels the Job API puts on every Job's pod template (selector of the Job's pods), not the operator's. */
const JOB_API_LABELS = ['batch.kubernetes.io/controller-uid', 'batch.kubernetes.io/job-name', 'controller-uid', 'job-name'];
const withoutJobApiLabels = (labels: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(labels).filter(([k]) => !JOB_API_LABELS.includes(k)));

const operatorLabels = (job: V1Job, runner: string) => ({
  [LABEL_RUNNER_NAME]: runner,
  [LABEL_RUNNER_NAMESPACE]: env.ns,
  [LABEL_REVISION]: job.metadata!.labels![LABEL_REVISION]!,
});

describe("a Runner's Job", () => {
  it("is created in the Runner's namespace even when the template names another", async () => {
    const runner = runnerManifest(env.ns, 'elsewhere', {});
    runner.spec.template.metadata = { namespace: other, labels: { team: 'qa' } };
    await createRunner(runner);
    const job = await onlyJob('elsewhere');
    expect(job.metadata?.namespace).toBe(env.ns);
    expect(job.spec?.template.metadata?.namespace).toBeUndefined();
    expect((await batch.listNamespacedJob({ namespace: other })).items).toEqual([]);
    const everywhere = await batch.listJobForAllNamespaces({ labelSelector: `${LABEL_RUNNER_NAME}=elsewhere` });
    expect(everywhere.items.map((j) => j.metadata?.namespace)).toEqual([env.ns]);
  });

  it.each([
    ['omits restartPolicy (the operator adds Never)', undefined],
    ['sets restartPolicy OnFailure (kept)', 'OnFailure'],
  ])('has the pod template of its Runner plus only the documented additions, when the template %s', async (_, restartPolicy) => {
    const name = `pod-${restartPolicy ?? 'default'}`.toLowerCase();
    const template: V1PodTemplateSpec = {
      metadata: { labels: { team: 'qa', suite: 'smoke' }, annotations: { 'example.com/owner': 'qa-team' } },
      spec: {
        containers: [
          { name: 'check', image: 'registry.example.com/qa/smoke:1.4', args: ['--target', 'http://cart'], env: [{ name: 'TARGET', value: 'cart' }] },
          { name: 'sidecar', image: 'busybox', resources: { limits: { cpu: '100m', memory: '64Mi' } } },
        ],
        ...(restartPolicy ? { restartPolicy } : {}),
        terminationGracePeriodSeconds: 5,
      },
    };
    await createRunner({ ...runnerManifest(env.ns, name, {}), spec: { template } });
    const job = await onlyJob(name);
    const documented: V1PodTemplateSpec = {
      metadata: { ...template.metadata, labels: { ...template.metadata!.labels, ...operatorLabels(job, name) } },
      spec: { ...template.spec!, restartPolicy: restartPolicy ?? 'Never' },
    };
    const expected = await asKubernetesStoresIt(documented);
    const actual = job.spec!.template;
    expect(actual.spec).toEqual(expected.spec);
    expect(actual.metadata?.annotations).toEqual(template.metadata!.annotations);
    expect(withoutJobApiLabels(actual.metadata?.labels)).toEqual(documented.metadata!.labels);
    // Spelled out, since this is what the operator promises not to add:
    expect(actual.spec?.serviceAccountName).toBeUndefined();
    expect(actual.spec?.automountServiceAccountToken).toBeUndefined();
    expect(actual.spec?.volumes).toBeUndefined();
    expect(actual.spec?.securityContext).toEqual({});
    expect(actual.spec?.containers.map((c) => c.env)).toEqual([[{ name: 'TARGET', value: 'cart' }], undefined]);
    expect(actual.spec?.containers.map((c) => c.securityContext)).toEqual([undefined, undefined]);
  });
});

describe("what Kubernetes adds to a Job's pod (not the operator)", () => {
  const podOf = (job: V1Job) =>
    waitFor(`a pod of Job ${job.metadata?.name}`, async () => {
      const pods = await core.listNamespacedPod({ namespace: env.ns, labelSelector: `batch.kubernetes.io/job-name=${job.metadata!.name}` });
      return pods.items[0];
    });
  const tokenVolumes = (pod: Awaited<ReturnType<typeof podOf>>) =>
    (pod.spec?.volumes ?? []).filter((v) => v.projected?.sources?.some((s) => s.serviceAccountToken));

  it("gives the pod the namespace's default ServiceAccount and its token, as for any pod", async () => {
    await createRunner(runnerManifest(env.ns, 'sa-default', {}));
    const pod = await podOf(await onlyJob('sa-default'));
    expect(pod.spec?.serviceAccountName).toBe('default');
    expect(tokenVolumes(pod)).toHaveLength(1);
  });

  it('mounts no token when the template says automountServiceAccountToken: false', async () => {
    const runner = runnerManifest(env.ns, 'sa-none', {});
    runner.spec.template.spec!.automountServiceAccountToken = false;
    await createRunner(runner);
    const pod = await podOf(await onlyJob('sa-none'));
    expect(tokenVolumes(pod)).toEqual([]);
    expect(pod.spec?.containers.every((c) => !c.volumeMounts?.length)).toBe(true);
  });

  it('runs the pod as the ServiceAccount the template names', async () => {
    await core.createNamespacedServiceAccount({ namespace: env.ns, body: { metadata: { name: 'smoke-check' } } });
    const runner = runnerManifest(env.ns, 'sa-named', {});
    runner.spec.template.spec!.serviceAccountName = 'smoke-check';
    await createRunner(runner);
    const pod = await podOf(await onlyJob('sa-named'));
    expect(pod.spec?.serviceAccountName).toBe('smoke-check');
  });
});

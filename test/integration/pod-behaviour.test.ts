// The pod behaviours of support/pod-behaviour.ts on the real control plane, with plain Jobs (no operator):
// logs served from a file, images that cannot be pulled, evictions, pods that hang until the Job's deadline,
// Jobs that pass on their second attempt, and pods no node can take. test/cluster/README.md says how each is
// simulated.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Job, V1JobSpec, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batch, core, createNamespace, deleteNamespace, waitFor } from './support/kube.ts';
import { POD_BEHAVIOUR, servePodLogs, startFlakyAgent, type PodTemplateMetadata } from './support/pod-behaviour.ts';

let ns: string;
let dir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  ns = await createNamespace('pod-behaviour');
  dir = await mkdtemp(join(tmpdir(), 'pod-behaviour-test-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await deleteNamespace(ns);
  await rm(dir, { recursive: true, force: true });
});

interface JobOptions {
  metadata?: PodTemplateMetadata;
  job?: Partial<V1JobSpec>;
  pod?: Partial<V1PodSpec>;
}

async function createJob(name: string, { metadata = {}, job = {}, pod = {} }: JobOptions = {}): Promise<V1Job> {
  return batch.createNamespacedJob({
    namespace: ns,
    body: {
      metadata: { name, namespace: ns },
      spec: {
        backoffLimit: 0,
        ...job,
        template: {
          metadata,
          spec: { containers: [{ name: 'check', image: 'busybox', command: ['sh', '-c', 'true'] }], restartPolicy: 'Never', ...pod },
        },
      },
    },
  });
}

async function podsOf(job: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: ns, labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;
}

/** Waits for the Job's (only) pod to satisfy `check`; returns it. */
async function waitForPod(job: string, what: string, check: (p: V1Pod) => boolean, timeoutMs = 30_000): Promise<V1Pod> {
  return waitFor(`the pod of Job ${ns}/${job}: ${what}`, async () => (await podsOf(job)).find(check), timeoutMs);
}

async function waitForJob(name: string, type: 'Complete' | 'Failed', timeoutMs = 30_000): Promise<V1Job> {
  return waitFor(`Job ${ns}/${name} ${type}`, async () => {
    const job = await batch.readNamespacedJob({ namespace: ns, name });
    return job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ? job : undefined;
  }, timeoutMs);
}

interface Condition { type: string; status: string; reason?: string; lastTransitionTime?: Date }
const conditionOf = (obj: { status?: { conditions?: Condition[] } }, type: string): Condition | undefined => obj.status?.conditions?.find((c) => c.type === type);

async function logFile(text: string): Promise<string> {
  const file = join(dir, 'check.log');
  await writeFile(file, text);
  return file;
}

describe('pod logs', () => {
  const TEXT = 'starting checks\ncart: ok\ncheckout: 502 Bad Gateway\n3 passed, 1 failed\n';

  it("serves the file as a Job pod's log, honouring limitBytes and tailLines", async () => {
    cleanups.push(await servePodLogs(ns, await logFile(TEXT)));
    await createJob('logs');
    const pod = await waitForPod('logs', 'on a node', (p) => !!p.spec?.nodeName);
    const name = pod.metadata!.name!;
    expect(await core.readNamespacedPodLog({ namespace: ns, name })).toBe(TEXT);
    expect(await core.readNamespacedPodLog({ namespace: ns, name, limitBytes: 10 })).toBe(TEXT.slice(0, 10));
    expect(await core.readNamespacedPodLog({ namespace: ns, name, tailLines: 2 })).toBe('checkout: 502 Bad Gateway\n3 passed, 1 failed\n');
  });

  it('serves it for a named container of a two-container pod, and a last line without a newline as it is', async () => {
    cleanups.push(await servePodLogs(ns, await logFile('one\ntwo')));
    await createJob('two', {
      pod: { containers: [{ name: 'check', image: 'busybox' }, { name: 'sidecar', image: 'busybox' }] },
    });
    const pod = await waitForPod('two', 'on a node', (p) => !!p.spec?.nodeName);
    expect(await core.readNamespacedPodLog({ namespace: ns, name: pod.metadata!.name!, container: 'sidecar' })).toBe('one\ntwo');
    expect(await core.readNamespacedPodLog({ namespace: ns, name: pod.metadata!.name!, container: 'check', tailLines: 1 })).toBe('two');
  });

  it('returns exactly 1 MiB of a 3 MiB log when limitBytes is 1 MiB', async () => {
    const line = `${'x'.repeat(1023)}\n`;
    cleanups.push(await servePodLogs(ns, await logFile(line.repeat(3 * 1024))));
    await createJob('big');
    const pod = await waitForPod('big', 'on a node', (p) => !!p.spec?.nodeName);
    const log = await core.readNamespacedPodLog({ namespace: ns, name: pod.metadata!.name!, limitBytes: 1024 * 1024 });
    expect(Buffer.byteLength(log)).toBe(1024 * 1024);
    expect(log).toBe(line.repeat(1024));
  });
});

describe('infrastructure errors', () => {
  it('imagePullFails: the pod stays Pending in ErrImagePull then ImagePullBackOff; the Job misses its deadline; the pod is still readable', async () => {
    await createJob('pull', { metadata: POD_BEHAVIOUR.imagePullFails, job: { activeDeadlineSeconds: 3 } });
    const waitingIn = (reason: string) => (p: V1Pod) =>
      p.status?.phase === 'Pending' && p.status.containerStatuses?.[0]?.state?.waiting?.reason === reason;
    const pulling = await waitForPod('pull', 'waiting in ErrImagePull', waitingIn('ErrImagePull'));
    expect(pulling.status?.containerStatuses?.[0]?.state?.waiting?.message).toContain('failed to pull and unpack image "busybox"');
    expect(conditionOf(pulling, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    await waitForPod('pull', 'waiting in ImagePullBackOff', waitingIn('ImagePullBackOff'));

    const job = await waitForJob('pull', 'Failed');
    expect(conditionOf(job, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
    const pod = await core.readNamespacedPod({ namespace: ns, name: pulling.metadata!.name! });
    expect(pod.metadata?.deletionTimestamp).toBeDefined();
    expect(pod.status?.phase).toBe('Failed');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown' });
  });

  it('evicted: the pod is Failed, reason Evicted, with a DisruptionTarget condition; the Job fails; the pod stays', async () => {
    await createJob('evict', { metadata: POD_BEHAVIOUR.evicted });
    await waitForPod('evict', 'Running', (p) => p.status?.phase === 'Running');
    const evicted = await waitForPod('evict', 'Failed', (p) => p.status?.phase === 'Failed');
    expect(evicted.status?.reason).toBe('Evicted');
    expect(evicted.status?.message).toContain('The node was low on resource: memory.');
    expect(conditionOf(evicted, 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'TerminationByKubelet' });
    expect(evicted.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(137);

    const job = await waitForJob('evict', 'Failed');
    expect(conditionOf(job, 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded' });
    const pod = await core.readNamespacedPod({ namespace: ns, name: evicted.metadata!.name! });
    expect(pod.metadata?.deletionTimestamp).toBeUndefined();
    expect(pod.status).toMatchObject({ phase: 'Failed', reason: 'Evicted' });
  });

  it('staysRunning: the pod runs until activeDeadlineSeconds, then the Job fails DeadlineExceeded', async () => {
    await createJob('hang', { metadata: POD_BEHAVIOUR.staysRunning, job: { activeDeadlineSeconds: 3 } });
    const running = await waitForPod('hang', 'Running and Ready', (p) => p.status?.phase === 'Running' && conditionOf(p, 'Ready')?.status === 'True');

    const job = await waitForJob('hang', 'Failed');
    expect(conditionOf(job, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
    // Held Running: the Job ended by its deadline, not before (the API's times have whole seconds).
    const failedAt = new Date(conditionOf(job, 'Failed')!.lastTransitionTime!).getTime();
    expect(failedAt - new Date(job.status!.startTime!).getTime()).toBeGreaterThanOrEqual(3_000);
    expect(job.status?.succeeded ?? 0).toBe(0);
    const pod = await core.readNamespacedPod({ namespace: ns, name: running.metadata!.name! });
    expect(pod.status?.phase).toBe('Failed');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 143, reason: 'Error' });
  });

  it('a nodeSelector no node has leaves the pod unscheduled: PodScheduled False, reason Unschedulable', async () => {
    await createJob('nowhere', { pod: { nodeSelector: { 'hestia.test/none': 'none' } } });
    const pod = await waitForPod('nowhere', 'PodScheduled False', (p) => conditionOf(p, 'PodScheduled')?.status === 'False');
    expect(conditionOf(pod, 'PodScheduled')).toMatchObject({ reason: 'Unschedulable' });
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.spec?.nodeName).toBeUndefined();
  });
});

describe('flaky pods', () => {
  it('failsFirstAttempt: with backoffLimit 1 the first pod fails, the second passes, and the Job completes', async () => {
    cleanups.push(startFlakyAgent(ns));
    await createJob('flaky', { metadata: POD_BEHAVIOUR.failsFirstAttempt, job: { backoffLimit: 1 } });
    // The Job controller waits about 10 s before it replaces a failed pod.
    const job = await waitForJob('flaky', 'Complete', 60_000);
    expect(job.status).toMatchObject({ failed: 1, succeeded: 1 });
    const pods = (await podsOf('flaky')).sort((a, b) => new Date(a.metadata!.creationTimestamp!).getTime() - new Date(b.metadata!.creationTimestamp!).getTime());
    expect(pods.map((p) => p.status?.phase)).toEqual(['Failed', 'Succeeded']);
    expect(pods[0]!.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
  });
});

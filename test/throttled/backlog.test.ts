// SPEC §6, §9 at volume: hundreds of Runners created at once, with API Priority and Fairness
// holding the operator to a few seats and refusing the rest with 429. The operator keeps at most
// DEFAULT_WRITE_CONCURRENCY writes in flight, waits as the server's Retry-After says, loses nothing and runs nothing twice;
// and a rollout made while the backlog drains gets its Job ahead of it. Runs on a control plane of
// its own with API Priority and Fairness on (make test-throttled).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestsBy, type AuditEntry } from '../integration/support/audit.ts';
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, OPERATOR_USER } from '../integration/support/identity.ts';
import {
  batch, createDeployment, createNamespace, createRunner, custom, deleteNamespace, ENABLE, kc, rollOut, runnerManifest, waitFor,
} from '../integration/support/kube.ts';
import { operatorEnvironment } from '../integration/support/environment.ts';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { DEFAULT_WRITE_CONCURRENCY } from '../../src/k8s/write-queue.ts';

const BACKLOG = 200;
const env = operatorEnvironment('throttled', { beforeStart: limitOperatorSeats });
let objects: KubernetesObjectApi;

/** The operator's requests go to a priority level of its own with one share (3 of 600 seats) and no queue. */
async function limitOperatorSeats(): Promise<void> {
  objects = kc.makeApiClient(KubernetesObjectApi);
  await objects.create({
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'PriorityLevelConfiguration',
    metadata: { name: 'hestia-test-narrow' },
    spec: { type: 'Limited', limited: { nominalConcurrencyShares: 1, lendablePercent: 0, limitResponse: { type: 'Reject' } } },
  } as never);
  await objects.create({
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name: 'hestia-test-narrow' },
    spec: {
      priorityLevelConfiguration: { name: 'hestia-test-narrow' },
      matchingPrecedence: 100,
      rules: [{
        subjects: [{ kind: 'ServiceAccount', serviceAccount: { namespace: OPERATOR_NAMESPACE, name: OPERATOR_SERVICE_ACCOUNT } }],
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }],
      }],
    },
  } as never);
}

/** The most requests the server was handling for the operator at one time. */
function mostAtOnce(entries: AuditEntry[]): number {
  const edges = entries.flatMap((e) => [
    { at: Date.parse(e.requestReceivedTimestamp), d: 1 },
    { at: Date.parse(e.stageTimestamp), d: -1 },
  ]).sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (now += e.d));
  return most;
}

let backlogNs: string;

beforeAll(async () => {
  backlogNs = await createNamespace('backlog');
});

afterAll(async () => {
  await deleteNamespace(backlogNs);
  await objects?.delete({ apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', metadata: { name: 'hestia-test-narrow' } } as never).catch(() => undefined);
  await objects?.delete({ apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name: 'hestia-test-narrow' } } as never).catch(() => undefined);
});

describe('a backlog of writes under API Priority and Fairness', () => {
  it(`creates ${BACKLOG} Runners at once: 429s honoured, a bounded number of writes in flight, every Runner run exactly once, a rollout served first`, async () => {
    await createDeployment(env.ns, 'watched', { app: 'watched', ...ENABLE }, 0);
    await createRunner(runnerManifest(env.ns, 'watcher', { workloadSelector: { matchLabels: { app: 'watched' } } }));
    await waitFor('the watcher to run once', async () => (await jobCount(env.ns)) === 1, 120_000);

    const since = new Date();
    const creates: Promise<unknown>[] = [];
    for (let i = 0; i < BACKLOG; i++) {
      creates.push(createRunner(runnerManifest(backlogNs, `r-${i}`, {})));
      if (creates.length === 40) await Promise.all(creates.splice(0));
    }
    await Promise.all(creates);
    await rollOut(env.ns, 'watched', 'v2');
    const rolledOut = Date.now();

    await waitFor('a Job for every backlog Runner', async () => (await jobCount(backlogNs)) === BACKLOG, 600_000);
    await waitFor('the watcher to run for the rollout', async () => (await jobCount(env.ns)) === 2, 600_000);
    await waitFor('every backlog Runner to be Succeeded', async () => (await states(backlogNs)).get('Succeeded') === BACKLOG, 600_000);

    const requests = requestsBy(OPERATOR_USER, since);
    const refused = requests.filter((e) => e.responseStatus?.code === 429);
    const jobCreates = requests.filter((e) => e.verb === 'create' && e.objectRef?.resource === 'jobs' && e.responseStatus?.code === 201);
    const watchedJob = jobCreates.find((e) => e.objectRef?.namespace === env.ns)!;
    const backlogStatusAfter = requests.filter((e) => e.objectRef?.namespace === backlogNs && e.objectRef?.subresource === 'status' && e.requestReceivedTimestamp > watchedJob.requestReceivedTimestamp);
    console.log(`${refused.length} requests refused with 429; ${mostAtOnce(requests.filter((e) => e.verb !== 'watch'))} at once at most on the server; ` +
      `the rollout's Job created ${Date.parse(watchedJob.requestReceivedTimestamp) - rolledOut} ms after the rollout, ahead of ${backlogStatusAfter.length} backlog status writes`);

    expect(refused.length).toBeGreaterThan(0);
    expect(env.operator.stats.writesThrottled).toBeGreaterThan(0);
    expect(env.operator.stats.writesInFlightMax).toBeLessThanOrEqual(DEFAULT_WRITE_CONCURRENCY);
    expect(mostAtOnce(requests.filter((e) => e.verb !== 'watch'))).toBeLessThanOrEqual(DEFAULT_WRITE_CONCURRENCY);
    // Exactly once: one successful create per Runner, and the cluster holds one Job each.
    expect(jobCreates.filter((e) => e.objectRef?.namespace === backlogNs)).toHaveLength(BACKLOG);
    expect(backlogStatusAfter.length).toBeGreaterThan(0);
  }, 900_000);
});

async function jobCount(namespace: string): Promise<number> {
  return (await batch.listNamespacedJob({ namespace })).items.length;
}

async function states(namespace: string): Promise<Map<string, number>> {
  const list = (await custom.listNamespacedCustomObject({ group: 'e2e.stakater.com', version: 'v1alpha1', namespace, plural: 'runners' })) as { items: { status?: { state?: string } }[] };
  const out = new Map<string, number>();
  for (const r of list.items) out.set(r.status?.state ?? '', (out.get(r.status?.state ?? '') ?? 0) + 1);
  return out;
}

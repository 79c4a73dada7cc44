// The answers to the operator's writes, as the API server sends them when asked for metadata alone
// (src/k8s/client.ts, METADATA_ONLY): a Job's create without its pod template, a status write without the status,
// a deletecollection's list of what it deleted — and why a list needs an Accept of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../src/k8s/client.ts';
import { ApiError, METADATA_LIST_ONLY, METADATA_ONLY } from '../../src/k8s/client.ts';
import { collectionPath, objectPath } from '../../src/k8s/api-paths.ts';
import { API_VERSION, PLURAL } from '../../src/api/runner.ts';
import { operatorClient } from './support/identity.ts';
import { createNamespace, createRunner, deleteNamespace, installCrd, runnerManifest } from './support/kube.ts';

let ns: string;
let client: KubeClient;

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('write-answers');
  client = await operatorClient();
});
afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

interface Answer {
  kind: string;
  metadata?: { name?: string; resourceVersion?: string };
  spec?: unknown;
  status?: unknown;
  items?: { metadata?: { name?: string } }[];
}

const job = (name: string) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, labels: { 'runner.stakater.com/name': 'answers', 'runner.stakater.com/job': name } },
  spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'check', image: 'busybox' }] } } },
});

describe('answers to writes asked for as metadata', () => {
  it('a Job create and a status write come back as their metadata, with the new resourceVersion', async () => {
    const created = await client.request<Answer>('POST', collectionPath('batch/v1', 'jobs', ns), { body: job('answers-1'), accept: METADATA_ONLY });
    expect(created).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'answers-1' } });
    expect(created.spec).toBeUndefined();

    await createRunner(runnerManifest(ns, 'answers', {}));
    const status = { state: 'Running', message: 'x'.repeat(3000) };
    const path = objectPath(API_VERSION, PLURAL, ns, 'answers', 'status');
    const answer = await client.patch<Answer>(path, { status }, 'application/merge-patch+json', METADATA_ONLY);
    expect(answer.kind).toBe('PartialObjectMetadata');
    expect(answer.status).toBeUndefined();
    expect(answer.metadata?.resourceVersion).toMatch(/^\d+$/);
  });

  it('a status write as the operator sends it (JSON patch with the resourceVersion) is refused 409 over a newer version, and lands over the current one', async () => {
    await createRunner(runnerManifest(ns, 'precondition', {}));
    const path = objectPath(API_VERSION, PLURAL, ns, 'precondition', 'status');
    const read = await client.request<Answer & { metadata: { uid: string; resourceVersion: string } }>('GET', objectPath(API_VERSION, PLURAL, ns, 'precondition'));
    const write = (resourceVersion: string, state: string) => client.patch<Answer>(path, [
      { op: 'test', path: '/metadata/uid', value: read.metadata.uid },
      { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion },
      { op: 'add', path: '/status', value: { state } },
    ], 'application/json-patch+json', METADATA_ONLY);
    const first = await write(read.metadata.resourceVersion, 'Running');
    expect(BigInt(first.metadata!.resourceVersion!)).toBeGreaterThan(BigInt(read.metadata.resourceVersion));
    const stale = await write(read.metadata.resourceVersion, 'Failed').catch((err: unknown) => err);
    expect(stale).toBeInstanceOf(ApiError);
    expect((stale as ApiError).code).toBe(409);
    await write(first.metadata!.resourceVersion!, 'Succeeded');
    const now = await client.request<{ status?: { state?: string } }>('GET', objectPath(API_VERSION, PLURAL, ns, 'precondition'));
    expect(now.status?.state).toBe('Succeeded');
  });

  it('a deletecollection comes back as the list of what it deleted; asked for as one object, it is refused', async () => {
    await client.send('POST', collectionPath('batch/v1', 'jobs', ns), { body: job('answers-2') });
    await client.send('POST', collectionPath('batch/v1', 'jobs', ns), { body: job('answers-3') });
    const deleted = await client.request<Answer>('DELETE', collectionPath('batch/v1', 'jobs', ns), {
      query: { labelSelector: 'runner.stakater.com/job in (answers-2,answers-3)', propagationPolicy: 'Background' },
      accept: METADATA_LIST_ONLY,
    });
    expect(deleted.kind).toBe('PartialObjectMetadataList');
    expect(deleted.items?.map((i) => i.metadata?.name).sort()).toEqual(['answers-2', 'answers-3']);

    const refused = await client
      .request('DELETE', collectionPath('batch/v1', 'jobs', ns), { query: { labelSelector: 'runner.stakater.com/job in (answers-1)' }, accept: METADATA_ONLY })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe(406);
  });
});

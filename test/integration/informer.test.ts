// The watch cache against the real API server, behind a fault-injecting proxy (test/support/fault-proxy.ts)
// for what a healthy server never does: a storm of 410s, watches closed as soon as they are opened, and an
// object the cache's projection throws on. Each cache watches the ConfigMaps of a namespace of its own, so
// the proxy's rules and counts concern that cache alone.
import type { KubernetesObject } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/k8s/client.ts';
import { Informer, type InformerSource } from '../../src/k8s/informer.ts';
import { connectionOf } from '../../src/k8s/kubeconfig.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { core, createNamespace, deleteNamespace, kc, stays, waitFor } from './support/kube.ts';

/** How long the counts of requests are watched: long enough for a hot loop to make hundreds. */
const WINDOW_MS = 6_000;

let proxy: FaultProxy;
let client: KubeClient;
const namespaces: string[] = [];
const informers: Informer[] = [];
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  proxy = await FaultProxy.start(await connectionOf(kc));
  client = new KubeClient(proxy.connection());
});

afterEach(async () => {
  proxy.clearRules();
  await Promise.all(informers.splice(0).map((i) => i.stop()));
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all(namespaces.map(deleteNamespace));
});

async function namespace(): Promise<{ ns: string; path: string }> {
  const ns = await createNamespace('informer');
  namespaces.push(ns);
  return { ns, path: `/api/v1/namespaces/${ns}/configmaps` };
}

function configMapCache<T extends KubernetesObject>(ns: string, log = silent, slim?: InformerSource<T>['slim']): Informer<T> {
  const informer = new Informer<T>(client, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', ...(slim ? { slim } : {}) }, log, ns);
  informers.push(informer as unknown as Informer);
  return informer;
}

const createConfigMap = (namespace: string, name: string, data: Record<string, string> = {}) => core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data } });

/** Fails if `promise` has not settled within `ms`. */
const within = <T>(ms: number, what: string, promise: Promise<T>): Promise<T> =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

describe('the watch cache behind a faulty server', () => {
  it('backs off through a storm of 410s on its watches instead of listing again in a loop, and recovers after it', async () => {
    const { ns, path } = await namespace();
    const storm = proxy.add({ match: { path, watch: true }, fault: { kind: 'watch-error', code: 410, message: 'too old resource version' } });
    const cache = configMapCache(ns);
    const since = Date.now();
    await within(10_000, 'the first LIST', cache.start());

    const lists = () => proxy.count({ method: 'GET', path, watch: false }, since);
    // 0, 1, 2, 4 s between attempts (less their jitter): five LISTs at most in six seconds; a loop makes hundreds.
    await stays(`more than 6 LISTs within ${WINDOW_MS} ms of a 410 storm`, () => lists() > 6, WINDOW_MS);
    console.log(`a 410 on every watch: ${lists()} LISTs and ${storm.hits} watches in ${Date.now() - since} ms`);
    expect(lists()).toBeGreaterThanOrEqual(3);
    expect(storm.hits).toBeGreaterThanOrEqual(3);

    storm.remove();
    await createConfigMap(ns, 'after-the-storm');
    await waitFor('the ConfigMap created after the storm in the cache', () => cache.get(ns, 'after-the-storm'), 40_000);
  });

  it('does not re-open watches in a hot loop when each is closed as soon as it is opened, and recovers after', async () => {
    const { ns, path } = await namespace();
    const closing = proxy.add({ match: { path, watch: true }, fault: { kind: 'close-at-once' } });
    const cache = configMapCache(ns);
    const since = Date.now();
    await within(10_000, 'the first LIST', cache.start());

    const watches = () => proxy.count({ path, watch: true }, since);
    // 0.5, 1, 2, 4 s between attempts (less their jitter): five watches at most in six seconds.
    await stays(`more than 6 watches within ${WINDOW_MS} ms of watches closed at once`, () => watches() > 6, WINDOW_MS);
    console.log(`every watch closed at once: ${watches()} watches in ${Date.now() - since} ms`);
    expect(watches()).toBeGreaterThanOrEqual(3);
    expect(cache.restarts).toBeGreaterThanOrEqual(3);
    // Nothing was lost: the resourceVersion is still good, so no LIST but the first.
    expect(proxy.count({ path, watch: false }, since)).toBe(1);

    closing.remove();
    await createConfigMap(ns, 'after-the-closes');
    await waitFor('the ConfigMap created after the closes in the cache', () => cache.get(ns, 'after-the-closes'), 40_000);
  });


  it('waits as long as a 429 asks before it lists again', async () => {
    const { ns, path } = await namespace();
    proxy.add({ match: { method: 'GET', path, watch: false }, fault: { kind: 'status', code: 429, retryAfterSeconds: 3 }, times: 1 });
    const cache = configMapCache(ns);
    await within(15_000, 'the first LIST that passes', cache.start());
    const [refused, passed] = proxy.seen({ path, watch: false });
    expect(refused?.fault).toBe('status');
    // The backoff alone would have waited half a second.
    expect(passed!.at - refused!.at).toBeGreaterThanOrEqual(2_900);
  });
});

describe('an object the cache cannot project', () => {
  type Slim = KubernetesObject & { data?: Record<string, string> };
  const slim = (o: KubernetesObject): Slim => {
    const data = (o as Slim).data ?? {};
    if (data.shape === 'unforeseen') throw new Error('no projection for this shape');
    return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: o.metadata?.resourceVersion }, data };
  };

  it('is left out and named in the log, and the objects after it still reach the cache on the same watch', async () => {
    const { ns, path } = await namespace();
    const lines: { msg: string; object?: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const cache = configMapCache(ns, log, slim);
    await within(10_000, 'the first LIST', cache.start());

    await createConfigMap(ns, 'unprojectable', { shape: 'unforeseen' });
    await createConfigMap(ns, 'after-it', { shape: 'usual' });
    await waitFor('the ConfigMap created after the unprojectable one in the cache', () => cache.get(ns, 'after-it'), 20_000);
    expect(cache.get(ns, 'unprojectable')).toBeUndefined();
    expect(lines.filter((l) => l.object === `${ns}/unprojectable`)).toHaveLength(1);
    // The first watch saw both: it was never ended and re-opened.
    expect(proxy.count({ path, watch: true })).toBe(1);
    expect(cache.restarts).toBe(0);
  });

  it('does not keep a cache from its first sync when it is there already', async () => {
    const { ns } = await namespace();
    await createConfigMap(ns, 'unprojectable', { shape: 'unforeseen' });
    await createConfigMap(ns, 'beside-it', { shape: 'usual' });
    const cache = configMapCache(ns, silent, slim);
    await within(10_000, 'the first sync', cache.start());
    expect(cache.get(ns, 'beside-it')).toBeDefined();
    expect(cache.get(ns, 'unprojectable')).toBeUndefined();
    await createConfigMap(ns, 'later', { shape: 'usual' });
    await waitFor('a ConfigMap created later in the cache', () => cache.get(ns, 'later'), 20_000);
  });
});

describe('a cache that keeps only some objects, taking a part of its kind in (listIn)', () => {
  it("takes in what a LIST narrowed by a label holds once it is kept, without listing the rest, and the watch's changes and deletes meanwhile stand", async () => {
    const { ns, path } = await namespace();
    const labelled = (name: string, slot: string) =>
      core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: { part: slot } }, data: { v: '1' } } });
    for (let i = 0; i < 6; i++) await labelled(`cm-${i}`, i < 3 ? 'a' : 'b');
    const kept = new Set<string>();
    const cache = new Informer(client, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', labelSelector: 'part', keep: (o) => kept.has(o.metadata?.labels?.part ?? '') }, silent, ns);
    informers.push(cache);
    await within(10_000, 'the first LIST', cache.start());
    expect(cache.size).toBe(0);

    // Part b is ours now: its ConfigMaps come in by a LIST of that part alone.
    kept.add('b');
    const since = Date.now();
    await within(10_000, 'listIn', cache.listIn('part in (b)'));
    expect([...cache.list()].map((o) => o.metadata!.name).sort()).toEqual(['cm-3', 'cm-4', 'cm-5']);
    expect(proxy.seen({ method: 'GET', path, watch: false }, since).map((r) => r.query.get('labelSelector'))).toEqual(['part,part in (b)']);

    // The watch goes on keeping what is kept: a change and a delete of part b reach the cache.
    await core.replaceNamespacedConfigMap({ namespace: ns, name: 'cm-4', body: { metadata: { name: 'cm-4', labels: { part: 'b' } }, data: { v: '2' } } });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'cm-5' });
    await waitFor('the change and the delete in the cache', () => (cache.get(ns, 'cm-4') as { data?: { v?: string } } | undefined)?.data?.v === '2' && !cache.get(ns, 'cm-5'), 10_000);
  });
});

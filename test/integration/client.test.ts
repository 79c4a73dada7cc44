// The operator's own client (src/k8s/client.ts) against the real API server: connections for
// requests while many watches are open, deadlines, faults through the fault-injecting proxy, a
// CONNECT proxy named by HTTPS_PROXY or a cluster's proxy-url (and NO_PROXY bypassing it), a
// rotated CA file picked up without a restart, and answers not kept in memory by their connections.
import { readFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { dump, load as parseYaml } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, KubeClient } from '../../src/k8s/client.ts';
import { connectionOf, fromKubeconfigFiles } from '../../src/k8s/kubeconfig.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { core, createNamespace, deleteNamespace, kc, waitFor } from './support/kube.ts';

const KUBECONFIG = process.env.KUBECONFIG!;
const apiServer = new URL(kc.getCurrentCluster()!.server);
const apiPort = Number(apiServer.port || 443);

let ns: string;
let scratch: string;
beforeAll(async () => {
  ns = await createNamespace('client');
  scratch = mkdtempSync(join(tmpdir(), 'client-test-'));
});
afterAll(async () => {
  await deleteNamespace(ns);
  rmSync(scratch, { recursive: true, force: true });
});

/** Settles with `work`, or rejects after `ms`: the test's own bound, so a hang fails it instead of stalling it. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no outcome within ${ms} ms`)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Times `work` (ms) and gives its outcome: the value or the error. */
async function timed<T>(work: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const start = performance.now();
  try {
    const value = await work;
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

describe('connections for requests while watches hold theirs', () => {
  it('answers a GET and a PUT within their timeout while 70 watches are open (more than the old pool of 64)', async () => {
    const client = new KubeClient(await connectionOf(kc));
    const stop = new AbortController();
    let open = 0;
    const watches = Array.from({ length: 70 }, () =>
      client
        .watch(`/api/v1/namespaces/${ns}/configmaps`, { timeoutSeconds: 600 }, { signal: stop.signal, idleMs: 600_000, onEvent: () => undefined, onOpen: () => (open += 1) })
        .catch(() => undefined),
    );
    try {
      await waitFor('70 watches open at once', () => open === 70 || undefined, 30_000).catch((err: unknown) => {
        throw new Error(`${String(err)} (${open} open)`);
      });
      expect(client.connections().watches).toBeGreaterThanOrEqual(70);

      const created = await within(10_000, 'POST', client.create<{ metadata: { resourceVersion: string } }>(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'while-watching' }, data: { n: '1' } }));
      const get = await timed(within(10_000, 'GET', client.request('GET', `/api/v1/namespaces/${ns}/configmaps/while-watching`, { timeoutMs: 5_000 })));
      expect(get.error).toBeUndefined();
      expect(get.ms).toBeLessThan(5_000);
      const put = await timed(
        within(10_000, 'PUT', client.request('PUT', `/api/v1/namespaces/${ns}/configmaps/while-watching`, { body: { metadata: { name: 'while-watching', resourceVersion: created.metadata.resourceVersion }, data: { n: '2' } }, timeoutMs: 5_000 })),
      );
      expect(put.error).toBeUndefined();
      expect(put.ms).toBeLessThan(5_000);
      console.log(`with 70 watches open: GET answered in ${get.ms.toFixed(0)} ms, PUT in ${put.ms.toFixed(0)} ms`);
    } finally {
      stop.abort();
      await Promise.all(watches);
      client.close();
    }
  });
});

describe('every request bounded in time, through the fault proxy', () => {
  let proxy: FaultProxy;
  let client: KubeClient;
  beforeAll(async () => {
    proxy = await FaultProxy.start(await connectionOf(kc));
    client = new KubeClient(proxy.connection());
  });
  afterAll(async () => {
    client.close();
    await proxy.close();
  });

  it('fails a request whose server never sends its headers at its deadline', async () => {
    const rule = proxy.add({ match: { method: 'GET', path: `/api/v1/namespaces/${ns}` }, fault: { kind: 'hang-before-headers' } });
    const outcome = await timed(within(10_000, 'hanging GET', client.request('GET', `/api/v1/namespaces/${ns}`, { timeoutMs: 1_500 })));
    rule.remove();
    expect(rule.hits).toBe(1);
    expect(outcome.error).toBeInstanceOf(ApiError);
    expect((outcome.error as ApiError).code).toBe(0);
    expect((outcome.error as Error).message).toMatch(/no answer within 1500 ms/);
    expect(outcome.ms).toBeGreaterThanOrEqual(1_450);
    expect(outcome.ms).toBeLessThan(3_000);
    // The way to the server is fine again: the next request answers.
    await expect(client.get(`/api/v1/namespaces/${ns}`)).resolves.toMatchObject({ metadata: { name: ns } });
  });

  it('fails a request whose body trickles past its deadline, though bytes keep coming', async () => {
    const rule = proxy.add({ match: { method: 'GET', path: '/openapi/v2' }, fault: { kind: 'slow-body', bytesPerSecond: 20_000 } });
    const outcome = await timed(within(15_000, 'trickling GET', client.request('GET', '/openapi/v2', { timeoutMs: 2_000 })));
    rule.remove();
    expect(rule.hits).toBe(1);
    expect((outcome.error as Error | undefined)?.message).toMatch(/no answer within 2000 ms/);
    expect(outcome.ms).toBeLessThan(4_000);
  });

  it('ends a watch whose server goes silent after its headers by its idle timer', async () => {
    const rule = proxy.add({ match: { watch: true, path: `/api/v1/namespaces/${ns}/secrets` }, fault: { kind: 'hang-after-headers' } });
    let opened = false;
    const outcome = await timed(
      within(10_000, 'silent watch', client.watch(`/api/v1/namespaces/${ns}/secrets`, { timeoutSeconds: 300 }, { signal: new AbortController().signal, idleMs: 1_500, onEvent: () => undefined, onOpen: () => (opened = true) })),
    );
    rule.remove();
    expect(opened).toBe(true);
    expect((outcome.error as Error | undefined)?.message).toMatch(/silent for 1500 ms/);
    expect(outcome.ms).toBeLessThan(4_000);
  });

  it("tells a 429's Retry-After, and a connection reset mid-answer as a failed request", async () => {
    const throttled = proxy.add({ match: { method: 'GET', path: `/api/v1/namespaces/${ns}` }, fault: { kind: 'status', code: 429, retryAfterSeconds: 3 }, times: 1 });
    const answer = await timed(client.get(`/api/v1/namespaces/${ns}`));
    expect(throttled.hits).toBe(1);
    expect(answer.error).toMatchObject({ code: 429, retryAfterSeconds: 3 });

    const reset = proxy.add({ match: { method: 'GET', path: '/openapi/v2' }, fault: { kind: 'reset-mid-stream', afterBytes: 1_000 }, times: 1 });
    const cut = await timed(within(10_000, 'reset GET', client.request('GET', '/openapi/v2', { timeoutMs: 5_000 })));
    expect(reset.hits).toBe(1);
    expect(cut.error).toBeInstanceOf(ApiError);
    expect((cut.error as ApiError).code).toBe(0);
    expect(cut.ms).toBeLessThan(4_000);
  });
});

/** A CONNECT proxy on loopback that sends every tunnel to the API server, counting them and the authorities asked for. */
class ConnectProxy {
  readonly authorities: string[] = [];
  private readonly server: HttpServer;
  private readonly sockets = new Set<Socket>();

  private constructor() {
    this.server = createHttpServer((_req, res) => res.writeHead(405).end());
    this.server.on('connect', (req, client: Socket) => {
      this.authorities.push(req.url ?? '');
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => undefined);
      const upstream = connect(apiPort, apiServer.hostname, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
  }

  static async start(): Promise<ConnectProxy> {
    const proxy = new ConnectProxy();
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  get tunnels(): number {
    return this.authorities.length;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A plain TCP forwarder on `host` to the API server: a way to it by an address that is not loopback. */
async function forwarder(host: string): Promise<{ server: TcpServer; port: number; connections: () => number }> {
  let connections = 0;
  const server = createTcpServer((client) => {
    connections += 1;
    const upstream = connect(apiPort, apiServer.hostname);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as { port: number }).port, connections: () => connections };
}

/**
 * A kubeconfig listed before the cluster's own in a KUBECONFIG-style list: its current context names
 * a cluster of its own (`server`, and what else is given; the cluster's CA unless it names one) and
 * the cluster's user, found in the second file.
 */
function kubeconfigBefore(name: string, cluster: Record<string, unknown>): string[] {
  const real = parseYaml(readFileSync(KUBECONFIG, 'utf8')) as { 'current-context': string; contexts: { name: string; context: { cluster: string; user: string } }[]; clusters: { name: string; cluster: Record<string, unknown> }[] };
  const current = real.contexts.find((c) => c.name === real['current-context'])!.context;
  const realCluster = real.clusters.find((c) => c.name === current.cluster)!.cluster;
  const ca = 'certificate-authority' in cluster ? {} : realCluster['certificate-authority-data'] ? { 'certificate-authority-data': realCluster['certificate-authority-data'] } : { 'certificate-authority': resolve(dirname(KUBECONFIG), String(realCluster['certificate-authority'])) };
  const path = join(scratch, name);
  writeFileSync(path, dump({ 'current-context': name, clusters: [{ name, cluster: { ...ca, ...cluster } }], contexts: [{ name, context: { cluster: name, user: current.user } }] }));
  return [path, KUBECONFIG];
}

describe('a proxy between the client and the API server', () => {
  let proxy: ConnectProxy;
  beforeAll(async () => {
    proxy = await ConnectProxy.start();
  });
  afterAll(() => proxy.close());

  // The API server's certificate names kubernetes.default.svc; that name does not resolve here, so an
  // answer can only have come through the proxy, which takes the tunnel to the API server.
  const unresolvable = `https://kubernetes.default.svc:${apiPort}`;

  it('tunnels through the proxy HTTPS_PROXY names', async () => {
    const before = proxy.tunnels;
    const connection = await fromKubeconfigFiles(kubeconfigBefore('via-env', { server: unresolvable }), { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com,10.0.0.0/8' });
    const client = new KubeClient(connection);
    await expect(client.get(`/api/v1/namespaces/${ns}`)).resolves.toMatchObject({ metadata: { name: ns } });
    client.close();
    expect(proxy.tunnels - before).toBe(1);
    expect(proxy.authorities.at(-1)).toBe(`kubernetes.default.svc:${apiPort}`);
  });

  it("tunnels through the cluster's proxy-url, which wins over HTTPS_PROXY and NO_PROXY", async () => {
    const before = proxy.tunnels;
    const connection = await fromKubeconfigFiles(kubeconfigBefore('via-proxy-url', { server: unresolvable, 'proxy-url': proxy.url }), { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '*' });
    const client = new KubeClient(connection);
    await expect(client.get(`/api/v1/namespaces/${ns}`)).resolves.toMatchObject({ metadata: { name: ns } });
    // A watch goes the same way, on a connection of its own.
    let opened = false;
    const stop = new AbortController();
    const watch = client.watch(`/api/v1/namespaces/${ns}/configmaps`, { timeoutSeconds: 60 }, { signal: stop.signal, idleMs: 60_000, onEvent: () => undefined, onOpen: () => (opened = true) }).catch(() => undefined);
    await waitFor('the watch open through the proxy', () => opened, 10_000);
    stop.abort();
    await watch;
    client.close();
    expect(proxy.tunnels - before).toBe(2);
  });

  it('connects directly when NO_PROXY names the server (a CIDR), and through the proxy when it does not', async () => {
    const address = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!address) throw new Error('this test needs a network interface other than loopback');
    const direct = await forwarder(address);
    try {
      // The certificate does not name this address: check it against a name it does carry.
      const paths = kubeconfigBefore('no-proxy', { server: `https://${address}:${direct.port}`, 'tls-server-name': 'localhost' });
      const before = proxy.tunnels;
      const bypassing = new KubeClient(await fromKubeconfigFiles(paths, { HTTPS_PROXY: proxy.url, NO_PROXY: `other.example,${address}/32` }));
      await expect(bypassing.get(`/api/v1/namespaces/${ns}`)).resolves.toMatchObject({ metadata: { name: ns } });
      bypassing.close();
      expect(proxy.tunnels - before).toBe(0);
      expect(direct.connections()).toBe(1);

      const proxied = new KubeClient(await fromKubeconfigFiles(paths, { HTTPS_PROXY: proxy.url, NO_PROXY: 'other.example' }));
      await expect(proxied.get(`/api/v1/namespaces/${ns}`)).resolves.toMatchObject({ metadata: { name: ns } });
      proxied.close();
      expect(proxy.tunnels - before).toBe(1);
      expect(proxy.authorities.at(-1)).toBe(`${address}:${direct.port}`);
    } finally {
      direct.server.close();
    }
  });
});

describe('TLS material that changes', () => {
  it('uses a rotated CA file for its next connection, without a restart', async () => {
    const real = parseYaml(readFileSync(KUBECONFIG, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
    const cluster = real.clusters[0]!.cluster;
    const rightCa = cluster['certificate-authority-data'] ? Buffer.from(String(cluster['certificate-authority-data']), 'base64') : readFileSync(resolve(dirname(KUBECONFIG), String(cluster['certificate-authority'])));
    // Another CA at first (the fault proxy's self-signed certificate): the API server's certificate is then refused.
    const other = await FaultProxy.start(await connectionOf(kc));
    const wrongCa = other.ca;
    await other.close();
    const caFile = join(scratch, 'ca.pem');
    writeFileSync(caFile, wrongCa);
    const client = new KubeClient(await fromKubeconfigFiles(kubeconfigBefore('rotated-ca', { server: apiServer.origin, 'certificate-authority': caFile }), {}));
    const refused = await timed(client.get(`/api/v1/namespaces/${ns}`));
    expect(refused.error).toBeInstanceOf(ApiError);
    expect(String((refused.error as Error).message)).toMatch(/certificate/i);

    writeFileSync(`${caFile}.new`, rightCa);
    renameSync(`${caFile}.new`, caFile);
    await expect(client.get(`/api/v1/namespaces/${ns}`)).resolves.toMatchObject({ metadata: { name: ns } });
    client.close();
  });
});

describe('what a connection keeps of the answers it carried', () => {
  /** The heap in use after full collections: what something still holds. */
  function heapHeld(): number {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let i = 0; i < 3; i++) gc();
    return process.memoryUsage().heapUsed;
  }

  it('holds none of the LISTs\' bodies once read, though their connections are kept alive for the next requests', async () => {
    // Three ConfigMaps of 800 KB: a LIST of them is a body of 2.4 MB, as a page of 500 Runners with their statuses.
    const filler = 'x'.repeat(800_000);
    for (const name of ['big-1', 'big-2', 'big-3']) await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: { size: 'big' } }, data: { filler } } });
    const list = (client: KubeClient) => client.get<{ items: unknown[] }>(`/api/v1/namespaces/${ns}/configmaps`, { labelSelector: 'size=big', limit: 500 });
    const client = new KubeClient(await connectionOf(kc));
    const before = heapHeld();
    // Four side by side: four connections, each kept alive after its first answer, as a hand-over's lists leave them.
    const answers = await Promise.all([1, 2, 3, 4].map(() => list(client)));
    expect(answers.map((a) => a.items.length)).toEqual([3, 3, 3, 3]);
    answers.length = 0;
    for (let i = 0; i < 3; i++) await client.get(`/api/v1/namespaces/${ns}`);
    const held = heapHeld() - before;
    expect(client.connections().requests).toBe(4);
    expect(held).toBeLessThan(1_000_000);
    client.close();
  });
});

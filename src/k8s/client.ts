// The operator's Kubernetes client: JSON over HTTPS with node:https, nothing more. The operator
// process does not load @kubernetes/client-node at run time (its types only): importing that
// package costs about 85 MiB of resident memory before the first Runner (docs/scale.md), a third
// of the whole budget at 5,000 Runners. Tests and the CLI use client-node as before.
//
// Connections. Watches and requests have agents of their own, neither with a socket cap: a watch
// holds its connection for minutes (namespace-scoped, about five per namespace), and a shared,
// capped pool let 30 namespaces' watches take every socket while a Lease renewal queued behind
// them past its renew deadline. Every request is bounded from the moment it is issued (a deadline
// over credentials, the wait for a socket, connect, TLS, headers and body, not Node's socket-idle
// `setTimeout`, which starts only once a socket is assigned); a watch is bounded so until its
// headers, then by its silence. HTTP/1.1 and not HTTP/2 (client-go's default, one connection
// multiplexing everything): one stalled connection then takes one request with it, not every watch
// and the Lease at once (client-go needed HTTP/2 pings to notice that case, kubernetes/kubernetes#95981),
// a stalled request's deadline can drop the kept connections without touching the watches, node:http2
// has no proxy support of its own, and keep-alive makes the extra connections cheap (one TLS
// handshake per watch, the connection reused by the next watch when one ends).
//
// Proxies: the Connection names one (src/k8s/proxy.ts decides which, as kubectl does); Node 24's
// agents tunnel HTTPS through it with CONNECT (the `proxyEnv` agent option), so no proxy library is
// loaded. TLS material is asked for per request: when it changed (a rotated CA or client
// certificate file, an exec plugin's new certificate) the client opens new connections with it
// and lets the old ones finish what they carry.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { dropIdle, newTransport, retire, sameTls, tunnelsThroughProxies, type Agent, type TlsMaterial, type Transport } from './transport.ts';

const BLANK_LINE = /^\s*$/;

/**
 * Cuts a watch's stream into its events' lines: each call takes a chunk and gives the lines it completed, blank ones
 * left out; an unfinished last line waits for the next chunk. Each line is cut out once (a chunk may hold many).
 */
export function lineSplitter(): (chunk: string) => string[] {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    const lines: string[] = [];
    let start = 0;
    let newline: number;
    while ((newline = pending.indexOf('\n', start)) >= 0) {
      const line = pending.slice(start, newline);
      start = newline + 1;
      if (!BLANK_LINE.test(line)) lines.push(line);
    }
    pending = pending.slice(start);
    return lines;
  };
}

export type { TlsMaterial } from './transport.ts';

/** What a request needs to reach and authenticate to the API server (src/k8s/kubeconfig.ts). */
export interface Connection {
  /** e.g. `https://10.0.0.1:443` */
  server: string;
  /**
   * The TLS material, read per request after `headers()` (which may renew an exec plugin's
   * certificate): the same object while nothing changed; another one makes the client open new connections.
   */
  readonly tls: TlsMaterial;
  /** Headers for each request (Authorization); called per request, so rotated tokens are picked up. */
  headers(): Promise<Record<string, string>>;
  /** An http(s):// proxy to tunnel through (the cluster's proxy-url, or HTTPS_PROXY unless NO_PROXY names the server). */
  proxy?: string;
  /** Told of a 401: a credential revoked before its expiry is obtained again (an exec plugin runs again), as client-go does. */
  unauthorized?(): void;
}

/** An API server answer other than 2xx, or a request that never got one (`code` 0). */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  /** From a 429's Retry-After header. */
  readonly retryAfterSeconds: number | undefined;
  readonly body: string;

  constructor(code: number, body: string, retryAfterSeconds?: number) {
    const status = parseStatus(body);
    super(status?.message ?? (body.slice(0, 300) || `HTTP ${code}`));
    this.name = 'ApiError';
    this.code = code;
    this.reason = status?.reason ?? '';
    this.retryAfterSeconds = retryAfterSeconds;
    this.body = body;
  }
}

function parseStatus(body: string): { message?: string; reason?: string } | undefined {
  try {
    const parsed = JSON.parse(body) as { kind?: string; message?: string; reason?: string };
    return parsed.kind === 'Status' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The HTTP status of a failed request (an ApiError's, or a thrown object's `code`), if it has one. */
export const codeOf = (err: unknown): number | undefined => (err as { code?: number } | null)?.code;

export type Query = Record<string, string | number | boolean | undefined>;

/**
 * The Accept of a write whose answer is read for its metadata at most: the API server answers with the object's
 * metadata (a Job without its pod template, a Runner without its status), which it serialises and sends, and the
 * operator reads, in a fraction of the bytes. A deletecollection answers with a list: METADATA_LIST_ONLY, as the
 * server refuses (406, after deleting) a list asked for as one object.
 */
export const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
export const METADATA_LIST_ONLY = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

export interface RequestArgs {
  query?: Query;
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  /** The Accept header (default application/json). */
  accept?: string;
  /** Milliseconds from the call until the answer has been read, or (a watch) its headers (default 30 s). */
  timeoutMs?: number;
  /** Once the answer has begun: milliseconds of silence before it is abandoned (a watch's stream). */
  idleMs?: number;
}

export interface WatchEvent<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchHandlers<T> {
  onEvent(event: WatchEvent<T>): void;
  onOpen?(): void;
  /** Aborts the watch. */
  signal: AbortSignal;
  /** Gives up on a stream silent this long. */
  idleMs: number;
}

const REQUEST_TIMEOUT_MS = 30_000;


/** An answer whose headers have come, and the deadline still running over it. */
interface Opened {
  res: IncomingMessage;
  /** Stops the deadline (the answer read, or a watch streaming). */
  settle(): void;
  /** Rejects when the deadline passes (or the caller aborts) while the body is read. */
  deadline: AbortSignal;
}

export class KubeClient {
  private readonly connection: Connection;
  private readonly secure: boolean;
  private transport: Transport | undefined;
  /** Requests sent, by verb; for the operator's metrics and tests of its cost. */
  readonly sent = new Map<string, number>();

  constructor(connection: Connection) {
    this.connection = connection;
    this.secure = connection.server.startsWith('https:');
    // An older Node ignores `proxyEnv`: it would connect directly, past the proxy the kubeconfig or environment names.
    if (connection.proxy && !tunnelsThroughProxies(process.versions.node)) throw new Error(`proxy ${connection.proxy}: Node ${process.versions.node} cannot tunnel through a proxy (Node 22.21 or 24.5 and later can)`);
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {});
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  delete<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('DELETE', path, query ? { query } : {});
  }

  patch<T>(path: string, body: unknown, contentType: 'application/json-patch+json' | 'application/merge-patch+json', accept?: string): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType, ...(accept ? { accept } : {}) });
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  /** A write whose answer is not read beyond its status: asked for as metadata alone, and not parsed. */
  async send(method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, args: RequestArgs = {}): Promise<void> {
    await this.body(method, path, { accept: METADATA_ONLY, ...args });
  }

  async request<T>(method: string, path: string, args: RequestArgs = {}): Promise<T> {
    const text = await this.body(method, path, args);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** A GET whose answer is text, not JSON (a pod's log). */
  getText(path: string, args: RequestArgs = {}): Promise<string> {
    return this.body('GET', path, { accept: 'text/plain, */*', ...args });
  }

  /** The answer's body; rejects with ApiError for a status of 300 or more. */
  private async body(method: string, path: string, args: RequestArgs): Promise<string> {
    const { res, settle, deadline } = await this.issue(method, path, args, 'requests');
    try {
      const text = await readAll(res, deadline);
      if ((res.statusCode ?? 0) >= 300) throw new ApiError(res.statusCode ?? 0, text, retryAfter(res));
      return text;
    } finally {
      settle();
    }
  }

  /**
   * Opens a watch and calls `onEvent` for each event until the server ends the stream (resolves)
   * or it fails (rejects). `onOpen` is called once the server has accepted it.
   */
  async watch<T>(path: string, query: Query, handlers: WatchHandlers<T>): Promise<void> {
    const { signal, idleMs, onEvent } = handlers;
    const { res, settle, deadline } = await this.issue('GET', path, { query: { ...query, watch: true }, idleMs }, 'watches', signal);
    if ((res.statusCode ?? 0) >= 300) {
      try {
        throw new ApiError(res.statusCode ?? 0, await readAll(res, deadline), retryAfter(res));
      } finally {
        settle();
      }
    }
    // Streaming: from here on the watch is bounded by its silence (idleMs), not by the deadline.
    settle();
    handlers.onOpen?.();
    res.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const lines = lineSplitter();
      res.on('data', (chunk: string) => {
        for (const line of lines(chunk)) {
          try {
            onEvent(JSON.parse(line) as WatchEvent<T>);
          } catch (err) {
            res.destroy(err as Error);
            return;
          }
        }
      });
      res.on('end', resolve);
      res.on('error', reject);
      res.on('close', () => (res.complete ? resolve() : reject(new ApiError(0, 'watch connection closed'))));
    });
  }

  /** Connections open now, by use (for tests). */
  connections(): { requests: number; watches: number } {
    const count = (agent: Agent | undefined) => Object.values(agent?.sockets ?? {}).reduce((n, s) => n + (s?.length ?? 0), 0) + Object.values(agent?.freeSockets ?? {}).reduce((n, s) => n + (s?.length ?? 0), 0);
    return { requests: count(this.transport?.requests), watches: count(this.transport?.watches) };
  }

  /** Closes every connection, in use or kept. */
  close(): void {
    this.transport?.requests.destroy();
    this.transport?.watches.destroy();
    this.transport = undefined;
  }

  /**
   * A connection that stopped answering may mean the way to the server is gone (a stalled proxy or
   * load balancer); the idle connections kept for reuse went the same way, so none of them is reused.
   */
  private dropIdleConnections(): void {
    for (const agent of [this.transport?.requests, this.transport?.watches]) if (agent) dropIdle(agent);
  }

  /** The agents for this TLS material: the current ones, or new ones when the material changed. */
  private transportFor(tls: TlsMaterial): Transport {
    if (this.transport && sameTls(this.transport.tls, tls)) return this.transport;
    if (this.transport) retire(this.transport);
    this.transport = newTransport(tls, this.secure, this.connection.proxy);
    return this.transport;
  }

  private async issue(method: string, path: string, args: RequestArgs, use: 'requests' | 'watches', signal?: AbortSignal): Promise<Opened> {
    this.sent.set(method, (this.sent.get(method) ?? 0) + 1);
    const url = new URL(path, this.connection.server);
    for (const [k, v] of Object.entries(args.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const timeoutMs = args.timeoutMs ?? REQUEST_TIMEOUT_MS;
    // The deadline runs from here: credentials (an exec plugin), the wait for a socket, connect, TLS, headers, body.
    const expired = new AbortController();
    const timer = setTimeout(() => {
      this.dropIdleConnections();
      expired.abort(new ApiError(0, `${method} ${url.pathname}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const deadline = signal ? AbortSignal.any([expired.signal, signal]) : expired.signal;
    const settle = () => clearTimeout(timer);
    try {
      const body = args.body === undefined ? undefined : JSON.stringify(args.body);
      const headers: Record<string, string> = {
        Accept: args.accept ?? 'application/json',
        'User-Agent': 'hestia-operator',
        ...(await untilAborted(this.connection.headers(), deadline)),
        ...(body !== undefined ? { 'Content-Type': args.contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}),
      };
      const agent = this.transportFor(this.connection.tls)[use];
      const send = this.secure ? httpsRequest : httpRequest;
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = send(url, { method, headers, agent, signal: deadline }, (res) => {
          if (args.idleMs !== undefined) {
            req.setTimeout(args.idleMs, () => {
              this.dropIdleConnections();
              res.destroy(new ApiError(0, `${method} ${url.pathname}: silent for ${args.idleMs} ms`));
            });
          }
          if (res.statusCode === 401) this.connection.unauthorized?.();
          resolve(res);
        });
        req.on('error', (err) => reject(asApiError(err, deadline)));
        req.end(body);
      });
      return { res, settle, deadline };
    } catch (err) {
      settle();
      throw asApiError(err, deadline);
    }
  }
}

/** The deadline's own error when it (or the caller) aborted the request, else the error as an ApiError. */
function asApiError(err: unknown, deadline: AbortSignal): unknown {
  if (deadline.aborted) return deadline.reason instanceof ApiError ? deadline.reason : err;
  if (err instanceof ApiError) return err;
  return Object.assign(new ApiError(0, err instanceof Error ? err.message : String(err)), { cause: err });
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The whole body; rejects with the deadline's error when it passes first, or when the connection ends early.
 *
 * Once read, nothing of this reading holds the body. A kept-alive TLS connection outlives its first request and holds
 * it, and so the listeners on that request's answer, for as long as the connection lives: Node's https agent leaves a
 * listener on each socket it creates whose closure reaches the request that made it (node:https createConnection, as
 * of Node 24). A body still held by those listeners stayed in the heap with the connection: a page of 500 Runners,
 * 2.4 MiB, for each connection that began with one (test/integration/client.test.ts).
 */
function readAll(res: IncomingMessage, deadline: AbortSignal): Promise<string> {
  res.setEncoding('utf8');
  if (deadline.aborted) return Promise.reject(asApiError(deadline.reason, deadline));
  return new Promise<string>((resolve, reject) => {
    const chunks: string[] = [];
    const onData = (chunk: string) => chunks.push(chunk);
    const onEnd = () => done(null);
    const onClose = () => res.complete || done(new ApiError(0, 'connection closed before the answer ended'));
    const onAbort = () => done(deadline.reason);
    const done = (err: unknown) => {
      res.off('data', onData).off('end', onEnd).off('error', done).off('close', onClose);
      res.on('error', ignoreLateError);
      deadline.removeEventListener('abort', onAbort);
      if (err === null) resolve(chunks.join(''));
      else reject(asApiError(err, deadline));
      chunks.length = 0;
    };
    deadline.addEventListener('abort', onAbort, { once: true });
    res.on('data', onData).on('end', onEnd).on('error', done).on('close', onClose);
  });
}

/** An answer read to its end may still report its connection's error: nothing waits for it any more. */
function ignoreLateError(): void {}

function retryAfter(res: IncomingMessage): number | undefined {
  const value = Number(res.headers['retry-after']);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

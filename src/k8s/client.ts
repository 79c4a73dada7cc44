// The operator's Kubernetes client: JSON over HTTPS with node:https, nothing more. The operator
// process does not load @kubernetes/client-node at run time (its types only): importing that
// package costs about 85 MiB of resident memory before the first Runner (docs/scale.md), a third
// of the whole budget at 5,000 Runners. Tests and the CLI use client-node as before.
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';

/** What a request needs to reach and authenticate to the API server (src/k8s/kubeconfig.ts). */
export interface Connection {
  /** e.g. `https://10.0.0.1:443` */
  server: string;
  /** TLS material and options for the agent: ca, cert, key, rejectUnauthorized, servername. */
  tls: Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  /** Headers for each request (Authorization); called per request, so rotated tokens are picked up. */
  headers(): Promise<Record<string, string>>;
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

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestArgs {
  query?: Query;
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  /** Milliseconds without an answer before the request is abandoned (default 30 s). */
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

export class KubeClient {
  private readonly connection: Connection;
  private readonly agent: Agent;
  private readonly secure: boolean;
  /** Requests sent, by verb; for the operator's metrics and tests of its cost. */
  readonly sent = new Map<string, number>();

  constructor(connection: Connection) {
    this.connection = connection;
    this.secure = connection.server.startsWith('https:');
    // Keep-alive: a status write or Job create reuses a warm connection instead of a TLS handshake.
    this.agent = new Agent({ keepAlive: true, maxSockets: 64, ...connection.tls });
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

  patch<T>(path: string, body: unknown, contentType: 'application/json-patch+json' | 'application/merge-patch+json'): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType });
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  async request<T>(method: string, path: string, args: RequestArgs = {}): Promise<T> {
    const res = await this.open(method, path, args);
    const text = await readAll(res);
    if ((res.statusCode ?? 0) >= 300) throw new ApiError(res.statusCode ?? 0, text, retryAfter(res));
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * Opens a watch and calls `onEvent` for each event until the server ends the stream (resolves)
   * or it fails (rejects). `onOpen` is called once the server has accepted it.
   */
  async watch<T>(path: string, query: Query, handlers: WatchHandlers<T>): Promise<void> {
    const { signal, idleMs, onEvent } = handlers;
    const res = await this.open('GET', path, { query: { ...query, watch: true }, idleMs }, signal);
    if ((res.statusCode ?? 0) >= 300) throw new ApiError(res.statusCode ?? 0, await readAll(res), retryAfter(res));
    handlers.onOpen?.();
    res.setEncoding('utf8');
    let pending = '';
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: string) => {
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (!line.trim()) continue;
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

  private dropIdleConnections(): void {
    for (const sockets of Object.values(this.agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }

  private async open(method: string, path: string, args: RequestArgs, signal?: AbortSignal): Promise<IncomingMessage> {
    this.sent.set(method, (this.sent.get(method) ?? 0) + 1);
    const url = new URL(path, this.connection.server);
    for (const [k, v] of Object.entries(args.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = args.body === undefined ? undefined : JSON.stringify(args.body);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': 'hestia-operator',
      ...(await this.connection.headers()),
      ...(body !== undefined ? { 'Content-Type': args.contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(body)) } : {}),
    };
    const send = this.secure ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      let silence = `no answer within ${args.timeoutMs ?? REQUEST_TIMEOUT_MS} ms`;
      const req = send(url, { method, headers, ...(this.secure ? { agent: this.agent, ...this.connection.tls } : {}), ...(signal ? { signal } : {}) }, (res) => {
        if (args.idleMs !== undefined) {
          silence = `silent for ${args.idleMs} ms`;
          req.setTimeout(args.idleMs);
        }
        resolve(res);
      });
      req.setTimeout(args.timeoutMs ?? REQUEST_TIMEOUT_MS, () => {
        // A connection that stopped answering may mean the way to the server is gone (a stalled proxy or load
        // balancer); the idle connections kept for reuse went the same way, so none of them is reused.
        this.dropIdleConnections();
        req.destroy(new ApiError(0, `${method} ${url.pathname}: ${silence}`));
      });
      req.on('error', (err) => reject(err instanceof ApiError ? err : Object.assign(new ApiError(0, err.message), { cause: err })));
      req.end(body);
    });
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  return new Promise((resolve, reject) => {
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}

function retryAfter(res: IncomingMessage): number | undefined {
  const value = Number(res.headers['retry-after']);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

// A fault-injecting proxy on loopback in front of the real API server, for what a healthy server never
// does: requests that hang before or after the headers, watches accepted and closed at once, 410 storms,
// 429s with Retry-After, slow bodies, connections reset mid-stream. Everything else passes through to the
// real server untouched; there is no mocked API server here.
//
// It terminates TLS (a certificate for 127.0.0.1 made on first use, which `connection()` tells the client
// to trust) and re-originates it to the API server with the upstream Connection's own TLS material, so
// that its rules see HTTP requests (method, path, `watch=true`) and act per request, not per socket.
// Authorization headers pass through, so the client's identity is the one the API server sees (a
// client-certificate identity is the upstream Connection's). HTTP/1.1 only; upgrades are not proxied.
//
//   const proxy = await FaultProxy.start(await connectionOf(kc));
//   const client = new KubeClient(proxy.connection());
//   proxy.add({ match: { watch: true }, fault: { kind: 'watch-error', code: 410 } });
//   proxy.count({ method: 'GET', watch: false });   // LISTs and GETs seen so far
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { Connection } from '../../src/k8s/client.ts';

/** What the proxy does to a request a rule matches. */
export type Fault =
  /** Nothing ever comes back. With `forward`, the request still reaches the server (a write applied, its answer lost). */
  | { kind: 'hang-before-headers'; forward?: boolean }
  /** The server's status and headers come back, then nothing more, and the connection stays open. */
  | { kind: 'hang-after-headers' }
  /** The server's status and headers, then the body ends cleanly at once: a watch accepted and closed. */
  | { kind: 'close-at-once' }
  /** An answer of the proxy's own: a Status object with this code (410, 429 with Retry-After, 500, ...). */
  | { kind: 'status'; code: number; retryAfterSeconds?: number; message?: string }
  /** A 200 whose only event is an ERROR with this Status, then the end: the API server's 410 to a too-old watch. */
  | { kind: 'watch-error'; code: number; message?: string }
  /** The server's answer passes, no faster than this. */
  | { kind: 'slow-body'; bytesPerSecond: number }
  /** The headers and the first bytes of the body (or those of the first ms) pass, then the TCP connection is reset. */
  | { kind: 'reset-mid-stream'; afterBytes?: number; afterMs?: number };

/** A request as the proxy saw it. */
export interface SeenRequest {
  /** Date.now() when it arrived. */
  at: number;
  method: string;
  /** The path without the query, e.g. `/api/v1/namespaces/a/configmaps`. */
  path: string;
  query: URLSearchParams;
  /** `watch=true` (or `=1`) was asked for. */
  watch: boolean;
  headers: IncomingHttpHeaders;
  /** The fault applied to it, if any. */
  fault?: Fault['kind'];
}

/** Which requests a rule applies to: every field given must hold (a string path matches exactly). */
export interface RequestMatch {
  method?: string;
  path?: string | RegExp;
  watch?: boolean;
  /** Query parameters that must have these values. */
  query?: Record<string, string>;
}

export interface Rule {
  /** Default: every request. */
  match?: RequestMatch | ((request: SeenRequest) => boolean);
  fault: Fault;
  /** Applies to this many requests, then no more (default: no limit). */
  times?: number;
}

export interface RuleHandle {
  /** Requests this rule was applied to so far. */
  readonly hits: number;
  remove(): void;
}

interface ActiveRule extends Rule {
  hits: number;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

export class FaultProxy {
  /** Every request seen, oldest first. */
  readonly requests: SeenRequest[] = [];
  /** PEM of the proxy's certificate: the CA a client must trust to reach it. */
  readonly ca: string;
  private readonly upstream: Connection;
  private readonly upstreamAgent: Agent;
  private readonly tcp: TcpServer;
  private readonly http: HttpServer;
  private readonly rules: ActiveRule[] = [];
  /** The TCP socket under each TLS socket, to reset it (a TLS socket cannot send an RST itself). */
  private readonly rawOf = new WeakMap<Socket, Socket>();
  private readonly sockets = new Set<Socket>();

  private constructor(upstream: Connection) {
    this.upstream = upstream;
    // TLS material goes with each request (Connection.tls may change between requests).
    this.upstreamAgent = new Agent({ keepAlive: true });
    const { cert, key } = loopbackCertificate();
    this.ca = cert;
    const secureContext = createSecureContext({ cert, key });
    this.http = createHttpServer((req, res) => this.handle(req, res));
    // Watches are long; Node's defaults would end requests and idle sockets that the API server keeps.
    this.http.requestTimeout = 0;
    this.http.keepAliveTimeout = 120_000;
    this.tcp = createTcpServer((raw) => {
      this.sockets.add(raw);
      raw.on('close', () => this.sockets.delete(raw));
      raw.on('error', () => undefined);
      const tls = new TLSSocket(raw, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
      tls.on('error', () => undefined);
      this.rawOf.set(tls, raw);
      this.http.emit('connection', tls);
    });
  }

  /** A proxy on a free loopback port in front of `upstream` (e.g. `await connectionOf(kc)`). */
  static async start(upstream: Connection): Promise<FaultProxy> {
    const proxy = new FaultProxy(upstream);
    await new Promise<void>((resolve) => proxy.tcp.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.tcp.address() as { port: number }).port}`;
  }

  /** A connection through the proxy, with the upstream's credentials: give it to a KubeClient. */
  connection(): Connection {
    const tls = { ca: this.ca };
    return { server: this.url, tls, headers: () => this.upstream.headers(), unauthorized: () => this.upstream.unauthorized?.() };
  }

  /** Rules are tried in the order added; the first that matches (and has uses left) applies. */
  add(rule: Rule): RuleHandle {
    const active: ActiveRule = { ...rule, hits: 0 };
    this.rules.push(active);
    return {
      get hits() {
        return active.hits;
      },
      remove: () => {
        const i = this.rules.indexOf(active);
        if (i >= 0) this.rules.splice(i, 1);
      },
    };
  }

  /** Removes every rule: from now on everything passes. */
  clearRules(): void {
    this.rules.length = 0;
  }

  /** The requests seen that match, since `sinceMs` (a Date.now() value) if given. */
  seen(match: RequestMatch | ((request: SeenRequest) => boolean) = {}, sinceMs = 0): SeenRequest[] {
    return this.requests.filter((r) => r.at >= sinceMs && matches(match, r));
  }

  count(match: RequestMatch | ((request: SeenRequest) => boolean) = {}, sinceMs = 0): number {
    return this.seen(match, sinceMs).length;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.upstreamAgent.destroy();
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const watchParam = url.searchParams.get('watch');
    const seen: SeenRequest = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      watch: watchParam === 'true' || watchParam === '1',
      headers: req.headers,
    };
    this.requests.push(seen);
    const rule = this.rules.find((r) => (r.times === undefined || r.hits < r.times) && matches(r.match ?? {}, seen));
    if (rule) {
      rule.hits += 1;
      seen.fault = rule.fault.kind;
    }
    const fault = rule?.fault;
    res.on('error', () => undefined);
    switch (fault?.kind) {
      case 'status':
        return answerStatus(res, fault.code, fault.message ?? `injected by the fault proxy`, fault.retryAfterSeconds);
      case 'watch-error':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(`${JSON.stringify({ type: 'ERROR', object: statusObject(fault.code, fault.message ?? `injected by the fault proxy`) })}\n`);
        return;
      case 'hang-before-headers':
        if (fault.forward) this.forward(req, res, (upstream) => upstream.resume());
        else req.resume();
        return;
      default:
        this.forward(req, res, (upstream) => this.answer(req, res, upstream, fault));
    }
  }

  /** Sends the request on to the API server; `onAnswer` gets its answer (status and headers read). */
  private forward(req: IncomingMessage, res: ServerResponse, onAnswer: (upstream: IncomingMessage) => void): void {
    const target = new URL(req.url ?? '/', this.upstream.server);
    const headers = withoutHopByHop(req.headers);
    const out = httpsRequest(target, { method: req.method, headers, agent: this.upstreamAgent, ...this.upstream.tls }, onAnswer);
    // The client gone (aborted, timed out, reset) before its answer ended: so is its request to the server.
    res.on('close', () => res.writableFinished || out.destroy());
    out.on('error', () => res.destroy());
    req.pipe(out);
  }

  private answer(req: IncomingMessage, res: ServerResponse, upstream: IncomingMessage, fault: Fault | undefined): void {
    const headers = withoutHopByHop(upstream.headers);
    upstream.on('error', () => res.destroy());
    switch (fault?.kind) {
      case 'close-at-once':
        delete headers['content-length'];
        res.writeHead(upstream.statusCode ?? 502, headers);
        upstream.destroy();
        res.end();
        return;
      case 'hang-after-headers':
        res.writeHead(upstream.statusCode ?? 502, headers);
        res.flushHeaders();
        upstream.destroy();
        return;
      case 'reset-mid-stream': {
        res.writeHead(upstream.statusCode ?? 502, headers);
        res.flushHeaders();
        const reset = () => this.reset(req.socket, upstream);
        let left = fault.afterBytes ?? 0;
        if (fault.afterMs !== undefined) setTimeout(reset, fault.afterMs).unref();
        else if (left <= 0) return reset();
        upstream.on('data', (chunk: Buffer) => {
          if (fault.afterMs !== undefined) return void res.write(chunk);
          res.write(chunk.subarray(0, left));
          left -= chunk.length;
          if (left <= 0) reset();
        });
        return;
      }
      case 'slow-body':
        res.writeHead(upstream.statusCode ?? 502, headers);
        res.flushHeaders();
        void trickle(upstream, res, fault.bytesPerSecond);
        return;
      default:
        res.writeHead(upstream.statusCode ?? 502, headers);
        // A watch's headers go at once: the client counts it as open from then.
        res.flushHeaders();
        upstream.pipe(res);
    }
  }

  private reset(socket: Socket, upstream: IncomingMessage): void {
    upstream.destroy();
    const raw = this.rawOf.get(socket);
    if (raw && !raw.destroyed) raw.resetAndDestroy();
    else socket.destroy();
  }
}

function matches(match: RequestMatch | ((request: SeenRequest) => boolean), r: SeenRequest): boolean {
  if (typeof match === 'function') return match(r);
  if (match.method !== undefined && match.method.toUpperCase() !== r.method) return false;
  if (match.watch !== undefined && match.watch !== r.watch) return false;
  if (typeof match.path === 'string' && match.path !== r.path) return false;
  if (match.path instanceof RegExp && !match.path.test(r.path)) return false;
  return Object.entries(match.query ?? {}).every(([k, v]) => r.query.get(k) === v);
}

function withoutHopByHop(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

const REASONS: Record<number, string> = { 404: 'NotFound', 409: 'Conflict', 410: 'Expired', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' };

function statusObject(code: number, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? '', code };
}

function answerStatus(res: ServerResponse, code: number, message: string, retryAfterSeconds?: number): void {
  const body = JSON.stringify(statusObject(code, message));
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    ...(retryAfterSeconds !== undefined ? { 'Retry-After': String(retryAfterSeconds) } : {}),
  });
  res.end(body);
}

/** Copies `from` to `to` at about `bytesPerSecond`, in slices ten times a second. */
async function trickle(from: IncomingMessage, to: ServerResponse, bytesPerSecond: number): Promise<void> {
  const slice = Math.max(1, Math.floor(bytesPerSecond / 10));
  try {
    for await (const chunk of from as AsyncIterable<Buffer>) {
      for (let i = 0; i < chunk.length; i += slice) {
        if (to.destroyed) return;
        to.write(chunk.subarray(i, i + slice));
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    to.end();
  } catch {
    to.destroy();
  }
}

let certificate: { cert: string; key: string } | undefined;

/** A self-signed certificate for 127.0.0.1, made once per process (openssl takes a few milliseconds). */
function loopbackCertificate(): { cert: string; key: string } {
  if (certificate) return certificate;
  const dir = mkdtempSync(join(tmpdir(), 'fault-proxy-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=fault proxy', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    certificate = { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
    return certificate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

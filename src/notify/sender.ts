// One delivery: a POST of a payload to a Destination's address, within its timeout, through the address guard
// (src/net/address-guard.ts) unless local addresses are allowed, over HTTPS verified against the system's CAs (and the
// Secret's ca.crt, if it has one). Its answer says whether to try again. The words it gives name the destination's
// origin only — never its path or query, where a webhook keeps its secret — and never the receiver's body.
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { getCACertificates } from 'node:tls';
import { checkedLookup, hostOf, RefusedAddress, refusedLiteral } from '../net/address-guard.ts';
import type { Payload } from './payloads.ts';

/** Where a Destination delivers, with what it read from its Secret. */
export interface Target {
  url: URL;
  token?: string;
  /** PEM certificates trusted besides the system's. */
  ca?: string;
  timeoutMs: number;
  allowLocal: boolean;
}

export type Answer =
  | { ok: true; status: number }
  /** `retry`: worth trying again later; `retryAfterMs`: the receiver said when (429, 503 with Retry-After). */
  | { ok: false; retry: boolean; retryAfterMs?: number; reason: string };

const ALLOW_HINT = 'destinations on loopback, link-local and metadata addresses are off (HESTIA_NOTIFY_ALLOW_LOCAL=true allows them)';
/** What of a receiver's answer is read before the connection is let go: nothing is kept. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** "https://hooks.example.com" — what a message may say of a target. */
export const originOf = (url: URL): string => url.origin;

/** Seconds or an HTTP date, as Retry-After says; undefined when it says neither. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * 2xx is delivered; 408, 429 and 5xx are worth another try, and so are 401 and 403 (a token rotated in the Secret is
 * read again before the next attempt); any other answer is a refusal that will not change by itself.
 */
export function answerOfStatus(status: number, retryAfter: number | undefined): Answer {
  if (status >= 200 && status < 300) return { ok: true, status };
  const retry = status === 401 || status === 403 || status === 408 || status === 429 || status >= 500;
  return { ok: false, retry, reason: `answered ${status}`, ...(retry && retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}) };
}

/** A keep-alive agent per target: deliveries to one receiver reuse their connections. */
export function agentFor(target: Pick<Target, 'url' | 'ca'>, sockets: number): HttpAgent {
  const options = { keepAlive: true, maxSockets: sockets };
  // Node's default store (its bundled CAs and NODE_EXTRA_CA_CERTS), and the Secret's own CA beside them.
  return target.url.protocol === 'https:' ? new HttpsAgent({ ...options, ...(target.ca ? { ca: [...getCACertificates('default'), target.ca] } : {}) }) : new HttpAgent(options);
}

export function post(target: Target, payload: Payload, agent: HttpAgent): Promise<Answer> {
  const { url } = target;
  const refused = target.allowLocal ? null : refusedLiteral(url);
  if (refused) return Promise.resolve({ ok: false, retry: false, reason: `refused: ${refused}; ${ALLOW_HINT}` });
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers = {
    'user-agent': 'hestia-notifier',
    ...payload.headers,
    'content-length': String(Buffer.byteLength(payload.body)),
    ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
  };
  return new Promise<Answer>((resolve) => {
    let settled = false;
    const finish = (answer: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const req = send(url, { method: 'POST', headers, agent, ...(target.allowLocal ? {} : { lookup: checkedLookup(hostOf(url)) }) }, (res: IncomingMessage) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) res.destroy();
      });
      res.on('error', () => {});
      res.on('end', () => finish(answerOfStatus(res.statusCode ?? 0, retryAfterMs(res.headers['retry-after'], Date.now()))));
      res.on('close', () => finish(answerOfStatus(res.statusCode ?? 0, retryAfterMs(res.headers['retry-after'], Date.now()))));
    });
    const timer = setTimeout(() => {
      finish({ ok: false, retry: true, reason: `no answer within ${target.timeoutMs / 1000}s` });
      req.destroy();
    }, target.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof RefusedAddress) return finish({ ok: false, retry: false, reason: `refused: ${err.message}; ${ALLOW_HINT}` });
      finish({ ok: false, retry: true, reason: connectionWords(err, url) });
    });
    req.end(payload.body);
  });
}

/** Why a connection failed, naming the origin only. */
function connectionWords(err: NodeJS.ErrnoException, url: URL): string {
  const code = err.code ?? 'error';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve ${url.hostname} (${code})`;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code)) return `the TLS certificate of ${originOf(url)} is not trusted (${code})`;
  return `could not deliver to ${originOf(url)} (${code})`;
}

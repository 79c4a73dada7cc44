// The local web view's gate, as small pure functions: who may ask (the token the command printed, exchanged for a
// cookie), through which name (the Host header, against DNS rebinding), what may change things (the cookie, a custom
// header and our own Origin, against cross-site requests) and what the browser may load (the Content-Security-Policy).
// SECURITY.md "The local web view" says why each is there; src/ui/server.ts applies gate() to every request.
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits from the system's CSPRNG, URL-safe: the token in the printed URL and the session in the cookie. */
export const newSecret = (): string => randomBytes(32).toString('base64url');

/** Compares two secrets in time that does not depend on where they differ. */
export function secretsEqual(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The only names the server answers to: the loopback address it binds, or `localhost`, with its own port. Anything else
 * is a name some other site's DNS points at 127.0.0.1 (rebinding: `127.0.0.1.evil.com`, `localhost.`), a form the server
 * does not listen on (`[::1]`), or another port.
 */
export function hostAllowed(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const h = host.toLowerCase();
  return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
}

/** A state-changing request comes from a page of this server: its Origin is the origin the browser reached it by. */
export function originAllowed(origin: string | undefined, host: string, port: number): boolean {
  return hostAllowed(host, port) && origin !== undefined && origin.toLowerCase() === `http://${host.toLowerCase()}`;
}

/** The header a page of ours adds to a POST; a form or a link on another site cannot add one. */
export const CSRF_HEADER = 'x-hestia-ui';
export const CSRF_VALUE = '1';

/** One cookie per port: cookies are shared across ports of a host, and two `hestia ui` may run at once. */
export const cookieName = (port: number): string => `hestia_ui_${port}`;

/** Set-Cookie for the session: unreadable by scripts, never sent by another site's requests, valid for the whole server. */
export const sessionCookie = (port: number, session: string): string => `${cookieName(port)}=${session}; HttpOnly; SameSite=Strict; Path=/`;

/** The values of every cookie of this name in a Cookie header: another port of the host may have set one too. */
export function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** Nothing from another origin, no inline script or style, no framing, no forms, no <base>. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Sent with every response, whatever it is. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export interface Secrets {
  /** In the URL the command prints; exchanged for the session cookie once. */
  token: string;
  /** Set once the token has been exchanged: the URL, readable in a browser's command line, lets no one else in. */
  tokenSpent?: boolean;
  /** In the cookie; never in a URL. */
  session: string;
}

/** What the gate needs of a request. */
export interface GateRequest {
  method: string;
  /** The request target: path and query. */
  url: string;
  host: string | undefined;
  cookie: string | undefined;
  origin: string | undefined;
  /** The CSRF_HEADER's value. */
  csrf: string | undefined;
}

export type GateDecision =
  /** A request target that is not a path (an absolute or scheme-relative form, or no URL at all): 400. */
  | { kind: 'bad-request' }
  /** Not one of our names (DNS rebinding, another port): 421 Misdirected Request. */
  | { kind: 'misdirected' }
  /** The printed URL: set the cookie and send the browser to `location`, the same URL without the token. */
  | { kind: 'exchange'; location: string }
  /** No valid cookie (or a wrong token): 401, with a page that says to open the printed URL. */
  | { kind: 'unauthorized' }
  /** Signed in, but a state-changing request without the header or from another origin: 403. */
  | { kind: 'forbidden'; why: string }
  /** A method the view does not use: 405. */
  | { kind: 'method'; allowed: string }
  | { kind: 'pass' };

const SAFE_METHODS = ['GET', 'HEAD'];

/** The same path and query, without the token parameter. */
export function withoutToken(url: URL): string {
  const query = new URLSearchParams(url.search);
  query.delete('token');
  const rest = query.toString();
  // One leading slash only: `//evil.example/` would send the browser to another site.
  return `/${url.pathname.replace(/^\/+/, '')}${rest ? `?${rest}` : ''}`;
}

/** The request's URL, if its target is a path (origin-form), as the view's own links are. */
function pathTarget(target: string, host: string): URL | undefined {
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  try {
    return new URL(target, `http://${host}`);
  } catch {
    return undefined;
  }
}

/** Decides a request before any route sees it; the order matters: the Host first, so a rebound name learns nothing. */
export function gate(request: GateRequest, secrets: Secrets, port: number): GateDecision {
  if (!hostAllowed(request.host, port)) return { kind: 'misdirected' };
  const url = pathTarget(request.url, request.host!);
  if (!url) return { kind: 'bad-request' };
  const method = request.method.toUpperCase();
  const signedIn = cookieValues(request.cookie, cookieName(port)).some((value) => secretsEqual(value, secrets.session));
  if (method === 'GET' && url.searchParams.has('token')) {
    const tokenValid = !secrets.tokenSpent && secretsEqual(url.searchParams.get('token'), secrets.token);
    return signedIn || tokenValid ? { kind: 'exchange', location: withoutToken(url) } : { kind: 'unauthorized' };
  }
  if (!signedIn) return { kind: 'unauthorized' };
  if (SAFE_METHODS.includes(method)) return { kind: 'pass' };
  if (method !== 'POST') return { kind: 'method', allowed: 'GET, HEAD, POST' };
  if (request.csrf !== CSRF_VALUE) return { kind: 'forbidden', why: `a request that changes something needs the header ${CSRF_HEADER}: ${CSRF_VALUE}` };
  if (!originAllowed(request.origin, request.host!, port)) return { kind: 'forbidden', why: `a request that changes something must come from this page (Origin ${request.origin ?? '(none)'})` };
  return { kind: 'pass' };
}

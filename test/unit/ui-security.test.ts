// The web view's gate, function by function: the names it answers to, the token-for-cookie exchange, what a
// state-changing request needs, and the Content-Security-Policy every response carries.
import { describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY, SECURITY_HEADERS, cookieName, cookieValues, gate, hostAllowed, newSecret, originAllowed, secretsEqual,
  sessionCookie, withoutToken, type GateRequest,
} from '../../src/ui/security.ts';

const PORT = 48123;
const secrets = { token: 'tok-' + 'a'.repeat(40), session: 'ses-' + 'b'.repeat(40) };
const signedIn = `${cookieName(PORT)}=${secrets.session}`;
const request = (r: Partial<GateRequest>): GateRequest => ({ method: 'GET', url: '/', host: `127.0.0.1:${PORT}`, cookie: undefined, origin: undefined, csrf: undefined, ...r });

describe('the Host header (DNS rebinding)', () => {
  it.each([`127.0.0.1:${PORT}`, `localhost:${PORT}`, `LOCALHOST:${PORT}`])('answers to %s', (host) => {
    expect(hostAllowed(host, PORT)).toBe(true);
  });

  it.each([
    [`127.0.0.1.evil.com:${PORT}`, 'a name another site points at 127.0.0.1'],
    [`localhost.:${PORT}`, 'the fully qualified form of localhost'],
    [`evil.com:${PORT}`, 'another name'],
    [`[::1]:${PORT}`, 'IPv6 loopback, which the server does not bind'],
    [`[::ffff:127.0.0.1]:${PORT}`, 'IPv4-mapped IPv6'],
    [`127.0.0.1:${PORT + 1}`, 'another port'],
    ['127.0.0.1', 'no port'],
    [`127.0.0.1:${PORT}@evil.com`, 'userinfo tricks'],
    [`127.0.0.1:0${PORT}`, 'a padded port'],
    [`0.0.0.0:${PORT}`, 'the any address'],
    [`127.0.0.2:${PORT}`, 'another loopback address'],
    ['', 'an empty header'],
    [undefined, 'no header at all'],
  ])('refuses %s (%s)', (host, _why) => {
    expect(hostAllowed(host, PORT)).toBe(false);
  });
});

describe('the Origin of a state-changing request (CSRF)', () => {
  it('is accepted only when it is the origin the page was reached by', () => {
    expect(originAllowed(`http://127.0.0.1:${PORT}`, `127.0.0.1:${PORT}`, PORT)).toBe(true);
    expect(originAllowed(`http://localhost:${PORT}`, `localhost:${PORT}`, PORT)).toBe(true);
  });

  it.each([
    ['http://evil.com', 'another site'],
    [`http://localhost:${PORT}`, 'the other loopback name than the Host'],
    [`https://127.0.0.1:${PORT}`, 'another scheme'],
    [`http://127.0.0.1:${PORT + 1}`, 'another port'],
    ['null', 'an opaque origin (a sandboxed frame, a file)'],
    [undefined, 'no Origin'],
  ])('refuses %s (%s)', (origin, _why) => {
    expect(originAllowed(origin, `127.0.0.1:${PORT}`, PORT)).toBe(false);
  });
});

describe('the token and the cookie', () => {
  it('makes secrets of 256 bits, URL-safe, never the same twice', () => {
    const a = newSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(newSecret()).not.toBe(a);
  });

  it('compares secrets exactly', () => {
    expect(secretsEqual(secrets.token, secrets.token)).toBe(true);
    expect(secretsEqual(secrets.token.slice(0, -1), secrets.token)).toBe(false);
    expect(secretsEqual(`${secrets.token}x`, secrets.token)).toBe(false);
    expect(secretsEqual('', secrets.token)).toBe(false);
    expect(secretsEqual(undefined, secrets.token)).toBe(false);
    expect(secretsEqual(null, secrets.token)).toBe(false);
  });

  it('sets a session cookie that scripts cannot read and other sites cannot send, named for its port', () => {
    expect(sessionCookie(PORT, 'xyz')).toBe(`hestia_ui_${PORT}=xyz; HttpOnly; SameSite=Strict; Path=/`);
    expect(cookieName(PORT)).not.toBe(cookieName(PORT + 1));
  });

  it('reads its cookie among others', () => {
    expect(cookieValues(`a=1; ${cookieName(PORT)}=v=w; b=2`, cookieName(PORT))).toEqual(['v=w']);
    expect(cookieValues(`${cookieName(PORT + 1)}=other`, cookieName(PORT))).toEqual([]);
    expect(cookieValues(undefined, cookieName(PORT))).toEqual([]);
  });

  it('is not locked out by a cookie of the same name that another port of the host planted before its own', () => {
    expect(gate(request({ url: '/api/runners', cookie: `${cookieName(PORT)}=planted; ${signedIn}` }), secrets, PORT)).toEqual({ kind: 'pass' });
  });

  it('refuses a target that is not a path (absolute or scheme-relative form, or no URL at all) without throwing', () => {
    for (const url of ['http://[', 'http://127.0.0.1:1/', '//evil.example/', '*', '']) {
      expect(gate(request({ url, cookie: signedIn }), secrets, PORT), url).toEqual({ kind: 'bad-request' });
    }
  });

  it('never sends the browser to another site after the exchange (no open redirect)', () => {
    expect(gate(request({ url: `/a/..//evil.example/?token=${secrets.token}` }), secrets, PORT)).toEqual({ kind: 'exchange', location: '/evil.example/' });
  });

  it('takes the token once: after the exchange it lets no one else in, and a signed-in browser that opens the URL again is just sent on', () => {
    const once = { ...secrets, tokenSpent: true };
    expect(gate(request({ url: `/?token=${secrets.token}` }), once, PORT)).toEqual({ kind: 'unauthorized' });
    expect(gate(request({ url: `/?token=${secrets.token}`, cookie: signedIn }), once, PORT)).toEqual({ kind: 'exchange', location: '/' });
  });

  it('exchanges the printed URL for the cookie, and sends the browser to the same URL without the token', () => {
    expect(gate(request({ url: `/?token=${secrets.token}` }), secrets, PORT)).toEqual({ kind: 'exchange', location: '/' });
    expect(gate(request({ url: `/?a=1&token=${secrets.token}` }), secrets, PORT)).toEqual({ kind: 'exchange', location: '/?a=1' });
    expect(withoutToken(new URL('http://x/p?token=t&b=2'))).toBe('/p?b=2');
  });

  it('refuses a wrong token, and a request with neither token nor cookie', () => {
    expect(gate(request({ url: '/?token=guess' }), secrets, PORT)).toEqual({ kind: 'unauthorized' });
    expect(gate(request({ url: '/' }), secrets, PORT)).toEqual({ kind: 'unauthorized' });
    expect(gate(request({ url: '/api/runners' }), secrets, PORT)).toEqual({ kind: 'unauthorized' });
  });

  it('does not take the token in place of the cookie, nor the session in place of the token', () => {
    expect(gate(request({ url: '/api/runners', cookie: `${cookieName(PORT)}=${secrets.token}` }), secrets, PORT)).toEqual({ kind: 'unauthorized' });
    expect(gate(request({ url: `/?token=${secrets.session}` }), secrets, PORT)).toEqual({ kind: 'unauthorized' });
  });

  it('lets a signed-in browser read', () => {
    expect(gate(request({ url: '/api/runners', cookie: signedIn }), secrets, PORT)).toEqual({ kind: 'pass' });
    expect(gate(request({ method: 'HEAD', url: '/', cookie: signedIn }), secrets, PORT)).toEqual({ kind: 'pass' });
  });

  it('checks the Host before anything: a rebound name is refused even with the right token or cookie', () => {
    const host = `127.0.0.1.evil.com:${PORT}`;
    expect(gate(request({ host, url: `/?token=${secrets.token}` }), secrets, PORT)).toEqual({ kind: 'misdirected' });
    expect(gate(request({ host, cookie: signedIn }), secrets, PORT)).toEqual({ kind: 'misdirected' });
  });
});

describe('a state-changing request', () => {
  const post = (r: Partial<GateRequest>) => gate(request({ method: 'POST', url: '/api/runners/qa/smoke/trigger', ...r }), secrets, PORT);
  const origin = `http://127.0.0.1:${PORT}`;

  it('passes with the cookie, the custom header and our own Origin', () => {
    expect(post({ cookie: signedIn, csrf: '1', origin })).toEqual({ kind: 'pass' });
  });

  it('is refused without the cookie', () => {
    expect(post({ csrf: '1', origin })).toEqual({ kind: 'unauthorized' });
  });

  it('is refused without the custom header (a form on another site cannot send one)', () => {
    expect(post({ cookie: signedIn, origin })).toMatchObject({ kind: 'forbidden' });
    expect(post({ cookie: signedIn, origin, csrf: 'yes' })).toMatchObject({ kind: 'forbidden' });
  });

  it('is refused from another Origin, or with none', () => {
    expect(post({ cookie: signedIn, csrf: '1', origin: 'http://evil.com' })).toMatchObject({ kind: 'forbidden' });
    expect(post({ cookie: signedIn, csrf: '1' })).toMatchObject({ kind: 'forbidden' });
  });

  it('cannot be made with the token in the URL', () => {
    expect(post({ url: `/api/runners/qa/smoke/trigger?token=${secrets.token}`, csrf: '1', origin })).toEqual({ kind: 'unauthorized' });
  });

  it('by another method than POST is not allowed', () => {
    expect(gate(request({ method: 'DELETE', url: '/api/runners/qa/smoke', cookie: signedIn, csrf: '1', origin }), secrets, PORT)).toMatchObject({ kind: 'method' });
  });
});

describe('the Content-Security-Policy', () => {
  it('allows nothing but this origin, no inline script or style, no framing, forms or <base>', () => {
    expect(CONTENT_SECURITY_POLICY).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|https?:|data:|\*/);
  });

  it('is sent with the other headers that keep the page to itself', () => {
    expect(SECURITY_HEADERS).toMatchObject({
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
  });
});

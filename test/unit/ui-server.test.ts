// The web view's server over real HTTP on 127.0.0.1, with a stub in place of the cluster: the gate on every route,
// the JSON of each page, the live feed, Trigger and its refusals. The page itself is tested in a browser elsewhere.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import type { DiagramRenderer } from '../../src/ui/diagram.ts';
import { route, startUi, type RunningUi } from '../../src/ui/server.ts';
import { stubSource, uiRunner, type StubSource } from './support/ui-stub-source.ts';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request with exactly these headers (fetch would not let a test set Host). */
function call(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An open event stream: `until` resolves once what has arrived satisfies the predicate. */
function stream(port: number, cookie: string) {
  let received = '';
  const waiters: Array<{ test: (s: string) => boolean; resolve: () => void }> = [];
  let ended = false;
  let endedResolve: () => void = () => {};
  const endedPromise = new Promise<void>((r) => (endedResolve = r));
  const req = httpRequest({ host: '127.0.0.1', port, path: '/api/events', headers: { host: `127.0.0.1:${port}`, cookie } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      received += c;
      for (const w of [...waiters]) if (w.test(received)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
    });
    res.on('end', () => ((ended = true), endedResolve()));
  });
  req.end();
  return {
    until: (test: (s: string) => boolean) => (test(received) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ test, resolve }))),
    get received() {
      return received;
    },
    ended: () => endedPromise.then(() => ended),
    close: () => req.destroy(),
  };
}

const diagrams: DiagramRenderer = {
  litKey: (r: Runner) => JSON.stringify(r.status?.state ?? null),
  svg: async (r: Runner) => `<svg xmlns="http://www.w3.org/2000/svg"><g id="state-${r.status?.state}" class="node state lit"/></svg>`,
};

const forbidden = { code: 403, body: JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'runners.e2e.stakater.com "smoke" is forbidden: User "viewer" cannot patch resource "runners" in API group "e2e.stakater.com" in the namespace "qa"' }) };

describe('the web view server', () => {
  let source: StubSource;
  let ui: RunningUi;
  let port: number;
  let cookie: string;

  beforeAll(async () => {
    source = stubSource([uiRunner('smoke', 'qa', { state: 'WaitingForWorkloads', message: 'waiting for Deployment shop/cart' }), uiRunner('e2e', 'qa', { state: 'Succeeded' })]);
    ui = await startUi({ source, diagrams, port: 0 });
    port = Number(new URL(ui.origin).port);
    const exchange = await call(port, 'GET', new URL(ui.url).pathname + new URL(ui.url).search);
    cookie = exchange.headers['set-cookie']![0]!.split(';')[0]!;
  });

  afterAll(async () => {
    await ui.close();
  });

  afterEach(() => {
    source.failures.clear();
  });

  describe('signing in', () => {
    it('prints a URL on 127.0.0.1 whose token has at least 128 bits', () => {
      expect(ui.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const token = new URL(ui.url).searchParams.get('token')!;
      expect(Buffer.from(token, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    });

    it('exchanges the token once for an HttpOnly, SameSite=Strict cookie and sends the browser on without the token', async () => {
      const fresh = await startUi({ source, diagrams, port: 0 });
      try {
        const freshPort = Number(new URL(fresh.origin).port);
        const target = new URL(fresh.url).pathname + new URL(fresh.url).search;
        const reply = await call(freshPort, 'GET', target);
        expect(reply.status).toBe(303);
        expect(reply.headers.location).toBe('/');
        expect(reply.headers['set-cookie']![0]).toMatch(new RegExp(`^hestia_ui_${freshPort}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/$`));
        expect(reply.headers['set-cookie']![0]).not.toContain(new URL(fresh.url).searchParams.get('token')!);
        expect((await call(freshPort, 'GET', target)).status).toBe(401);
      } finally {
        await fresh.close();
      }
    });

    it('answers a request line whose target is not a path with 400, and goes on serving', async () => {
      const { connect } = await import('node:net');
      const answer = await new Promise<string>((resolve, reject) => {
        let data = '';
        const socket = connect(port, '127.0.0.1', () => socket.write(`GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect((await call(port, 'GET', '/api/runners', { cookie })).status).toBe(200);
    });

    it('answers every request without the cookie with 401 and a page that says to use the printed URL', async () => {
      for (const path of ['/', '/app.js', '/api/runners', '/api/events', '/api/runners/qa/smoke', '/?token=wrong']) {
        const reply = await call(port, 'GET', path);
        expect(reply.status, path).toBe(401);
        expect(reply.body).toContain('Open the URL that `hestia ui` printed');
        expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
      }
    });

    it('serves the page once signed in, with the cookie', async () => {
      const reply = await call(port, 'GET', '/', { cookie });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(reply.body).toContain('<script type="module" src="/app.js"></script>');
    });
  });

  describe('the Host header (DNS rebinding)', () => {
    it.each([`127.0.0.1.evil.com:PORT`, 'localhost.:PORT', '[::1]:PORT', 'evil.com:PORT', '127.0.0.1:1'])('refuses %s with 421, even signed in', async (host) => {
      const reply = await call(port, 'GET', '/api/runners', { cookie, host: host.replace('PORT', String(port)) });
      expect(reply.status).toBe(421);
      expect(reply.body).not.toContain('smoke');
    });

    it('answers to localhost with its port too', async () => {
      expect((await call(port, 'GET', '/api/runners', { cookie, host: `localhost:${port}` })).status).toBe(200);
    });
  });

  describe('the headers of every response', () => {
    it.each(['/', '/app.js', '/style.css', '/api/runners', '/api/runners/qa/smoke', '/nothing-here'])('%s carries the CSP, nosniff and no-referrer', async (path) => {
      const reply = await call(port, 'GET', path, { cookie });
      expect(reply.headers['content-security-policy']).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['referrer-policy']).toBe('no-referrer');
    });

    it('so do the refusals', async () => {
      for (const reply of [await call(port, 'GET', '/'), await call(port, 'GET', '/', { host: 'evil.com' })]) {
        expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
      }
    });

    it('the API is never cached', async () => {
      for (const path of ['/api/runners', '/api/runners/qa/smoke', '/api/runners/qa/smoke/diagram.svg', '/api/runners/qa/smoke/logs']) {
        expect((await call(port, 'GET', path, { cookie })).headers['cache-control'], path).toBe('no-store');
      }
    });
  });

  describe('the pages', () => {
    it('lists the Runners of the scope', async () => {
      const reply = await call(port, 'GET', '/api/runners', { cookie });
      expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = JSON.parse(reply.body);
      expect(body).toMatchObject({ scope: 'namespace qa', allNamespaces: false, health: { ok: true } });
      expect(body.rows.map((r: { key: string; state: string }) => [r.key, r.state])).toEqual([
        ['qa/e2e', 'Succeeded'],
        ['qa/smoke', 'WaitingForWorkloads'],
      ]);
    });

    it("shows one Runner with its history and the key of its diagram's lit state", async () => {
      source.jobs.set('qa/smoke', []);
      const body = JSON.parse((await call(port, 'GET', '/api/runners/qa/smoke', { cookie })).body);
      expect(body).toMatchObject({ row: { key: 'qa/smoke', state: 'WaitingForWorkloads' }, history: [], problems: [], litKey: '"WaitingForWorkloads"' });
    });

    it('shows the rest when the Jobs or Events may not be read', async () => {
      source.failures.set('events', forbidden);
      const body = JSON.parse((await call(port, 'GET', '/api/runners/qa/smoke', { cookie })).body);
      expect(body.problems).toEqual([expect.stringMatching(/^not allowed to read the Events of Runner qa\/smoke \(403\): runners\.e2e\.stakater\.com "smoke" is forbidden/)]);
      expect(body.row.key).toBe('qa/smoke');
    });

    it('serves the diagram as SVG', async () => {
      const reply = await call(port, 'GET', '/api/runners/qa/smoke/diagram.svg', { cookie });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
      expect(reply.body).toContain('id="state-WaitingForWorkloads" class="node state lit"');
      expect(decodeURIComponent(String(reply.headers['x-hestia-lit-key']))).toBe('"WaitingForWorkloads"');
    });

    it('says 404 for a Runner the watch has not seen, or one outside its scope', async () => {
      for (const path of ['/api/runners/qa/missing', '/api/runners/other/smoke', '/api/runners/qa/missing/diagram.svg']) {
        const reply = await call(port, 'GET', path, { cookie });
        expect(reply.status, path).toBe(404);
        expect(JSON.parse(reply.body).error).toContain('is not among the Runners this view watches (namespace qa)');
      }
    });

    it("reads a run's logs: each attempt, the termination message, and what could not be read", async () => {
      const runner = uiRunner('logged', 'qa', { state: 'Failed', lastRun: { jobName: 'logged-1', revision: 'r', trigger: 't', reason: 'Revision', startTime: '2026-12-01T10:00:00Z', result: 'Failed' } });
      source.put(runner);
      source.jobs.set('qa/logged', [{ metadata: { name: 'logged-1', namespace: 'qa', uid: 'j1' }, spec: { template: { spec: { containers: [{ name: 'check' }] } } } }]);
      source.pods.set('logged-1', [
        { metadata: { name: 'logged-1-a', namespace: 'qa', creationTimestamp: new Date('2026-12-01T10:00:00Z') }, status: { phase: 'Failed', containerStatuses: [{ name: 'check', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 3, message: '<b>not html</b>' } } }] } },
      ]);
      source.logs.set('logged-1-a/check', 'line 1\n<script>alert(1)</script>\n');
      const body = JSON.parse((await call(port, 'GET', '/api/runners/qa/logged/logs?job=logged-1', { cookie })).body);
      expect(body).toMatchObject({ kind: 'logs', job: 'logged-1', sections: [{ pod: 'logged-1-a', container: 'check', text: 'line 1\n<script>alert(1)</script>\n', terminationMessage: '<b>not html</b>', problem: null }] });

      source.failures.set('log', forbidden);
      const refused = JSON.parse((await call(port, 'GET', '/api/runners/qa/logged/logs', { cookie })).body);
      expect(refused.sections[0].problem).toContain('not allowed to read the log of pod qa/logged-1-a (403)');

      source.failures.set('jobs', forbidden);
      const noJobs = await call(port, 'GET', '/api/runners/qa/logged/logs', { cookie });
      expect(noJobs.status).toBe(403);
      expect(JSON.parse(noJobs.body).error).toContain('not allowed to list the Jobs of Runner qa/logged (403)');
    });

    it('says why there is no log to show', async () => {
      const body = JSON.parse((await call(port, 'GET', '/api/runners/qa/e2e/logs', { cookie })).body);
      expect(body).toMatchObject({ kind: 'none', message: expect.stringContaining('has not run yet') });
    });

    it('answers a method no route takes with 405', async () => {
      expect((await call(port, 'PUT', '/api/runners/qa/smoke', { cookie })).status).toBe(405);
      expect((await call(port, 'GET', '/api/runners/qa/smoke/trigger', { cookie })).status).toBe(405);
    });
  });

  describe('Trigger (CSRF)', () => {
    const trigger = (headers: Record<string, string>) => call(port, 'POST', '/api/runners/qa/smoke/trigger', headers);
    const own = () => ({ 'x-hestia-ui': '1', origin: ui.origin });

    it('requests a run with the cookie, the custom header and our own Origin', async () => {
      const before = source.triggered.length;
      const reply = await trigger({ cookie, ...own() });
      expect(reply.status).toBe(202);
      const body = JSON.parse(reply.body);
      expect(body).toMatchObject({ runner: 'qa/smoke', annotation: 'runner.stakater.com/trigger', trigger: expect.stringMatching(/^cli-/) });
      expect(source.triggered.slice(before)).toEqual([{ runner: 'qa/smoke', value: body.trigger }]);
    });

    it.each([
      ['no cookie', {}, 401],
      ['no custom header', { origin: 'ORIGIN' }, 403],
      ['another Origin', { 'x-hestia-ui': '1', origin: 'http://evil.com' }, 403],
      ['no Origin', { 'x-hestia-ui': '1' }, 403],
    ])('is refused with %s', async (_, headers: Record<string, string>, status) => {
      const before = source.triggered.length;
      const withCookie = status === 401 ? { ...own() } : { cookie, ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v === 'ORIGIN' ? ui.origin : v])) };
      const reply = await trigger(withCookie);
      expect(reply.status).toBe(status);
      expect(source.triggered.length).toBe(before);
    });

    it("relays the API server's refusal of a user who may not patch, with its message", async () => {
      source.failures.set('trigger', forbidden);
      const reply = await trigger({ cookie, ...own() });
      expect(reply.status).toBe(403);
      expect(JSON.parse(reply.body)).toEqual({
        error: 'not allowed to patch Runner qa/smoke (403): triggering needs patch on runners (kubectl auth can-i patch runners.e2e.stakater.com -n qa)',
        apiServer: 'runners.e2e.stakater.com "smoke" is forbidden: User "viewer" cannot patch resource "runners" in API group "e2e.stakater.com" in the namespace "qa" (HTTP 403)',
      });
    });
  });

  describe('the live feed', () => {
    it('sends the list first, then each change, as it happens', async () => {
      const events = stream(port, cookie);
      await events.until((s) => s.includes('event: snapshot'));
      expect(events.received).toMatch(/event: snapshot\ndata: \{"scope":"namespace qa","allNamespaces":false,"rows":\[.*"key":"qa\/smoke"/);

      const runner = uiRunner('smoke', 'qa', { state: 'Running', message: 'running Job smoke-2' });
      source.put(runner);
      await events.until((s) => /event: upsert\ndata: \{"key":"qa\/smoke"[^\n]*"state":"Running"/.test(s));

      source.setHealth({ ok: false, message: 'cannot watch the Runners of namespace qa: forbidden (HTTP 403)' });
      await events.until((s) => s.includes('event: health\ndata: {"ok":false,"message":"cannot watch the Runners of namespace qa: forbidden (HTTP 403)"}'));

      source.remove(uiRunner('e2e'));
      await events.until((s) => s.includes('event: delete\ndata: {"key":"qa/e2e","namespace":"qa","name":"e2e"}'));
      events.close();
    });

    it('is refused without the cookie', async () => {
      expect((await call(port, 'GET', '/api/events')).status).toBe(401);
    });
  });

  describe('routes', () => {
    const at = (path: string, method = 'GET') => route(method, new URL(path, 'http://127.0.0.1'));

    it('serves only the files it names', () => {
      expect(at('/app.js')).toEqual({ kind: 'static', path: '/app.js' });
      for (const path of ['/static/app.js', '/../package.json', '/index.html', '/server.ts', '/%2e%2e/server.ts']) expect(at(path), path).toEqual({ kind: 'not-found' });
    });

    it('takes only Kubernetes names as a namespace, a Runner or a Job', () => {
      expect(at('/api/runners/qa/smoke/logs?job=smoke-1')).toEqual({ kind: 'logs', namespace: 'qa', name: 'smoke', job: 'smoke-1' });
      expect(at('/api/runners/qa/smoke/trigger', 'POST')).toEqual({ kind: 'trigger', namespace: 'qa', name: 'smoke' });
      for (const path of ['/api/runners/qa/..%2F..%2Fsecrets', '/api/runners/QA/smoke', '/api/runners/qa/%E0%A4%A', '/api/runners/qa/smoke/logs?job=..%2Fx', '/api/runners/qa/a%3Cb']) {
        expect(at(path), path).toEqual({ kind: 'not-found' });
      }
    });
  });
});

describe('the page files', () => {
  const dir = new URL('../../src/ui/static/', import.meta.url);

  it('put strings in the page only as text: no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval', async () => {
    for (const name of (await readdir(dir)).filter((f) => f.endsWith('.js'))) {
      const code = await readFile(new URL(name, dir), 'utf8');
      expect(code, name).not.toMatch(/\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setAttribute\(\s*['"]on/);
    }
  });

  it('have no inline script or style for the CSP to block, and load nothing from elsewhere', async () => {
    for (const name of await readdir(dir)) {
      const text = await readFile(new URL(name, dir), 'utf8');
      expect(text, name).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
  });
});

describe('closing', () => {
  it('ends the open streams and stops listening', async () => {
    const source = stubSource([uiRunner('smoke')]);
    const ui = await startUi({ source, diagrams });
    const port = Number(new URL(ui.origin).port);
    const token = new URL(ui.url).search;
    const cookie = (await call(port, 'GET', `/${token}`)).headers['set-cookie']![0]!.split(';')[0]!;
    const events = stream(port, cookie);
    await events.until((s) => s.includes('event: snapshot'));
    await ui.close();
    expect(await events.ended()).toBe(true);
    expect(source.listeners()).toBe(0);
    await expect(call(port, 'GET', '/')).rejects.toThrow(/ECONNREFUSED/);
  });
});

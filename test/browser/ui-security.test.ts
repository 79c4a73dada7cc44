// `hestia ui`'s security cases (SECURITY.md "The local web view"), each shown on the real control plane with the real
// operator and in a real browser: cluster text rendered as text (XSS), rebound names refused (DNS rebinding), a Trigger
// only from the page itself (CSRF), the token exchanged for an HttpOnly cookie, the Content-Security-Policy, and the
// API server's refusal shown to a user who may not patch a Runner. Each test names its case in parentheses, so that
// the issue's closing note can cite it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATION_TRIGGER, GROUP, PLURAL, VERSION } from '../../src/api/runner.ts';
import { Operator } from '../../src/operator/operator.ts';
import { CONTENT_SECURITY_POLICY, cookieName } from '../../src/ui/security.ts';
import { startUi, type RunningUi } from '../../src/ui/server.ts';
import { operatorClient } from '../integration/support/identity.ts';
import {
  createDeployment, createNamespace, createRunner, deleteNamespace, ENABLE, getRunner, installCrd, jobsOf, kc, patchRunner, runnerManifest, stays,
  waitFor, waitForRunner,
} from '../integration/support/kube.ts';
import { servePodLogs, withPods } from '../integration/support/pod-behaviour.ts';
import { grant, kubeConfigAs } from '../integration/support/users.ts';
import { launchBrowser } from './support/browser.ts';

// Markup that would run or load something if the page took cluster text for HTML; each sets its own mark.
const img = (mark: number) => `<img src=x onerror="window.__pwned=${mark}">`;
const script = (mark: number) => `<script>window.__pwned=${mark}</script>`;
/** A pod's termination message, written by kwok's failure stage from the pod template's annotation. */
const TERMINATION = `${img(1)} ${script(2)} javascript:alert(1) https://evil.example/termination`;
/** The trigger annotation, which the operator quotes in status.lastRun.trigger and status.message. */
const TRIGGER = `${script(3)}${img(4)}`;
/** Every pod's log in the namespace (servePodLogs). */
const LOG = `checking ${img(5)}\n${script(6)}\nsee https://evil.example/logs or javascript:alert(1)\n`;
/** The path of a probe's URL, which status.probes[].url repeats as the Runner has it. */
const PROBE_PATH = `/${img(7)}?next=javascript:alert(1)`;

/** kwok's failure stage (test/cluster/README.md): its annotations set a failed container's termination message. */
const KWOK_FAIL = 'pod-container-running-failed.stage.kwok.x-k8s.io';

/** Names that an attacker's DNS points at 127.0.0.1; the browser resolves them so (--host-resolver-rules). */
const REBOUND_NAMES = ['evil.example', '127.0.0.1.evil.example'];

/** A page of ours waits at most this long for an element, well within a test's timeout even on a busy machine. */
const PAGE_WAIT_MS = 30_000;
/** How long a run that was wrongly requested would take to show as a Job: the operator acts within a second or two. */
const NO_RUN_WINDOW_MS = 5_000;

let ns = '';
let operator: Operator | undefined;
let ui: RunningUi | undefined;
let viewerUi: RunningUi | undefined;
let browser: Browser | undefined;
let probeServer: Server | undefined;
let attackerServer: Server | undefined;
let attackerOrigin = '';
let workDir = '';
const cleanups: (() => Promise<unknown>)[] = [];

const originOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const listen = (server: Server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const closeServer = (server: Server | undefined) => new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve()));

const triggerPath = (name: string) => `/api/runners/${ns}/${name}/trigger`;

/** Pages of another origin (another port of 127.0.0.1) that try to trigger a run of the Runner named in `?runner=`. */
function attackerPage(path: string, target: string): string | null {
  const url = JSON.stringify(target);
  const record = `.then((r) => { window.outcome = 'answered ' + r.status + ' ' + r.type; }, (e) => { window.outcome = 'rejected: ' + e.message; })`;
  switch (path) {
    case '/fetch':
      return `<script>fetch(${url}, { method: 'POST', credentials: 'include', headers: { 'X-Hestia-UI': '1' } })${record};</script>`;
    case '/no-cors':
      return `<script>fetch(${url}, { method: 'POST', mode: 'no-cors', credentials: 'include' })${record};</script>`;
    case '/form':
      return `<form id="f" method="POST" action=${url}><input name="run" value="1"></form><script>addEventListener('load', () => document.getElementById('f').submit());</script>`;
    default:
      return null;
  }
}

function serveAttacker(): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = attackerPage(url.pathname, `${ui!.origin}${triggerPath(url.searchParams.get('runner') ?? '')}`);
    if (body === null) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head><meta charset="utf-8"><title>elsewhere</title></head><body>${body}</body></html>`);
  });
}

/** A probe endpoint that answers 204 to any path. */
const serveProbe = () => createServer((_req, res) => void res.writeHead(204).end());

/**
 * Before any script of a page: records Content-Security-Policy violations, and every element made that could run or
 * load something (a script without src, an img other than the icon, a frame, any on* attribute), even if removed later.
 * A string, as it runs in the page (init scripts are exempt from the page's CSP).
 */
const WATCH_PAGE = `
window.__violations = [];
window.__made = [];
addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
const risky = (el) =>
  (el.localName === 'script' && !el.hasAttribute('src')) ||
  ['iframe', 'frame', 'object', 'embed'].includes(el.localName) ||
  (el.localName === 'img' && el.getAttribute('src') !== '/icon.svg') ||
  [...el.attributes].some((a) => a.name.toLowerCase().startsWith('on'));
const note = (el) => { if (risky(el)) window.__made.push(el.outerHTML.slice(0, 200)); };
new MutationObserver((records) => {
  for (const r of records) {
    if (r.type === 'attributes' && r.attributeName.toLowerCase().startsWith('on')) note(r.target);
    for (const n of r.addedNodes) if (n.nodeType === 1) { note(n); n.querySelectorAll('*').forEach(note); }
  }
}).observe(document, { childList: true, subtree: true, attributes: true });
`;

/** A tab in a browser context of its own (its own cookies), watched from its first script. */
async function newTab(): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_WAIT_MS);
  await page.addInitScript(WATCH_PAGE);
  return page;
}

/** What the page's watch recorded. */
const watched = (page: Page) =>
  page.evaluate(() => {
    const w = globalThis as unknown as { __violations: string[]; __made: string[]; __pwned?: unknown };
    return { violations: w.__violations, made: w.__made, pwned: w.__pwned ?? null };
  });

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request to the web view through node:http, which sends the Host header it is given (a browser would send the
 * name it resolved). `headersOnly`: answer once the headers are in (for the event stream, which does not end).
 */
function ask(path: string, options: { method?: string; headers?: Record<string, string>; headersOnly?: boolean } = {}, to: RunningUi = ui!): Promise<Answer> {
  const port = Number(new URL(to.origin).port);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      if (options.headersOnly) {
        resolve({ status: res.statusCode!, headers: res.headers, body: '' });
        return void res.destroy();
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const sessions = new Map<RunningUi, string>();

/**
 * The session cookie (`name=value`) of `to`: the printed URL opened once, as a browser would (the token is taken
 * once, so every later caller shares that session).
 */
async function signIn(to: RunningUi = ui!): Promise<string> {
  const known = sessions.get(to);
  if (known) return known;
  const { pathname, search } = new URL(to.url);
  const answer = await ask(`${pathname}${search}`, {}, to);
  expect(answer.status).toBe(303);
  const cookie = (answer.headers['set-cookie'] ?? [])[0]?.split(';')[0];
  if (!cookie) throw new Error('signing in set no cookie');
  sessions.set(to, cookie);
  return cookie;
}

/** Opens the printed URL in `page` as the browser that holds the session does (`to`'s token is spent by then). */
async function enter(page: Page, to: RunningUi = ui!): Promise<void> {
  const cookie = await signIn(to);
  const eq = cookie.indexOf('=');
  await page.context().addCookies([{ name: cookie.slice(0, eq), value: cookie.slice(eq + 1), url: to.origin }]);
  await page.goto(to.url);
}

const triggerOf = async (name: string) => (await getRunner(ns, name)).metadata.annotations?.[ANNOTATION_TRIGGER] ?? null;
const jobCount = async (name: string) => (await jobsOf(ns, name)).length;

/** Waits until the Runner's first run has ended (kwok's pods end within seconds). */
const firstRunEnded = (name: string) => waitForRunner(ns, name, 'its first run ended', (r) => r.status?.lastRun?.completionTime !== undefined, 90_000);

/** Shows that no run of `name` was requested: its trigger annotation is still `trigger` and it has `jobs` Jobs, for a while. */
async function noRunRequested(name: string, trigger: string | null, jobs: number): Promise<void> {
  await stays(`a run of ${name} was requested`, async () => (await triggerOf(name)) !== trigger || (await jobCount(name)) !== jobs, NO_RUN_WINDOW_MS);
}

const runnerRow = (page: Page, name: string) => page.locator(`tr[data-testid="runner-row"][data-key="${ns}/${name}"]`);

/** Signs the tab in with the URL `to` printed, then opens the Runner's page from its row. */
async function openRunner(page: Page, name: string, to: RunningUi = ui!): Promise<void> {
  await enter(page, to);
  await runnerRow(page, name).locator('a[data-testid="runner-link"]').click();
  await page.locator(`#runner[data-key="${ns}/${name}"][data-loaded="true"]`).waitFor();
}

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('ui-security');
  workDir = mkdtempSync(join(tmpdir(), 'hestia-ui-security-'));
  const logFile = join(workDir, 'check.log');
  writeFileSync(logFile, LOG);
  cleanups.push(await servePodLogs(ns, logFile));

  probeServer = serveProbe();
  attackerServer = serveAttacker();
  await Promise.all([listen(probeServer), listen(attackerServer)]);
  attackerOrigin = originOf(attackerServer);

  operator = new Operator({ client: await operatorClient(), log: pino({ level: process.env.HESTIA_TEST_LOG ?? 'silent' }), scope: { namespaces: [ns] }, probes: { allowLocal: true } });
  await operator.start();

  await createDeployment(ns, 'shop', { app: 'shop', ...ENABLE });
  const selectShop = { workloadSelector: { matchLabels: { app: 'shop' } } };
  // Its runs fail, and each failed container says TERMINATION; a probe stands between it and each run.
  const xss = withPods(runnerManifest(ns, 'xss', { ...selectShop, probes: [{ name: 'answer', http: { url: `${originOf(probeServer)}${PROBE_PATH}` } }] }, {}, true), {
    annotations: { [`${KWOK_FAIL}/message`]: TERMINATION },
  });
  await Promise.all([createRunner(xss), createRunner(runnerManifest(ns, 'target', selectShop)), createRunner(runnerManifest(ns, 'guarded', selectShop))]);

  ui = await startUi({ kubeConfig: kc, namespace: ns, port: 0 });
  // With the attacker's DNS: the rebound names resolve to the loopback address the server listens on.
  browser = await launchBrowser([`--host-resolver-rules=${REBOUND_NAMES.map((name) => `MAP ${name} 127.0.0.1`).join(', ')}`]);
});

afterAll(async () => {
  await browser?.close();
  await viewerUi?.close();
  await ui?.close();
  await operator?.stop();
  await Promise.all([closeServer(probeServer), closeServer(attackerServer)]);
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  if (ns) await deleteNamespace(ns);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("hestia ui's security", () => {
  it('renders cluster strings (termination message, trigger annotation, probe URL, pod log) as text, never as HTML or a link (XSS)', async () => {
    await firstRunEnded('xss');
    await patchRunner(ns, 'xss', { metadata: { annotations: { [ANNOTATION_TRIGGER]: TRIGGER } } });
    const runner = await waitForRunner(ns, 'xss', 'a run for the trigger ended', (r) => (r.status?.lastRun?.trigger ?? '').includes(TRIGGER) && r.status?.lastRun?.completionTime !== undefined, 90_000);
    // The cluster carries the markup as it was written: what the page gets is exactly that text.
    expect(runner.status?.lastRun?.message).toContain(TERMINATION);
    expect(runner.status?.probes?.[0]?.url).toContain(PROBE_PATH);

    const page = await newTab();
    await openRunner(page, 'xss');
    const message = page.locator('#runner-message');
    await waitFor('the Runner message to show the trigger', async () => (await message.textContent())?.includes(TRIGGER));
    expect(await message.textContent()).toContain(TERMINATION);
    expect(await message.isVisible()).toBe(true);
    expect(await page.locator('#last-run').textContent()).toContain(`manual trigger "${TRIGGER}"`);
    expect(await page.locator('tr[data-testid="probe-row"][data-probe="answer"]').textContent()).toContain(PROBE_PATH);

    await page.locator(`a[data-testid="show-logs"][data-job="${runner.status!.lastRun!.jobName}"]`).click();
    await page.locator('#logs[data-loaded="true"]').waitFor();
    const logText = page.locator('pre[data-testid="log-text"]').first();
    expect(await logText.textContent()).toContain(LOG.trimEnd());
    expect(await logText.isVisible()).toBe(true);
    expect(await page.locator('[data-testid="log-termination"]').first().textContent()).toBe(TERMINATION);

    // Nothing of the markup became an element: no img but the icon, no inline script, no handler, no link of its own.
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    const images = await Promise.all((await page.locator('img').all()).map((i) => i.getAttribute('src')));
    expect(new Set(images)).toEqual(new Set(['/icon.svg']));
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('xpath=//*[@*[starts-with(name(), "on")]]').count()).toBe(0);
    const anchors = await page.locator('a').all();
    const hrefs = await Promise.all(anchors.map(async (a) => (await a.getAttribute('href')) ?? (await a.getAttribute('xlink:href'))));
    expect(hrefs.filter((h) => h !== null && !h.startsWith('#/'))).toEqual([]);
    const anchorTexts = await Promise.all(anchors.map((a) => a.textContent()));
    expect(anchorTexts.filter((t) => /evil\.example|javascript:/.test(t ?? ''))).toEqual([]);
    expect(await watched(page)).toEqual({ violations: [], made: [], pwned: null });
    await page.context().close();
  });

  it('refuses a request whose Host is a rebound name, even with the session cookie, and the browser gets nothing (DNS rebinding)', async () => {
    const trigger = await triggerOf('target');
    const cookie = await signIn();
    const port = new URL(ui!.origin).port;
    const token = new URL(ui!.url).searchParams.get('token')!;
    // The same cookie through the server's own name reads the Runners: the refusals below are the Host's doing.
    const own = await ask('/api/runners', { headers: { cookie } });
    expect(own.status).toBe(200);
    expect(own.body).toContain(`${ns}/target`);

    for (const name of REBOUND_NAMES) {
      for (const path of ['/', '/api/runners', `/api/runners/${ns}/target`, `/?token=${token}`]) {
        const answer = await ask(path, { headers: { host: `${name}:${port}`, cookie } });
        expect({ name, path, status: answer.status }).toEqual({ name, path, status: 421 });
        expect(answer.body).not.toContain(ns);
        expect(answer.headers['set-cookie']).toBeUndefined();
      }
      const post = await ask(triggerPath('target'), { method: 'POST', headers: { host: `${name}:${port}`, cookie, 'x-hestia-ui': '1', origin: `http://${name}:${port}` } });
      expect(post.status).toBe(421);
    }

    // In the browser: signed in at 127.0.0.1, then on a page of a rebound name, whose own requests reach the server.
    const page = await newTab();
    await enter(page);
    await runnerRow(page, 'target').waitFor();
    for (const name of REBOUND_NAMES) {
      const rebound = `http://${name}:${port}`;
      const response = await page.goto(`${rebound}/?token=${token}`);
      expect(response?.status()).toBe(421);
      expect(await page.locator('body').textContent()).not.toContain(ns);
      const read = await page.evaluate(async () => {
        const res = await fetch('/api/runners', { credentials: 'include' });
        return { status: res.status, body: await res.text() };
      });
      expect(read.status).toBe(421);
      expect(read.body).not.toContain(ns);
      expect(await page.context().cookies(rebound)).toEqual([]);
    }
    expect(await triggerOf('target')).toBe(trigger);
    await page.context().close();
  });

  it('refuses a Trigger POST without the header, from another Origin, or without the cookie, and requests no run (CSRF)', async () => {
    await firstRunEnded('target');
    const [trigger, jobs] = [await triggerOf('target'), await jobCount('target')];
    const cookie = await signIn();
    const post = (headers: Record<string, string>) => ask(triggerPath('target'), { method: 'POST', headers });

    expect((await post({ cookie, origin: ui!.origin })).status).toBe(403);
    expect((await post({ cookie, 'x-hestia-ui': '1', origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({ cookie, 'x-hestia-ui': '1', origin: attackerOrigin })).status).toBe(403);
    expect((await post({ cookie, 'x-hestia-ui': '1' })).status).toBe(403);
    expect((await post({ 'x-hestia-ui': '1', origin: ui!.origin })).status).toBe(401);
    await noRunRequested('target', trigger, jobs);
  });

  it('requests no run from a page on another origin: a fetch with the header, a no-cors POST, a form POST (CSRF)', async () => {
    await firstRunEnded('target');
    const [trigger, jobs] = [await triggerOf('target'), await jobCount('target')];
    const page = await newTab();
    // The browser holds the session cookie; 127.0.0.1 on another port is the same site, so SameSite sends it along.
    await enter(page);
    await runnerRow(page, 'target').waitFor();
    const answers: string[] = [];
    page.on('response', (r) => {
      if (r.url() === `${ui!.origin}${triggerPath('target')}`) answers.push(`${r.request().method()} ${r.status()}`);
    });
    page.on('requestfailed', (r) => {
      if (r.url() === `${ui!.origin}${triggerPath('target')}`) answers.push(`${r.method()} failed ${r.failure()?.errorText}`);
    });
    const outcome = () => page.evaluate(() => (globalThis as { outcome?: string }).outcome);

    // The header makes it a request that needs a preflight, which carries no cookie and is refused (401): the POST is never sent.
    await page.goto(`${attackerOrigin}/fetch?runner=target`);
    expect(await waitFor('the fetch to settle', outcome)).toMatch(/^rejected: /);
    // Without the header the POST is sent, with the cookie, and refused for want of the header (403, as above); the
    // answer does not even reach the page, by Cross-Origin-Resource-Policy: same-origin.
    await page.goto(`${attackerOrigin}/no-cors?runner=target`);
    expect(await waitFor('the no-cors fetch to settle', outcome)).toMatch(/^rejected: /);
    // A form cannot add a header either: the browser shows the refusal.
    await page.goto(`${attackerOrigin}/form?runner=target`);
    await page.waitForURL(`${ui!.origin}${triggerPath('target')}`);
    expect(await page.locator('body').textContent()).toContain(`Refused: a request that changes something needs the header x-hestia-ui`);

    await waitFor('the browser to report all three POSTs', () => answers.length >= 3);
    expect(answers).toEqual([expect.stringMatching(/^POST failed /), expect.stringMatching(/^POST failed .*NotSameOrigin/), 'POST 403']);
    await noRunRequested('target', trigger, jobs);
    await page.context().close();
  });

  it('requests a run for a POST with the cookie, the header and its own Origin (CSRF, the control)', async () => {
    await firstRunEnded('target');
    const jobs = await jobCount('target');
    const cookie = await signIn();
    const answer = await ask(triggerPath('target'), { method: 'POST', headers: { cookie, 'x-hestia-ui': '1', origin: ui!.origin } });
    expect(answer.status).toBe(202);
    const value = (JSON.parse(answer.body) as { trigger: string }).trigger;
    expect(await triggerOf('target')).toBe(value);
    await waitFor('a Job for the requested run', async () => (await jobCount('target')) === jobs + 1, 60_000);
  });

  it('lets a browser in only with the printed token, once, as an HttpOnly cookie, and drops the token from the URL (token)', async () => {
    // A server of its own, whose token no other test has spent.
    const fresh = await startUi({ kubeConfig: kc, namespace: ns, port: 0 });
    cleanups.push(() => fresh.close());
    for (const path of ['/', '/api/runners', '/app.js']) {
      const answer = await ask(path, {}, fresh);
      expect({ path, status: answer.status }).toEqual({ path, status: 401 });
      expect(answer.body).not.toContain(ns);
    }

    const page = await newTab();
    expect((await page.goto(`${fresh.origin}/`))?.status()).toBe(401);
    expect((await page.goto(`${fresh.origin}/?token=not-the-token`))?.status()).toBe(401);
    expect(await page.context().cookies(fresh.origin)).toEqual([]);

    const response = await page.goto(fresh.url);
    expect(response?.status()).toBe(200);
    expect((await response!.request().redirectedFrom()?.response())?.status()).toBe(303);
    expect(page.url()).toBe(`${fresh.origin}/`);
    expect(page.url()).not.toContain('token=');
    await page.locator('#runners[data-loaded="true"]').waitFor();
    await runnerRow(page, 'target').waitFor();

    const cookies = await page.context().cookies(fresh.origin);
    expect(cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path }))).toEqual([
      { name: cookieName(Number(new URL(fresh.origin).port)), httpOnly: true, sameSite: 'Strict', path: '/' },
    ]);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).toBe('');
    await page.context().close();

    // Spent: another browser (say, one that read the URL off the first one's command line) is not let in.
    const other = await newTab();
    expect((await other.goto(fresh.url))?.status()).toBe(401);
    expect(await other.context().cookies(fresh.origin)).toEqual([]);
    await other.context().close();
  });

  it('sends the Content-Security-Policy with every response, and the page has no inline script or style (CSP)', async () => {
    await firstRunEnded('target');
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    const cookie = await signIn();
    const port = new URL(ui!.origin).port;
    const requests: Array<[string, Parameters<typeof ask>[1]]> = [
      ['/', { headers: { cookie } }],
      ['/app.js', { headers: { cookie } }],
      ['/style.css', { headers: { cookie } }],
      ['/api/runners', { headers: { cookie } }],
      [`/api/runners/${ns}/target`, { headers: { cookie } }],
      [`/api/runners/${ns}/target/diagram.svg`, { headers: { cookie } }],
      ['/api/events', { headers: { cookie }, headersOnly: true }],
      [`/api/runners/${ns}/no-such-runner`, { headers: { cookie } }],
      ['/no-such-page', { headers: { cookie } }],
      ['/', {}],
      ['/', { headers: { host: `evil.example:${port}`, cookie } }],
      [triggerPath('target'), { method: 'POST', headers: { cookie } }],
      [triggerPath('target'), { method: 'PUT', headers: { cookie } }],
      [new URL(ui!.url).pathname + new URL(ui!.url).search, { headers: { cookie } }],
    ];
    const seen: Array<{ path: string; status: number; csp: string }> = [];
    for (const [path, options] of requests) {
      const answer = await ask(path, options);
      seen.push({ path, status: answer.status, csp: String(answer.headers['content-security-policy']) });
    }
    expect(seen.map((s) => s.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 404, 404, 401, 421, 403, 405, 303]);
    expect(seen.filter((s) => s.csp !== CONTENT_SECURITY_POLICY)).toEqual([]);

    // The page in use: the list, a Runner with its statechart, its logs, and back; everything from its own origin.
    const page = await newTab();
    const loaded: string[] = [];
    page.on('request', (r) => loaded.push(r.url()));
    await openRunner(page, 'target');
    await page.locator('#diagram svg').waitFor();
    await page.locator('a[data-testid="show-logs"]').first().click();
    await page.locator('#logs[data-loaded="true"]').waitFor();
    await page.locator('a[data-testid="back"]').click();
    await page.locator('#runners[data-loaded="true"]').waitFor();
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('style').count()).toBe(0);
    expect(await page.locator('[style]').count()).toBe(0);
    expect(loaded.filter((url) => !url.startsWith(`${ui!.origin}/`))).toEqual([]);
    expect(await watched(page)).toEqual({ violations: [], made: [], pwned: null });
    await page.context().close();
  });

  it("shows a user who may not patch the Runner the API server's refusal, and requests no run (RBAC)", async () => {
    const user = `ui-viewer-${process.pid}`;
    const read = ['get', 'list', 'watch'];
    await grant(ns, user, 'ui-view', [
      { apiGroups: [GROUP], resources: [PLURAL], verbs: read },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: read },
      { apiGroups: [''], resources: ['events', 'pods', 'pods/log'], verbs: read },
    ]);
    const theirs = kubeConfigAs(user);
    // RBAC takes effect when the API server's authorizer has seen the binding.
    const asUser = theirs.makeApiClient(CustomObjectsApi);
    await waitFor(`${user} to be allowed to list Runners`, () => asUser.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL }).then(() => true));
    await firstRunEnded('guarded');
    const [trigger, jobs] = [await triggerOf('guarded'), await jobCount('guarded')];

    viewerUi = await startUi({ kubeConfig: theirs, namespace: ns, port: 0 });
    const page = await newTab();
    await openRunner(page, 'guarded', viewerUi);
    await page.locator('#trigger').click();
    await page.locator('#trigger-result[data-outcome="refused"]').waitFor();
    expect(await page.locator('#error [data-testid="error-message"]').textContent()).toContain(`not allowed to patch Runner ${ns}/guarded (403)`);
    const apiServer = await page.locator('#error [data-testid="error-api-server"]').textContent();
    expect(apiServer).toContain('forbidden');
    expect(apiServer).toContain(`User "${user}" cannot patch resource "runners"`);
    expect(await page.locator('#error').isVisible()).toBe(true);
    await noRunRequested('guarded', trigger, jobs);
    await page.context().close();
  });
});

// The browser driver itself, on a page this test serves: Chromium starts, runs a module script, takes a click,
// enforces the page's Content-Security-Policy and takes screenshots. A pattern for the tests of real pages.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from './support/browser.ts';

// The button starts disabled and the module script enables it, so a click (which waits for an enabled
// button) cannot come before the script has run. The inline script would set a marker if it ran.
const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>smoke</title></head>
<body>
  <p id="greeting">Hello</p>
  <button id="change" disabled>Change</button>
  <script>window.inlineScriptRan = true;</script>
  <script type="module" src="/app.js"></script>
</body></html>`;

const app = `const button = document.getElementById('change');
button.addEventListener('click', () => { document.getElementById('greeting').textContent = 'Changed'; });
button.disabled = false;
`;

function servePage(): Server {
  return createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "script-src 'self'" });
      res.end(page);
    } else if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(app);
    } else {
      res.writeHead(404).end();
    }
  });
}

/** Violations the page reports, collected from before its first script (init scripts are exempt from CSP). */
function recordViolations(): void {
  const page = globalThis as unknown as {
    violations: string[];
    addEventListener(type: string, listener: (event: { violatedDirective: string; blockedURI: string }) => void): void;
  };
  page.violations = [];
  page.addEventListener('securitypolicyviolation', (event) => page.violations.push(`${event.violatedDirective} ${event.blockedURI}`));
}

describe('the browser driver', () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  let tab: Page;

  beforeAll(async () => {
    server = servePage();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    tab = await browser.newPage();
    // A wait that fails says what it waited for, well before the test's own timeout.
    tab.setDefaultTimeout(15_000);
    await tab.addInitScript(recordViolations);
    await tab.goto(origin);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('runs the module script and takes a click', async () => {
    expect(await tab.textContent('#greeting')).toBe('Hello');
    await tab.click('#change');
    expect(await tab.textContent('#greeting')).toBe('Changed');
  });

  it("refuses the inline script under script-src 'self' and reports the violation", async () => {
    await tab.waitForFunction(() => (globalThis as unknown as { violations: string[] }).violations.length > 0);
    expect(await tab.evaluate(() => (globalThis as { inlineScriptRan?: boolean }).inlineScriptRan)).toBeUndefined();
    expect(await tab.evaluate(() => (globalThis as unknown as { violations: string[] }).violations)).toEqual(['script-src-elem inline']);
  });

  it('saves a screenshot as a PNG file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hestia-screenshot-'));
    try {
      const path = await screenshot(tab, 'smoke.png', dir);
      // Every PNG file starts with the same eight bytes.
      expect(readFileSync(path).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The browser the browser tests drive: the machine's Chromium (Debian's `chromium`, installed before any test
// runs by `make browser`, a part of `make prereqs`, through scripts/ensure-chromium.sh), driven by
// playwright-core, which never downloads a browser of its own. A test never installs one: a Chromium that is
// missing fails at once, naming `make browser`.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where the docs' images live: screenshots taken by tests, so that a picture in the docs shows what runs. */
export const docsImagesDir = new URL('../../../docs/images/', import.meta.url).pathname;

let executable: string | undefined;

/** Path of the Chromium to drive (HESTIA_CHROMIUM, else the one on the PATH); throws, saying how to get one. */
export function chromiumPath(): string {
  if (!executable) {
    const script = new URL('../../../scripts/ensure-chromium.sh', import.meta.url).pathname;
    try {
      executable = execFileSync(script, ['--no-install'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
      throw new Error(stderr || "no chromium here: run 'make browser'");
    }
  }
  return executable;
}

const runsAsRoot = process.getuid?.() === 0;

/** A headless Chromium with these command-line `args` too; close it when done (`await browser.close()`). */
export function launchBrowser(args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args,
    // Chromium refuses to start as root with its sandbox on, and root in a container (where these tests
    // usually run) is already the boundary; as any other user the sandbox stays on.
    chromiumSandbox: !runsAsRoot,
  });
}

/**
 * Saves a screenshot of the page as `name` (a file name ending in .png) in `dir`, docs/images/ unless told;
 * returns its path.
 */
export async function screenshot(page: Page, name: string, dir = docsImagesDir): Promise<string> {
  if (basename(name) !== name || !name.endsWith('.png')) {
    throw new Error(`screenshot: ${JSON.stringify(name)} is not a file name ending in .png`);
  }
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

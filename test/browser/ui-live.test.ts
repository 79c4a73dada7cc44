// `hestia ui` in a real browser against the real control plane and the real operator: the Runners page follows the
// cluster, a Runner's statechart lights the state it is in as a run goes (waiting → Running → Succeeded), Trigger
// starts a run, and a run's logs show; all without a reload (a marker set in the page once survives every step).
// The screenshots in the docs (docs/images/ui-*.png) are made here.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Operator } from '../../src/operator/operator.ts';
import { startUi } from '../../src/ui/server.ts';
import { operatorClient } from '../integration/support/identity.ts';
import {
  core, createDeployment, createNamespace, createRunner, deleteNamespace, ENABLE, installCrd, jobsOf, kc, runnerManifest, waitFor,
} from '../integration/support/kube.ts';
import { servePodLogs } from '../integration/support/pod-behaviour.ts';
import { grant, kubeConfigAs } from '../integration/support/users.ts';
import { launchBrowser, screenshot } from './support/browser.ts';

/** The label of the cluster's stages (test/cluster/stages/hestia-pod-held-running.yaml): held Running until relabelled. */
const BEHAVIOUR = 'hestia.test/pod-behaviour';
const HELD = { [BEHAVIOUR]: 'awaits-verdict' };
const LOG_LINE = 'checkout: 12 passed, 0 failed';

let ns = '';
let operator: Operator | undefined;
let ui: Awaited<ReturnType<typeof startUi>> | undefined;
let browser: Browser | undefined;
let page: Page;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('ui');
  const logFile = join(mkdtempSync(join(tmpdir(), 'hestia-ui-log-')), 'check.log');
  writeFileSync(logFile, `starting the checks\n${LOG_LINE}\n`);
  cleanups.push(await servePodLogs(ns, logFile));
  operator = new Operator({ client: await operatorClient(), log: pino({ level: process.env.HESTIA_TEST_LOG ?? 'silent' }), scope: { namespaces: [ns] } });
  await operator.start();
  ui = await startUi({ kubeConfig: kc, namespace: ns, port: 0 });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(ui.url);
  await page.locator('#runners[data-loaded="true"]').waitFor();
  // Survives only as long as the document does: any reload or navigation away drops it.
  await page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));
});

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await operator?.stop();
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  if (ns) await deleteNamespace(ns);
});

const sameDocument = () => page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument === true);
const row = (name: string) => page.locator(`tr[data-testid="runner-row"][data-key="${ns}/${name}"]`);
/** The lit states' paths on the Runner page's diagram. */
const litPaths = async () => ((await page.locator('#diagram').getAttribute('data-lit')) ?? '').split(' ').filter(Boolean);
const lit = (state: string) => waitFor(`the diagram to light ${state}`, async () => (await litPaths()).some((p) => p === state || p.endsWith(`.${state}`)), 60_000);

/** A Runner that waits for a Deployment `app` that does not exist yet. */
function waitingRunner(name: string, app: string, podLabels: Record<string, string> = {}) {
  const runner = runnerManifest(ns, name, { workloadSelector: { matchLabels: { app } } });
  runner.spec.template.metadata = { labels: podLabels };
  return runner;
}

/** Lets the held pods of `runner`'s Jobs end as successes. */
async function releasePods(runner: string): Promise<void> {
  for (const job of await jobsOf(ns, runner)) {
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${job.metadata!.name!}` });
    for (const pod of pods.items.filter((p) => p.metadata?.labels?.[BEHAVIOUR] === 'awaits-verdict')) {
      await core.patchNamespacedPod({ namespace: ns, name: pod.metadata!.name!, body: { metadata: { labels: { [BEHAVIOUR]: 'passed-retry' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    }
  }
}

describe('the Runners page', () => {
  it('shows a Runner created after it opened, and its state as it changes, without a reload', async () => {
    await createRunner(waitingRunner('checkout', 'shop'));
    await row('checkout').waitFor();
    await waitFor('checkout to show WaitingForWorkloads', async () => (await row('checkout').getAttribute('data-state')) === 'WaitingForWorkloads');

    await createDeployment(ns, 'shop', { app: 'shop', ...ENABLE });
    await waitFor('checkout to show its run Succeeded', async () => (await row('checkout').getAttribute('data-result')) === 'Succeeded', 90_000);

    await createRunner(runnerManifest(ns, 'payments', { workloadSelector: { matchLabels: { app: 'shop' } } }, {}, true));
    await waitFor('payments to show its run Failed', async () => (await row('payments').getAttribute('data-result')) === 'Failed', 90_000);
    await createRunner(waitingRunner('search', 'search-api'));
    await waitFor('search to show WaitingForWorkloads', async () => (await row('search').getAttribute('data-state')) === 'WaitingForWorkloads');
    expect(await sameDocument()).toBe(true);
    await screenshot(page, 'ui-runners.png');
  });
});

describe('a Runner\'s page', () => {
  it('lights the state it is in on its statechart as a run goes: waiting → Running → Succeeded', async () => {
    await createRunner(waitingRunner('smoke', 'cart', HELD));
    await row('smoke').locator('a[data-testid="runner-link"]').click();
    await page.locator(`#runner[data-key="${ns}/smoke"][data-loaded="true"]`).waitFor();
    await lit('WaitingForWorkloads');
    await waitFor('the page to say it waits for workloads', async () => (await page.locator('#runner-state').getAttribute('data-state')) === 'WaitingForWorkloads');

    await createDeployment(ns, 'cart', { app: 'cart', ...ENABLE });
    await lit('Running');
    await waitFor('the run to show in the history as Running', async () => (await page.locator('tr[data-testid="run-row"][data-result="Running"]').count()) === 1);

    await releasePods('smoke');
    await lit('Succeeded');
    await waitFor('the history to show the run Succeeded', async () => (await page.locator('tr[data-testid="run-row"][data-result="Succeeded"]').count()) === 1);
    expect(await sameDocument()).toBe(true);
    await screenshot(page, 'ui-runner.png');
  });

  it('starts a run when Trigger is clicked, and shows it', async () => {
    await page.locator('#trigger').click();
    await page.locator('#trigger-result[data-outcome="requested"]').waitFor();
    await waitFor('a second Job for smoke', async () => (await jobsOf(ns, 'smoke')).length === 2, 60_000);
    await lit('Running');
    await waitFor('the history to show two runs', async () => (await page.locator('tr[data-testid="run-row"]').count()) === 2);
    await releasePods('smoke');
    await lit('Succeeded');
    expect(await sameDocument()).toBe(true);
  });

  it('shows a run\'s logs', async () => {
    const job = (await jobsOf(ns, 'smoke')).map((j) => j.metadata!.name!).sort()[0]!;
    await page.locator(`a[data-testid="show-logs"][data-job="${job}"]`).click();
    await page.locator(`#logs[data-job="${job}"][data-loaded="true"]`).waitFor();
    await waitFor('the log text to show', async () => (await page.locator('pre[data-testid="log-text"]').allTextContents()).join('\n').includes(LOG_LINE));
    expect(await sameDocument()).toBe(true);
  });
});

describe('a user who may not list Runners', () => {
  it("sees the API server's refusal in the page, and the Runners once they may list them, without a reload", async () => {
    const user = `ui-reader-${process.pid}`;
    const theirs = await startUi({ kubeConfig: kubeConfigAs(user), namespace: ns, port: 0 });
    cleanups.push(() => theirs.close());
    const tab = await browser!.newPage();
    await tab.goto(theirs.url);
    const status = tab.locator('#watch-status');
    await waitFor('the page to say the watch fails', async () => (await status.getAttribute('data-state')) === 'failing');
    expect(await status.textContent()).toContain('forbidden');

    await grant(ns, user, 'ui-read', [{ apiGroups: ['e2e.stakater.com'], resources: ['runners'], verbs: ['get', 'list', 'watch'] }]);
    await waitFor('the page to go live', async () => (await status.getAttribute('data-state')) === 'live', 60_000);
    await tab.locator(`tr[data-testid="runner-row"][data-key="${ns}/checkout"]`).waitFor();
    await tab.close();
  });
});

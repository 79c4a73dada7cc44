// Results people act on, on the real control plane: a run's JUnit report (printed to its log by pytest, or written
// to its termination message) read into status.lastRun.tests and shown by the Events and the CLI; a flaky run; runs
// the infrastructure ended (image not pulled, pod evicted, deadline) with result Error and `hestia wait` exit 5;
// and an advisory Runner that reports its failure but blocks nobody. kwok serves the pods' logs from the fixtures
// that real tools wrote (test/unit/fixtures/junit) and simulates the failures (test/cluster/README.md).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { runTool } from '../support/tools.ts';
import { hestiaIn } from './support/cli.ts';
import { operatorEnvironment } from './support/environment.ts';
import { condition, core, createNamespace, createRunner, deleteNamespace, runnerManifest, waitForRunner } from './support/kube.ts';
import { POD_BEHAVIOUR, servePodLogs, startFlakyAgent, withPods, type PodTemplateMetadata } from './support/pod-behaviour.ts';

operatorEnvironment('results');
const FIXTURES = new URL('../unit/fixtures/junit/', import.meta.url).pathname;
const KWOK = 'pod-container-running-failed.stage.kwok.x-k8s.io';
const SCRIPT = new URL('../../deploy/argocd/runner-health.lua', import.meta.url).pathname;

/** Namespaces of their own for the Runners whose pods serve a given log (kwok serves one log per namespace). */
const namespaces: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  for (const ns of namespaces) await deleteNamespace(ns);
});

async function namespaceServing(prefix: string, logFile: string): Promise<string> {
  const ns = await createNamespace(prefix);
  namespaces.push(ns);
  cleanups.push(await servePodLogs(ns, logFile));
  return ns;
}

const hestia = hestiaIn;

async function eventsOf(ns: string, name: string): Promise<{ type: string; reason: string; message: string }[]> {
  const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name},involvedObject.kind=Runner` });
  return list.items.map((e) => ({ type: e.type ?? '', reason: e.reason ?? '', message: e.message ?? '' }));
}

const finished = (ns: string, name: string, timeoutMs = 60_000) =>
  waitForRunner(ns, name, 'a finished run', (r) => r.status?.lastRun !== undefined && r.status.lastRun.result !== 'Running' && r.status.state !== 'Running', timeoutMs);

describe('test counts in status, read from the check\'s own JUnit report', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await namespaceServing('results-pytest', join(FIXTURES, 'pytest.log.txt'));
  });

  it('reads the report pytest printed to the log of a failed run: counts, failing tests, and the Event says them', async () => {
    const runner = runnerManifest(ns, 'pytest', { testResults: { format: 'JUnit' } }, {}, true);
    runner.spec.template.metadata!.annotations = { [`${KWOK}/exit-code`]: '1', [`${KWOK}/reason`]: 'Error' };
    await createRunner(runner);
    const done = await finished(ns, 'pytest');
    const run = done.status!.lastRun!;
    expect(run.result).toBe('Failed');
    expect(run.tests).toMatchObject({ tests: 6, failures: 2, errors: 1, skipped: 1 });
    expect(run.tests?.failed?.length).toBe(3);
    expect(run.tests?.failed?.[0]).toMatchObject({ kind: 'failure', name: expect.any(String), message: expect.any(String) });
    const events = await eventsOf(ns, 'pytest');
    expect(events.find((e) => e.reason === 'RunFailed')?.message).toContain('6 tests: 2 failed, 1 error, 1 skipped');
  });

  it('shows the counts in hestia describe, runs and wait', async () => {
    const describe = await hestia(ns, 'describe', 'pytest');
    expect(describe.stdout).toMatch(/tests: 6 tests: 2 failed, 1 error, 1 skipped/);
    expect(describe.stdout).toMatch(/^ {4}failure: /m);
    const runs = await hestia(ns, 'runs', 'pytest');
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(/Failed +6 tests: 2 failed, 1 error, 1 skipped/);
    const wait = await hestia(ns, 'wait', 'pytest', '--timeout=0');
    expect(wait.code).toBe(1);
    expect(wait.stdout).toContain('Tests:    6 tests: 2 failed, 1 error, 1 skipped');
  });

  it('reads a short report from the termination message', async () => {
    const report = '<testsuite name="smoke" tests="2"><testcase name="cart"/><testcase name="pay"><failure message="502 from /pay"/></testcase></testsuite>';
    const runner = runnerManifest(ns, 'terminated', { testResults: { format: 'JUnit', from: 'TerminationMessage' } }, {}, true);
    runner.spec.template.metadata!.annotations = { [`${KWOK}/exit-code`]: '1', [`${KWOK}/message`]: report };
    await createRunner(runner);
    const run = (await finished(ns, 'terminated')).status!.lastRun!;
    expect(run.tests).toEqual({ tests: 2, failures: 1, errors: 0, skipped: 0, failed: [{ name: 'pay', kind: 'failure', message: '502 from /pay' }] });
  });
});

describe('a report that cannot be read gets a clear problem, never a crash', () => {
  it('says a truncated report is not well-formed, and the run keeps its own result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hestia-results-'));
    const cut = join(dir, 'cut.log');
    writeFileSync(cut, 'collected 3 items\n<?xml version="1.0"?><testsuites><testsuite name="s" tests="3"><testcase name="a"/><testcase na');
    const ns = await namespaceServing('results-cut', cut);
    await createRunner(runnerManifest(ns, 'cut', { testResults: { format: 'JUnit' } }));
    const run = (await finished(ns, 'cut')).status!.lastRun!;
    expect(run.result).toBe('Succeeded');
    expect(run.tests?.problem).toMatch(/^the JUnit report is not well-formed XML: .* \(in the log of container check of pod cut-\S+\)$/);
  });
});

describe('flaky: a success after a failed attempt', () => {
  it('is Succeeded and marked flaky in status, a RunFlaky Event, runs and wait (exit 0)', async () => {
    const ns = await namespaceServing('results-flaky', join(FIXTURES, 'jest-junit.log.txt'));
    cleanups.push(startFlakyAgent(ns));
    await createRunner(withPods(runnerManifest(ns, 'flaky', { backoffLimit: 1 }), POD_BEHAVIOUR.failsFirstAttempt));
    const run = (await finished(ns, 'flaky', 90_000)).status!.lastRun!;
    expect(run).toMatchObject({ result: 'Succeeded', flaky: true, attempts: 2 });
    const events = await eventsOf(ns, 'flaky');
    expect(events.find((e) => e.reason === 'RunFlaky')).toMatchObject({ type: 'Warning', message: expect.stringContaining('passed after 1 failed attempt (flaky)') });
    expect((await hestia(ns, 'runs', 'flaky')).stdout).toMatch(/Succeeded \(flaky\)/);
    const wait = await hestia(ns, 'wait', 'flaky', '--timeout=0');
    expect(wait.code).toBe(0);
    expect(wait.stdout).toContain('Attempts: passed after 1 failed attempt (flaky)');
  });
});

describe('Error is not Failed: runs the infrastructure ended', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await createNamespace('results-error');
    namespaces.push(ns);
  });

  const errored = async (name: string, spec: Parameters<typeof runnerManifest>[2], pods: PodTemplateMetadata) => {
    await createRunner(withPods(runnerManifest(ns, name, { backoffLimit: 0, ...spec }), pods));
    return (await finished(ns, name)).status!.lastRun!;
  };

  it('an image that cannot be pulled, until the deadline: Error ImagePullFailed, RunError Event, hestia wait exit 5', async () => {
    const run = await errored('no-image', { deadlineSeconds: 3 }, POD_BEHAVIOUR.imagePullFails);
    expect(run).toMatchObject({ result: 'Error', errorReason: 'ImagePullFailed' });
    expect(run.message).toMatch(/ImagePullFailed: .*(could not pull image busybox|ErrImagePull)/);
    expect((await eventsOf(ns, 'no-image')).find((e) => e.reason === 'RunError')?.message).toMatch(/ended in an error \(ImagePullFailed\)/);
    const wait = await hestia(ns, 'wait', 'no-image', '--timeout=0');
    expect(wait.code).toBe(5);
    expect(wait.stdout).toContain('the run ended in an error (ImagePullFailed)');
    expect((await hestia(ns, 'runs', 'no-image')).stdout).toMatch(/Error \(ImagePullFailed\)/);
  });

  it('a pod evicted by its node: Error PodEvicted', async () => {
    const run = await errored('evicted', {}, POD_BEHAVIOUR.evicted);
    expect(run).toMatchObject({ result: 'Error', errorReason: 'PodEvicted' });
  });

  it('a check still running at spec.deadlineSeconds: Error DeadlineExceeded', async () => {
    const run = await errored('slow', { deadlineSeconds: 2 }, POD_BEHAVIOUR.staysRunning);
    expect(run).toMatchObject({ result: 'Error', errorReason: 'DeadlineExceeded' });
  });

  it('a pod no node can take, until the deadline: Error Unschedulable (its pods are read when the Job is marked to fail, before they go)', async () => {
    const runner = runnerManifest(ns, 'nowhere', { backoffLimit: 0, deadlineSeconds: 2 });
    runner.spec.template.spec!.nodeSelector = { 'hestia.test/none': 'none' };
    await createRunner(runner);
    const run = (await finished(ns, 'nowhere')).status!.lastRun!;
    expect(run.result).toBe('Error');
    expect(run.errorReason).toBe('Unschedulable');
  });

  it('a check that failed by itself stays Failed', async () => {
    const run = (await (async () => {
      await createRunner(runnerManifest(ns, 'own-failure', {}, {}, true));
      return finished(ns, 'own-failure');
    })()).status!.lastRun!;
    expect(run.result).toBe('Failed');
    expect(run).not.toHaveProperty('errorReason');
  });
});

describe('advisory: a failure reported everywhere, blocking nobody', () => {
  let ns: string;
  let advisory: Runner;
  beforeAll(async () => {
    ns = await createNamespace('results-advisory');
    namespaces.push(ns);
    await createRunner(runnerManifest(ns, 'advisory', { advisory: true }, { tier: 'advisory' }, true));
    await createRunner(runnerManifest(ns, 'after-advisory', { runnerSelector: { matchLabels: { tier: 'advisory' } } }));
    advisory = await waitForRunner(ns, 'advisory', 'its failed run', (r) => r.status?.state === 'Failed');
  });

  it('says Failed in status, a Warning Event, runs and wait (exit 1)', async () => {
    expect(advisory.status?.lastRun?.result).toBe('Failed');
    const event = (await eventsOf(ns, 'advisory')).find((e) => e.reason === 'RunFailed');
    expect(event).toMatchObject({ type: 'Warning', message: expect.stringContaining('advisory: does not block') });
    expect((await hestia(ns, 'runs', 'advisory')).stdout).toMatch(/Failed \(advisory\)/);
    const wait = await hestia(ns, 'wait', 'advisory', '--timeout=0');
    expect(wait.code).toBe(1);
    expect(wait.stdout).toContain('the run failed (advisory: it does not block)');
  });

  it('stays healthy for kstatus, Argo CD and kubectl wait', async () => {
    expect(condition(advisory, 'Ready')).toMatchObject({ status: 'True', reason: 'AdvisoryRunFailed' });
    expect(condition(advisory, 'Stalled')?.status).toBe('False');
    const [kstatus] = JSON.parse(runTool('kstatus', [], JSON.stringify([advisory]))) as { status: string }[];
    const [argocd] = JSON.parse(runTool('argocd-lua', [SCRIPT], JSON.stringify([advisory]))) as { status: string }[];
    expect([kstatus?.status, argocd?.status]).toEqual(['Current', 'Healthy']);
  });

  it('does not block its downstream Runner, which runs', async () => {
    const after = await waitForRunner(ns, 'after-advisory', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    expect(after.status?.lastRun?.result).toBe('Succeeded');
  });
});

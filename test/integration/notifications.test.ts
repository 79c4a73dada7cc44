// Notifications on the real control plane (README "Notifications"): Destinations and Notifications as users write
// them, the operator telling real HTTP receivers on loopback (support/receivers.ts) what its Runners' statuses say
// happened. Every happening reaches a CloudEvents receiver in both modes, as the CNCF SDK parses it; a Slack
// webhook gets messages of Slack's documented shape with cluster text escaped; a Notification sends only what it
// subscribes to; a receiver that answers 503 is retried and gets the notice once, the Destination saying meanwhile
// that it fails; bad configuration is named in Ready; the Secret's address and token are used and never shown; a
// restart and a leader hand-over send what is due once, and what was delivered never again; and a receiver that
// never answers holds up no run.
//
// Each scenario has a namespace and an operator of its own, scoped to it (HESTIA_NAMESPACES, or the scope of an
// in-process Operator), so the scenarios run side by side without hearing each other's Runners.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, type CoreV1Event, type V1Condition } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ANNOTATION_TRIGGER, GROUP, VERSION, type Runner } from '../../src/api/runner.ts';
import { DESTINATION_PLURAL, HAPPENINGS, NOTIFICATION_PLURAL, type DestinationSpec, type Happening, type Notification, type NotificationSpec } from '../../src/notify/api.ts';
import { deliveredDigest } from '../../src/notify/happenings.ts';
import { assignSlots, slotOf } from '../../src/shard/ring.ts';
import type { NotifyOptions } from '../../src/notify/notifier.ts';
import { KubeClient } from '../../src/k8s/client.ts';
import { connectionOf } from '../../src/k8s/kubeconfig.ts';
import { Operator } from '../../src/operator/operator.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { operatorClient, operatorKubeConfig, OPERATOR_NAMESPACE } from './support/identity.ts';
import { endProcess } from './support/operator-process.ts';
import {
  condition, core, createDeployment, createNamespace, createRunner, custom, deleteNamespace, ENABLE, FAIL_LABEL, getRunner, installCrd, kc, patchRunner,
  rollOut, runnerManifest, stays, waitFor, waitForRunner,
} from './support/kube.ts';
import { POD_BEHAVIOUR, startFlakyAgent, withPods } from './support/pod-behaviour.ts';
import {
  startCloudEventsReceiver, startSlackReceiver, startWebhookReceiver, type CloudEventsReceiver, type Receiver,
} from './support/receivers.ts';
import { operatorEntry } from './support/operator-entry.ts';

// The scenarios wait on runs and receivers, not on the CPU: they run side by side.
vi.setConfig({ maxConcurrency: 20 });

const KWOK = 'pod-container-running-failed.stage.kwok.x-k8s.io';
/** The CloudEvents types a receiver routes on: part of the contract, so written out here rather than imported. */
const TYPES: Record<Happening, string> = {
  RunStarted: 'com.stakater.e2e.run.started',
  RunSucceeded: 'com.stakater.e2e.run.succeeded',
  RunFailed: 'com.stakater.e2e.run.failed',
  RunRecovered: 'com.stakater.e2e.run.recovered',
  RunFlaky: 'com.stakater.e2e.run.flaky',
  RunError: 'com.stakater.e2e.run.error',
  Stalled: 'com.stakater.e2e.runner.stalled',
};
const coordination = kc.makeApiClient(CoordinationV1Api);

// ---- What every scenario is made of, and torn down after the file ---------------------------------

const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(() => installCrd());
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  // The files after this one run with the suite's own concurrency.
  vi.resetConfig();
});

async function namespaceFor(prefix: string): Promise<string> {
  const ns = await createNamespace(prefix);
  cleanups.push(() => deleteNamespace(ns));
  return ns;
}

async function started<R extends Receiver>(receiver: Promise<R>): Promise<R> {
  const r = await receiver;
  cleanups.push(() => r.close());
  return r;
}

const ALLOW_LOCAL: NotifyOptions = { allowLocal: true, crossNamespace: true };

/** The real operator in this process, watching only `namespaces` (as its ServiceAccount, through `client` if given). */
async function operatorIn(namespaces: string[], notify: NotifyOptions = ALLOW_LOCAL, client?: KubeClient): Promise<Operator> {
  const log = pino({ level: process.env.HESTIA_TEST_LOG ?? 'silent' });
  const operator = new Operator({ client: client ?? (await operatorClient()), log, scope: { namespaces }, probes: { allowLocal: true }, notify });
  await operator.start();
  cleanups.push(() => operator.stop());
  return operator;
}

interface OperatorProcess {
  /** Its log so far (stdout and stderr). */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

let kubeconfigFile: Promise<string> | undefined;

/** The operator's kubeconfig as a file, written once however many scenarios ask for it at the same moment. */
function operatorKubeconfigFile(): Promise<string> {
  kubeconfigFile ??= operatorKubeConfig().then((config) => {
    const file = join(mkdtempSync(join(tmpdir(), 'hestia-notify-')), 'kubeconfig');
    writeFileSync(file, config.exportConfig());
    return file;
  });
  return kubeconfigFile;
}

/**
 * The operator as users run it (`node dist/src/main.js`), as its ServiceAccount, watching only `namespaces`, allowed to
 * deliver to loopback (HESTIA_NOTIFY_ALLOW_LOCAL); its log is kept, so a test can read what it said.
 */
async function operatorProcessIn(namespaces: string[], env: NodeJS.ProcessEnv = {}): Promise<OperatorProcess> {
  const kubeconfig = await operatorKubeconfigFile();
  const proc = spawn(process.execPath, [operatorEntry()], {
    env: {
      ...process.env, KUBECONFIG: kubeconfig, HESTIA_HEALTH_PORT: '0', HESTIA_METRICS_PORT: '0', HESTIA_LOG_LEVEL: 'info',
      HESTIA_NAMESPACES: namespaces.join(','), HESTIA_NOTIFY_ALLOW_LOCAL: 'true', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const stream of [proc.stdout!, proc.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let stopping = false;
  const exited = new Promise<void>((resolve) => proc.once('exit', (code, signal) => {
    // An operator that ends by itself fails the scenario it was in: say why, where the test's failure is read.
    if (!stopping) console.error(`the operator process for ${namespaces.join(',')} exited by itself (${code ?? signal}):\n${output.slice(-4_000)}`);
    resolve();
  }));
  const kill = async (signal: NodeJS.Signals) => {
    stopping = true;
    await endProcess(proc, signal);
    await exited;
  };
  cleanups.push(() => kill('SIGKILL'));
  return { output: () => output, kill };
}

async function createDestination(namespace: string, name: string, spec: DestinationSpec): Promise<void> {
  await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: DESTINATION_PLURAL, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Destination', metadata: { name }, spec } });
}

async function createNotification(namespace: string, name: string, spec: NotificationSpec): Promise<void> {
  await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: NOTIFICATION_PLURAL, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Notification', metadata: { name }, spec } });
}

async function createSecret(namespace: string, name: string, stringData: Record<string, string>): Promise<void> {
  await core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData } });
}

const getObject = async <T = { status?: { conditions?: V1Condition[] } }>(plural: string, namespace: string, name: string) =>
  (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name })) as T;

/** Waits until the object's Ready condition has this status (and reason); returns the condition. */
async function waitForReady(plural: string, namespace: string, name: string, status: 'True' | 'False', reason?: string, timeoutMs = 30_000): Promise<V1Condition> {
  let last: V1Condition | undefined;
  try {
    return await waitFor(`${plural} ${namespace}/${name} Ready=${status}${reason ? ` (${reason})` : ''}`, async () => {
      last = (await getObject(plural, namespace, name)).status?.conditions?.find((c) => c.type === 'Ready');
      return last?.status === status && (reason === undefined || last.reason === reason) ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last Ready: ${JSON.stringify(last)}`);
  }
}

async function eventsAbout(namespace: string, kind: string, name: string): Promise<CoreV1Event[]> {
  return (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` })).items;
}

/** A Destination and a Notification of `events` to it (of the Runners `runners` selects), once the Notification says it is Ready. */
async function subscribe(namespace: string, name: string, destination: DestinationSpec, events: readonly Happening[], runners?: NotificationSpec['runners']): Promise<void> {
  await createDestination(namespace, name, destination);
  await createNotification(namespace, name, { destinationRef: { name }, events: [...events], ...(runners ? { runners } : {}) });
  // Happenings from before the Notification existed are never sent: the Runners come after this.
  await waitForReady(NOTIFICATION_PLURAL, namespace, name, 'True');
}

/** The id a notice of a run carries: `<runner uid>/<job>/<happening>`. */
const runNoticeId = (runner: Runner, happening: Happening) => `${runner.metadata.uid}/${runner.status!.lastRun!.jobName}/${happening}`;

const finished = (ns: string, name: string, timeoutMs = 60_000) =>
  waitForRunner(ns, name, 'a finished run', (r) => r.status?.lastRun !== undefined && r.status.lastRun.result !== 'Running' && r.status.state !== 'Running', timeoutMs);

/** A Runner whose check fails (exit code 1) and leaves a JUnit report in its termination message. */
function failingWithReport(ns: string, name: string, report: string): Runner {
  const runner = runnerManifest(ns, name, { testResults: { format: 'JUnit', from: 'TerminationMessage' } }, {}, true);
  runner.spec.template.metadata!.annotations = { [`${KWOK}/exit-code`]: '1', [`${KWOK}/message`]: report };
  return runner;
}

// ---- Every happening, as a CloudEvents consumer reads it ------------------------------------------

describe.concurrent('every happening reaches a CloudEvents receiver, in Binary and Structured mode, as the SDK parses it', () => {
  let ns: string;
  let binary: CloudEventsReceiver;
  let structured: CloudEventsReceiver;
  const source = () => `/apis/${GROUP}/${VERSION}/namespaces/${ns}/runners`;

  beforeAll(async () => {
    ns = await namespaceFor('notify-events');
    [binary, structured] = await Promise.all([started(startCloudEventsReceiver()), started(startCloudEventsReceiver())]);
    await operatorIn([ns]);
    cleanups.push(startFlakyAgent(ns));
    await Promise.all([
      subscribe(ns, 'binary', { type: 'CloudEvents', address: binary.url, cloudEvents: { mode: 'Binary' } }, HAPPENINGS),
      subscribe(ns, 'structured', { type: 'CloudEvents', address: structured.url, cloudEvents: { mode: 'Structured' } }, HAPPENINGS),
    ]);
  });

  /** The event with this id, once at each receiver, each in its mode, the same event in both. */
  async function atBoth(id: string, timeoutMs = 60_000) {
    await waitFor(`the event ${id} at both receivers`, () => binary.acceptedCount(id) > 0 && structured.acceptedCount(id) > 0, timeoutMs);
    const b = binary.deliveries().find((d) => d.event.id === id)!;
    const s = structured.deliveries().find((d) => d.event.id === id)!;
    expect(b.request.headers['ce-id']).toBe(id);
    expect(b.request.headers['content-type']).toMatch(/^application\/json/);
    expect(s.request.headers['ce-id']).toBeUndefined();
    expect(s.request.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    expect(s.event.toJSON()).toEqual(b.event.toJSON());
    expect([binary.acceptedCount(id), structured.acceptedCount(id)]).toEqual([1, 1]);
    expect([...binary.problems, ...structured.problems]).toEqual([]);
    return b.event;
  }

  /** What every event of a run says of itself and its Runner. */
  function expectRunEvent(event: Awaited<ReturnType<typeof atBoth>>, runner: Runner, happening: Happening, time: string) {
    const { name = '', uid = '' } = runner.metadata;
    expect(event).toMatchObject({ specversion: '1.0', type: TYPES[happening], source: source(), subject: name, datacontenttype: 'application/json' });
    expect(Date.parse(event.time!)).toBe(Date.parse(time));
    expect(event.data).toMatchObject({
      happening,
      runner: { namespace: ns, name, uid },
      advisory: false,
      summary: expect.stringContaining(`${ns}/${name}: `),
      run: { jobName: runner.status!.lastRun!.jobName, trigger: runner.status!.lastRun!.trigger, startTime: runner.status!.lastRun!.startTime },
    });
  }

  it('RunStarted and RunSucceeded: the run, its trigger and its Job', async () => {
    await createRunner(runnerManifest(ns, 'passes', {}));
    const done = await finished(ns, 'passes');
    expect(done.status?.lastRun?.result).toBe('Succeeded');
    const start = await atBoth(runNoticeId(done, 'RunStarted'));
    expectRunEvent(start, done, 'RunStarted', done.status!.lastRun!.startTime);
    expect(start.data?.run?.trigger).toBe('first run');
    expect(start.data?.outcome).toBeUndefined();
    expect(start.data?.summary).toContain(`started Job ${done.status!.lastRun!.jobName}`);
    const end = await atBoth(runNoticeId(done, 'RunSucceeded'));
    expectRunEvent(end, done, 'RunSucceeded', done.status!.lastRun!.completionTime!);
    expect(end.data).toMatchObject({ outcome: 'pass', run: { result: 'Succeeded', completionTime: done.status!.lastRun!.completionTime } });
  });

  it('RunFailed: the result, the message and the test counts of spec.testResults', async () => {
    const report = '<testsuite name="shop" tests="3"><testcase name="cart"/><testcase name="pay"><failure message="502 from /pay"/></testcase><testcase name="ship"/></testsuite>';
    await createRunner(failingWithReport(ns, 'fails', report));
    const done = await finished(ns, 'fails');
    expect(done.status?.lastRun?.result).toBe('Failed');
    const event = await atBoth(runNoticeId(done, 'RunFailed'));
    expectRunEvent(event, done, 'RunFailed', done.status!.lastRun!.completionTime!);
    expect(event.data).toMatchObject({
      outcome: 'fail',
      run: { result: 'Failed', message: done.status!.lastRun!.message, tests: { tests: 3, failures: 1, errors: 0, failed: [{ name: 'pay', kind: 'failure', message: '502 from /pay' }] } },
      summary: expect.stringContaining('3 tests: 1 failed'),
    });
  });

  it('RunRecovered: the first success after a failed run (its pods mended, and a manual trigger)', async () => {
    await createRunner(runnerManifest(ns, 'mends', {}, {}, true));
    const failed = await finished(ns, 'mends');
    expect(failed.status?.lastRun?.result).toBe('Failed');
    await atBoth(runNoticeId(failed, 'RunFailed'));
    const mendedPods = Object.fromEntries(Object.keys(FAIL_LABEL).map((label) => [label, null]));
    await patchRunner(ns, 'mends', { metadata: { annotations: { [ANNOTATION_TRIGGER]: 'mended' } }, spec: { template: { metadata: { labels: mendedPods } } } });
    const mended = await waitForRunner(ns, 'mends', 'a second run succeeded', (r) => r.status?.lastRun?.jobName !== failed.status!.lastRun!.jobName && r.status?.lastRun?.result === 'Succeeded');
    const event = await atBoth(runNoticeId(mended, 'RunRecovered'));
    expectRunEvent(event, mended, 'RunRecovered', mended.status!.lastRun!.completionTime!);
    expect(event.data).toMatchObject({ outcome: 'pass', run: { result: 'Succeeded', recovered: true }, summary: expect.stringContaining('recovered') });
    // Told as the most specific happening only: no RunSucceeded for the same run.
    expect(binary.acceptedCount(runNoticeId(mended, 'RunSucceeded'))).toBe(0);
  });

  it('RunFlaky: a success after a failed attempt', async () => {
    await createRunner(withPods(runnerManifest(ns, 'flaky', { backoffLimit: 1 }), POD_BEHAVIOUR.failsFirstAttempt));
    const done = await finished(ns, 'flaky', 90_000);
    expect(done.status?.lastRun).toMatchObject({ result: 'Succeeded', flaky: true });
    const event = await atBoth(runNoticeId(done, 'RunFlaky'));
    expectRunEvent(event, done, 'RunFlaky', done.status!.lastRun!.completionTime!);
    expect(event.data).toMatchObject({ outcome: 'pass', run: { result: 'Succeeded', flaky: true, attempts: 2 }, summary: expect.stringContaining('flaky') });
  });

  it('RunError: a run the infrastructure ended (its pod evicted)', async () => {
    await createRunner(withPods(runnerManifest(ns, 'evicted', { backoffLimit: 0 }), POD_BEHAVIOUR.evicted));
    const done = await finished(ns, 'evicted');
    expect(done.status?.lastRun).toMatchObject({ result: 'Error', errorReason: 'PodEvicted' });
    const event = await atBoth(runNoticeId(done, 'RunError'));
    expectRunEvent(event, done, 'RunError', done.status!.lastRun!.completionTime!);
    expect(event.data).toMatchObject({ outcome: 'error', run: { result: 'Error', errorReason: 'PodEvicted' } });
  });

  it('Stalled: two Runners that wait for each other (a dependency cycle)', async () => {
    const [a, b] = await Promise.all([
      createRunner(runnerManifest(ns, 'cycle-a', { runnerSelector: { matchLabels: { cycle: 'b' } } }, { cycle: 'a' })),
      createRunner(runnerManifest(ns, 'cycle-b', { runnerSelector: { matchLabels: { cycle: 'a' } } }, { cycle: 'b' })),
    ]);
    for (const runner of [a, b]) {
      const name = runner.metadata.name!;
      const stalled = await waitForRunner(ns, name, 'Stalled (DependencyCycle)', (r) => condition(r, 'Stalled')?.reason === 'DependencyCycle' && condition(r, 'Stalled')?.status === 'True');
      const since = condition(stalled, 'Stalled')!.lastTransitionTime!;
      const id = await waitFor(`a Stalled event of ${name}`, () => binary.events().find((e) => e.subject === name && e.type === TYPES.Stalled)?.id);
      expect(id.startsWith(`${runner.metadata.uid}/stalled/DependencyCycle/`)).toBe(true);
      const event = await atBoth(id);
      expect(event).toMatchObject({ specversion: '1.0', source: source(), subject: name });
      expect(Date.parse(event.time!)).toBe(Date.parse(String(since)));
      expect(event.data).toMatchObject({ happening: 'Stalled', runner: { namespace: ns, name, uid: runner.metadata.uid }, stall: { reason: 'DependencyCycle', message: condition(stalled, 'Stalled')!.message } });
      expect(event.data?.run).toBeUndefined();
    }
  });
});

// ---- Slack ---------------------------------------------------------------------------------------

describe.concurrent('a Slack destination', () => {
  it('gets messages of the documented incoming-webhook shape at the address in its Secret, with cluster text escaped', async () => {
    const ns = await namespaceFor('notify-slack');
    const slack = await started(startSlackReceiver());
    await operatorIn([ns]);
    const hook = '/services/T0000/B0000/XXXXXXXXXXXX';
    await createSecret(ns, 'slack-webhook', { address: new URL(hook, slack.url).href });
    await subscribe(ns, 'team-channel', { type: 'Slack', secretRef: { name: 'slack-webhook' } }, ['RunStarted', 'RunSucceeded', 'RunFailed']);

    const report = '<testsuite name="s" tests="2"><testcase name="&lt;!channel&gt; checkout"><failure message="&lt;!here&gt; see &lt;https://evil.example|click&gt; &amp; *pay*"/></testcase><testcase name="ok"/></testsuite>';
    await createRunner(failingWithReport(ns, 'pings', report));
    await createRunner(runnerManifest(ns, 'quiet', {}));
    const failed = await finished(ns, 'pings');
    expect(failed.status?.lastRun?.tests?.failed?.[0]?.name).toBe('<!channel> checkout');
    await finished(ns, 'quiet');

    const [post] = await waitFor('the failed run at Slack', () => {
      const posts = slack.postsStartingWith(`${ns}/pings run failed`);
      return posts.length > 0 && posts;
    });
    await waitFor('the success at Slack', () => slack.postsStartingWith(`${ns}/quiet run succeeded`).length > 0);
    await waitFor('both starts at Slack', () => ['pings', 'quiet'].every((n) => slack.postsStartingWith(`${ns}/${n} run started`).length > 0));
    expect(slack.violations).toEqual([]);
    expect(slack.requests.every((r) => r.path === hook && r.status === 200)).toBe(true);
    expect(slack.postsStartingWith(`${ns}/pings run failed`)).toHaveLength(1);

    for (const { body } of slack.requests) for (const raw of ['<!channel>', '<!here>', '<https://evil.example|click>']) expect(body).not.toContain(raw);
    expect(post!.text).toContain('2 tests: 1 failed');
    const failing = post!.blocks?.find((b) => b.type === 'section' && b.text?.text.includes('Failing tests'));
    expect(failing?.text?.text).toContain('&lt;!channel&gt; checkout — &lt;!here&gt; see &lt;https://evil.example|click&gt; &amp; *pay*');
    expect(post!.blocks?.find((b) => b.type === 'context')?.elements?.map((e) => e.text)).toContain(`Job ${failed.status!.lastRun!.jobName}`);
  });
});

// ---- Only what a Notification subscribes to ------------------------------------------------------

describe.concurrent('a Notification of RunFailed only', () => {
  it('sends nothing for a success, and the failure that follows', async () => {
    const ns = await namespaceFor('notify-filter');
    const hook = await started(startWebhookReceiver());
    await operatorIn([ns]);
    await subscribe(ns, 'failures', { type: 'Webhook', address: hook.url }, ['RunFailed']);

    await createRunner(runnerManifest(ns, 'succeeds', {}));
    expect((await finished(ns, 'succeeds')).status?.lastRun?.result).toBe('Succeeded');
    await stays('a notice of the success is sent', () => hook.requests.length > 0, 3_000);

    const fails = await createRunner(runnerManifest(ns, 'fails', {}, {}, true));
    const done = await finished(ns, 'fails');
    const id = runNoticeId(done, 'RunFailed');
    await waitFor('the failure at the webhook', () => hook.acceptedCount(id) === 1);
    // The window that ends with the failure's notice: the success was never told, before it or with it.
    expect(hook.bodies().map((b) => [b.subject, b.happening])).toEqual([[`${ns}/fails`, 'RunFailed']]);
    expect(hook.requests).toHaveLength(1);
    expect(hook.bodies()[0]).toMatchObject({
      id, type: TYPES.RunFailed, happening: 'RunFailed', time: new Date(done.status!.lastRun!.completionTime!).toISOString(),
      data: { runner: { namespace: ns, name: 'fails', uid: fails.metadata.uid }, outcome: 'fail', run: { result: 'Failed', jobName: done.status!.lastRun!.jobName } },
    });
  });
});

// ---- A receiver that is down for a while ---------------------------------------------------------

describe.concurrent('a destination that answers 503', () => {
  it('is retried and gets the notice once; meanwhile the Destination warns DeliveryFailing and is not Ready', async () => {
    const ns = await namespaceFor('notify-retry');
    const receiver = await started(startCloudEventsReceiver());
    receiver.answer('unavailable');
    await operatorIn([ns]);
    await subscribe(ns, 'down-for-a-while', { type: 'CloudEvents', address: receiver.url }, ['RunSucceeded']);
    await waitForReady(DESTINATION_PLURAL, ns, 'down-for-a-while', 'True');

    await createRunner(runnerManifest(ns, 'told-late', {}));
    const id = runNoticeId(await finished(ns, 'told-late'), 'RunSucceeded');
    const failing = await waitForReady(DESTINATION_PLURAL, ns, 'down-for-a-while', 'False', 'DeliveryFailing');
    expect(failing.message).toMatch(/^3 deliveries in a row to http:\/\/127\.0\.0\.1:\d+ failed, the last: answered 503; retrying with backoff$/);
    const warning = await waitFor('a DeliveryFailing Event', async () => (await eventsAbout(ns, 'Destination', 'down-for-a-while')).find((e) => e.reason === 'DeliveryFailing'));
    expect(warning).toMatchObject({ type: 'Warning', message: expect.stringContaining('3 deliveries in a row failed, the last: answered 503') });
    expect(receiver.answered(503).length).toBeGreaterThanOrEqual(3);
    expect(receiver.answered(503).every((r) => r.headers['ce-id'] === id)).toBe(true);

    receiver.answer('accept');
    await waitFor('the notice delivered', () => receiver.acceptedCount(id) === 1, 30_000);
    await waitForReady(DESTINATION_PLURAL, ns, 'down-for-a-while', 'True');
    await waitFor('a DeliveryRecovered Event', async () => (await eventsAbout(ns, 'Destination', 'down-for-a-while')).find((e) => e.reason === 'DeliveryRecovered' && e.type === 'Normal'));

    // Bounded by a later notice on the same line: the first one was not sent again meanwhile.
    await createRunner(runnerManifest(ns, 'told-next', {}));
    const next = runNoticeId(await finished(ns, 'told-next'), 'RunSucceeded');
    await waitFor('the next notice delivered', () => receiver.acceptedCount(next) === 1);
    expect(receiver.acceptedCount(id)).toBe(1);
  });
});

// ---- Bad configuration, said in Ready ------------------------------------------------------------

describe.concurrent('bad configuration is named in Ready', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await namespaceFor('notify-config');
    await operatorIn([ns]);
  });

  it('a Notification naming a Destination that does not exist: DestinationNotFound, naming spec.destinationRef.name', async () => {
    await createNotification(ns, 'nowhere', { destinationRef: { name: 'no-such-destination' }, events: ['RunFailed'] });
    const ready = await waitForReady(NOTIFICATION_PLURAL, ns, 'nowhere', 'False', 'DestinationNotFound');
    expect(ready.message).toBe(`spec.destinationRef.name: no Destination ${ns}/no-such-destination`);
  });

  it('a Destination whose Secret does not exist: SecretNotFound, and its Notification DestinationNotReady', async () => {
    await createDestination(ns, 'secretless', { type: 'Webhook', secretRef: { name: 'no-such-secret' } });
    await createNotification(ns, 'to-secretless', { destinationRef: { name: 'secretless' }, events: ['RunFailed'] });
    const ready = await waitForReady(DESTINATION_PLURAL, ns, 'secretless', 'False', 'SecretNotFound');
    expect(ready.message).toBe(`spec.secretRef.name: no Secret ${ns}/no-such-secret`);
    const notification = await waitForReady(NOTIFICATION_PLURAL, ns, 'to-secretless', 'False', 'DestinationNotReady');
    expect(notification.message).toContain('no-such-secret');
  });
});

describe.concurrent('an operator that does not allow local addresses', () => {
  let ns: string;
  beforeAll(async () => {
    ns = await namespaceFor('notify-local');
    await operatorIn([ns], { allowLocal: false, crossNamespace: true });
  });

  it('refuses a Destination on 127.0.0.1 (AddressRefused) and sends it nothing', async () => {
    const receiver = await started(startCloudEventsReceiver());
    await createDestination(ns, 'loopback', { type: 'CloudEvents', address: receiver.url });
    // Each test of this namespace hears its own Runner only: they run side by side.
    await createNotification(ns, 'to-loopback', { destinationRef: { name: 'loopback' }, events: ['RunStarted', 'RunSucceeded'], runners: { selector: { matchLabels: { notice: 'near' } } } });
    const ready = await waitForReady(DESTINATION_PLURAL, ns, 'loopback', 'False', 'AddressRefused');
    expect(ready.message).toMatch(/^spec\.address: 127\.0\.0\.1 is .+; destinations on loopback, link-local and metadata addresses are off$/);
    await waitForReady(NOTIFICATION_PLURAL, ns, 'to-loopback', 'False', 'DestinationNotReady');
    await createRunner(runnerManifest(ns, 'near', {}, { notice: 'near' }));
    await finished(ns, 'near');
    await stays('a request reaches the loopback receiver', () => receiver.requests.length > 0, 3_000);
  });

  it('refuses, when it connects, a name that resolves to loopback, and says it dropped the notice', async () => {
    const receiver = await started(startCloudEventsReceiver());
    const address = receiver.url.replace('127.0.0.1', 'localhost');
    await subscribe(ns, 'named-loopback', { type: 'CloudEvents', address }, ['RunSucceeded'], { selector: { matchLabels: { notice: 'named' } } });
    await createRunner(runnerManifest(ns, 'named', {}, { notice: 'named' }));
    await finished(ns, 'named');
    const dropped = await waitFor('a NotificationsDropped Event', async () => (await eventsAbout(ns, 'Destination', 'named-loopback')).find((e) => e.reason === 'NotificationsDropped'));
    expect(dropped).toMatchObject({ type: 'Warning', message: expect.stringMatching(/RunSucceeded of .*\/named\): refused: .*localhost resolves to/) });
    expect(receiver.requests).toHaveLength(0);
  });
});

describe.concurrent('a Secret the API server failed to give once', () => {
  it('is read again by itself, and the notice due meanwhile is delivered once', async () => {
    const ns = await namespaceFor('notify-secret-read');
    const hook = await started(startWebhookReceiver());
    const proxy = await FaultProxy.start(await connectionOf(await operatorKubeConfig()));
    cleanups.push(() => proxy.close());
    // What an API server under strain answers now and then; the next read succeeds.
    const strained = proxy.add({ match: { method: 'GET', path: `/api/v1/namespaces/${ns}/secrets/hook` }, fault: { kind: 'status', code: 500, message: 'etcdserver: request timed out' }, times: 1 });
    await createSecret(ns, 'hook', { address: hook.url });
    await operatorIn([ns], ALLOW_LOCAL, new KubeClient(proxy.connection()));
    await createDestination(ns, 'hook', { type: 'Webhook', secretRef: { name: 'hook' } });
    await createNotification(ns, 'hook', { destinationRef: { name: 'hook' }, events: ['RunSucceeded'] });
    await createRunner(runnerManifest(ns, 'told', {}));
    await waitFor('the Secret read refused once', () => strained.hits === 1);
    const unread = await waitForReady(DESTINATION_PLURAL, ns, 'hook', 'False');
    expect(unread).toMatchObject({ reason: 'SecretUnreadable', message: expect.stringMatching(new RegExp(`could not read Secret ${ns}/hook`)) });

    const id = runNoticeId(await finished(ns, 'told'), 'RunSucceeded');
    // The Destination reads its Secret again after a pause of its own, and the line after its backoff.
    await waitFor(`${id} delivered`, () => hook.acceptedCount(id) === 1, 90_000);
    await waitForReady(DESTINATION_PLURAL, ns, 'hook', 'True');
    expect(hook.requests).toHaveLength(1);
  });
});

// ---- Secrets stay secret -------------------------------------------------------------------------

describe.concurrent('a Destination\'s Secret', () => {
  it('gives the address (a token in its path) and a Bearer token, and neither shows in status, Events or the operator\'s log', async () => {
    const ns = await namespaceFor('notify-secret');
    const hook = await started(startWebhookReceiver());
    hook.answer('unavailable');
    const pathSecret = 'T0K3N-SECRET-in-the-path';
    const token = 'S3CR3T-bearer-token-value';
    await createSecret(ns, 'hook-secret', { address: new URL(`/hooks/${pathSecret}`, hook.url).href, token });
    const operator = await operatorProcessIn([ns], { HESTIA_LOG_LEVEL: 'debug' });
    await subscribe(ns, 'hook', { type: 'Webhook', secretRef: { name: 'hook-secret' } }, ['RunStarted', 'RunSucceeded']);

    await createRunner(runnerManifest(ns, 'told', {}));
    const done = await finished(ns, 'told');
    // Failures are what get logged and put in Events: some first, then the deliveries.
    await waitForReady(DESTINATION_PLURAL, ns, 'hook', 'False', 'DeliveryFailing');
    await waitFor('a DeliveryFailing Event', async () => (await eventsAbout(ns, 'Destination', 'hook')).some((e) => e.reason === 'DeliveryFailing'));
    hook.answer('accept');
    const ids = [runNoticeId(done, 'RunStarted'), runNoticeId(done, 'RunSucceeded')];
    await waitFor('both notices delivered', () => ids.every((id) => hook.acceptedCount(id) === 1), 30_000);
    await waitForReady(DESTINATION_PLURAL, ns, 'hook', 'True');

    for (const request of hook.requests) {
      expect(request.path).toBe(`/hooks/${pathSecret}`);
      expect(request.headers.authorization).toBe(`Bearer ${token}`);
    }
    const shown = {
      destination: await getObject(DESTINATION_PLURAL, ns, 'hook'),
      notification: await getObject(NOTIFICATION_PLURAL, ns, 'hook'),
      runner: await getObject('runners', ns, 'told'),
      events: (await core.listNamespacedEvent({ namespace: ns })).items,
    };
    const said = JSON.stringify(shown);
    expect(said).toContain('DeliveryFailing');
    const log = operator.output();
    expect(log).toContain('notification not delivered');
    expect(log).toContain('notification delivered');
    for (const secret of [pathSecret, token]) {
      expect(said, 'status and Events').not.toContain(secret);
      expect(log, "the operator's log").not.toContain(secret);
    }
  });
});

// ---- Restarts and hand-overs: what is due is sent once, what was delivered never again ------------

/** Waits until the Notification's status.delivered says it delivered this notice. */
const deliveredRecorded = (ns: string, notification: string, runner: string, id: string) =>
  waitFor(`${ns}/${notification} to record ${id} as delivered`, async () =>
    (await getObject<Notification>(NOTIFICATION_PLURAL, ns, notification)).status?.delivered?.[`${ns}/${runner}`]?.ids.includes(deliveredDigest(id)));

/** Runs a Runner and waits until its success is at the receiver; returns the notice's id. */
async function toldSuccess(ns: string, name: string, receiver: CloudEventsReceiver, timeoutMs = 60_000): Promise<string> {
  await createRunner(runnerManifest(ns, name, {}));
  const id = runNoticeId(await finished(ns, name), 'RunSucceeded');
  await waitFor(`${id} at the receiver`, () => receiver.acceptedCount(id) > 0, timeoutMs);
  return id;
}

/** Runs a Runner while the receiver answers 503: its success is due, tried and not delivered. */
async function dueNotDelivered(ns: string, name: string, receiver: CloudEventsReceiver): Promise<string> {
  await createRunner(runnerManifest(ns, name, {}));
  const id = runNoticeId(await finished(ns, name), 'RunSucceeded');
  await waitFor(`${id} tried and answered 503`, () => receiver.answered(503).some((r) => r.headers['ce-id'] === id));
  return id;
}

describe.concurrent('an operator process restarted', () => {
  it('after SIGKILL sends the notice that was due exactly once, and after delivery was recorded nothing again', async () => {
    const ns = await namespaceFor('notify-restart');
    const receiver = await started(startCloudEventsReceiver());
    receiver.answer('unavailable');
    let operator = await operatorProcessIn([ns]);
    await subscribe(ns, 'successes', { type: 'CloudEvents', address: receiver.url }, ['RunSucceeded']);

    const due = await dueNotDelivered(ns, 'due', receiver);
    await operator.kill('SIGKILL');
    const ledger = (await getObject<Notification>(NOTIFICATION_PLURAL, ns, 'successes')).status?.delivered?.[`${ns}/due`];
    expect(ledger?.ids ?? []).not.toContain(deliveredDigest(due));
    receiver.answer('accept');

    operator = await operatorProcessIn([ns]);
    await waitFor(`${due} delivered by the new process`, () => receiver.acceptedCount(due) > 0, 30_000);
    const later = await toldSuccess(ns, 'later', receiver);
    expect([receiver.acceptedCount(due), receiver.acceptedCount(later)]).toEqual([1, 1]);

    await deliveredRecorded(ns, 'successes', 'due', due);
    await deliveredRecorded(ns, 'successes', 'later', later);
    await operator.kill('SIGKILL');
    operator = await operatorProcessIn([ns]);
    const last = await toldSuccess(ns, 'last', receiver);
    expect([receiver.acceptedCount(due), receiver.acceptedCount(later), receiver.acceptedCount(last)]).toEqual([1, 1, 1]);
    await operator.kill('SIGTERM');
  });
});

describe.concurrent('a leader hand-over', () => {
  it('the standby sends the notice the stopped leader could not, exactly once, and what was delivered never again', async () => {
    const ns = await namespaceFor('notify-handover');
    const receiver = await started(startCloudEventsReceiver());
    receiver.answer('unavailable');
    const lease = `hestia-notify-${process.pid}`;
    // Lease 10 s, renew deadline 7 s, retry 1 s: a released Lease is taken at the standby's next retry.
    const replica = (identity: string) => operatorProcessIn([ns], {
      HESTIA_LEADER_ELECTION: 'true', POD_NAMESPACE: OPERATOR_NAMESPACE, POD_NAME: identity, HESTIA_LEASE_NAME: lease,
      HESTIA_LEASE_SECONDS: '10', HESTIA_LEASE_RENEW_DEADLINE_SECONDS: '7', HESTIA_LEASE_RETRY_SECONDS: '1',
    });
    const holder = async () => (await coordination.readNamespacedLease({ namespace: OPERATOR_NAMESPACE, name: lease })).spec?.holderIdentity;
    const standingBy = async (r: OperatorProcess) => waitFor('a replica to wait for the Lease', () => r.output().includes('waiting to become leader'));

    const a = await replica('replica-a');
    await waitFor('replica-a to lead', async () => (await holder()) === 'replica-a');
    const b = await replica('replica-b');
    await standingBy(b);
    await subscribe(ns, 'successes', { type: 'CloudEvents', address: receiver.url }, ['RunSucceeded']);

    const due = await dueNotDelivered(ns, 'due', receiver);
    await a.kill('SIGTERM');
    receiver.answer('accept');
    await waitFor('replica-b to lead', async () => (await holder()) === 'replica-b', 30_000);
    await waitFor(`${due} delivered by the new leader`, () => receiver.acceptedCount(due) > 0, 30_000);
    const later = await toldSuccess(ns, 'later', receiver);
    expect([receiver.acceptedCount(due), receiver.acceptedCount(later)]).toEqual([1, 1]);

    await deliveredRecorded(ns, 'successes', 'due', due);
    await deliveredRecorded(ns, 'successes', 'later', later);
    const c = await replica('replica-c');
    await standingBy(c);
    await b.kill('SIGTERM');
    await waitFor('replica-c to lead', async () => (await holder()) === 'replica-c', 30_000);
    const last = await toldSuccess(ns, 'last', receiver);
    expect([receiver.acceptedCount(due), receiver.acceptedCount(later), receiver.acceptedCount(last)]).toEqual([1, 1, 1]);
    await c.kill('SIGTERM');
  });
});

describe.concurrent('replicas that share the Runners (HESTIA_SHARDING)', () => {
  it('send each notice once through a hand-over: what the stopped replica delivered is not sent again, what it could not is sent by the next owner', async () => {
    const ns = await namespaceFor('notify-sharded');
    const receiver = await started(startCloudEventsReceiver());
    const ring = `hestia-notify-shard-${process.pid}`;
    const replica = (identity: string) => operatorProcessIn([ns], {
      HESTIA_SHARDING: 'true', POD_NAMESPACE: OPERATOR_NAMESPACE, POD_NAME: identity, HESTIA_LEASE_NAME: ring,
      HESTIA_LEASE_SECONDS: '4', HESTIA_LEASE_RENEW_DEADLINE_SECONDS: '2.5', HESTIA_LEASE_RETRY_SECONDS: '0.5',
    });
    const views = async () => (await coordination.listNamespacedLease({ namespace: OPERATOR_NAMESPACE, labelSelector: `hestia.stakater.com/member-of=${ring}` })).items
      .map((l) => l.metadata?.annotations?.['hestia.stakater.com/view']);
    const a = await replica('replica-a');
    const b = await replica('replica-b');
    await waitFor('both replicas to act on one view', async () => {
      const v = await views();
      return v.length === 2 && v.every((x) => x !== undefined && x === v[0] && x.includes('replica-a') && x.includes('replica-b'));
    }, 30_000);
    await subscribe(ns, 'successes', { type: 'CloudEvents', address: receiver.url }, ['RunSucceeded']);

    // Runs Runners named prefix-i, `ran` each, until `count` have run and one of them is replica-a's (whose Runners
    // move): the ring says which replica owns each (src/shard/ring.ts).
    const owners = assignSlots(['replica-a', 'replica-b']);
    const ofReplicaA = async (name: string) => owners[slotOf((await getRunner(ns, name)).metadata.uid!)] === 'replica-a';
    const runUntilOneOfA = async (prefix: string, count: number, ran: (name: string) => Promise<string>) => {
      const ids: string[] = [];
      let hasA = false;
      for (let i = 0; ids.length < count || !hasA; i++) {
        ids.push(await ran(`${prefix}-${i}`));
        hasA ||= await ofReplicaA(`${prefix}-${i}`);
      }
      return ids;
    };
    // Delivered by whichever replica owns each Runner, and recorded by it.
    const delivered = await runUntilOneOfA('told', 4, (name) => toldSuccess(ns, name, receiver));
    for (let i = 0; i < delivered.length; i++) await deliveredRecorded(ns, 'successes', `told-${i}`, delivered[i]!);
    // Due and not delivered (the receiver refuses; a failing Destination's notices wait behind its first): the next
    // owner of replica-a's Runner sends it.
    receiver.answer('unavailable');
    const due = await runUntilOneOfA('due', 2, async (name) => {
      await createRunner(runnerManifest(ns, name, {}));
      return runNoticeId(await finished(ns, name), 'RunSucceeded');
    });
    await waitFor('the receiver to have refused a notice', () => receiver.answered(503).length > 0);

    await a.kill('SIGTERM');
    receiver.answer('accept');
    await waitFor('replica-b to act on every slot', async () => {
      const v = await views();
      return v.length === 1 && v[0] === 'replica-b';
    }, 30_000);
    for (const id of due) await waitFor(`${id} delivered`, () => receiver.acceptedCount(id) > 0, 30_000);
    // Whatever replica-b would send again of what replica-a delivered is queued before this one.
    const last = await toldSuccess(ns, 'last', receiver);
    expect([...delivered, ...due, last].map((id) => receiver.acceptedCount(id))).toEqual(new Array(delivered.length + due.length + 1).fill(1));
    await b.kill('SIGTERM');
  });
});

// ---- A dead destination holds up no run ----------------------------------------------------------

describe.concurrent('a destination that never answers', () => {
  const RUNNERS = 50;

  it(`delays no run: a rollout selected by ${RUNNERS} Runners has all its Jobs, and every run ends, while its notices hang`, async () => {
    const ns = await namespaceFor('notify-dead');
    const dead = await started(startCloudEventsReceiver());
    dead.answer('hang');
    await operatorIn([ns]);
    const app = `dead-${process.pid}`;
    await createDeployment(ns, 'shop', { app, ...ENABLE });
    const names = Array.from({ length: RUNNERS }, (_, i) => `check-${i}`);
    await Promise.all(names.map((n) => createRunner(runnerManifest(ns, n, { workloadSelector: { matchLabels: { app } } }))));
    const firstJobs = new Map((await allFinished(ns, RUNNERS)).map((r) => [r.metadata.name!, r.status!.lastRun!.jobName]));

    await subscribe(ns, 'dead', { type: 'CloudEvents', address: dead.url, timeoutSeconds: 30 }, ['RunStarted', 'RunSucceeded']);
    const rolledOut = Date.now();
    await rollOut(ns, 'shop', 'v2');
    await waitFor(`a second Job for each of the ${RUNNERS} Runners`, async () =>
      (await runnersOf(ns)).filter((r) => r.status?.lastRun && r.status.lastRun.jobName !== firstJobs.get(r.metadata.name!)).length === RUNNERS, 60_000);
    console.log(`a dead destination: ${RUNNERS} Jobs of one rollout within ${((Date.now() - rolledOut) / 1000).toFixed(1)} s`);
    await allFinished(ns, RUNNERS, (r) => r.status?.lastRun?.jobName !== firstJobs.get(r.metadata.name!));
    expect(dead.requests.length).toBeGreaterThan(0);
    expect(dead.accepted()).toHaveLength(0);
  });
});

async function runnersOf(namespace: string): Promise<Runner[]> {
  return ((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'runners' })) as { items: Runner[] }).items;
}

/** Waits until `count` Runners have finished a run (that satisfies `which`); returns them. */
function allFinished(namespace: string, count: number, which: (r: Runner) => boolean = () => true): Promise<Runner[]> {
  return waitFor(`${count} Runners to finish their run`, async () => {
    const done = (await runnersOf(namespace)).filter((r) => which(r) && r.status?.state === 'Succeeded');
    return done.length === count && done;
  }, 90_000);
}

// Live inspection (issue: `hestia run --inspect`): the running operator's Runner actors are sent, in the Stately
// inspector protocol of @statelyai/inspect, to a WebSocket server. Here the server is the test's own (ws, on loopback),
// and, second, the bridge that @statelyai/inspect/server starts for the browser inspector, read by a client in the
// place of the browser page. A Runner runs on the real control plane; the messages must show its actor moving to
// Running and on to Succeeded.
import { createServer } from 'node:net';
import { createInspectorServer } from '@statelyai/inspect/server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { runnerStateOf } from '../../machines/runner-snapshot.ts';
import { createRunnerInspector, DEFAULT_INSPECT_URL, inspectUrlFrom, InspectUrlError, type RunnerInspector } from '../../src/process/inspect.ts';
import { Operator } from '../../src/operator/operator.ts';
import {
  createDeployment, createNamespace, createRunner, deleteNamespace, ENABLE, installCrd, jobsOf, runnerManifest, waitFor,
  waitForRunner,
} from './support/kube.ts';
import { operatorClient } from './support/identity.ts';

/** What @statelyai/inspect sends (its StatelyInspectionEvent, the fields this test reads). */
interface InspectionMessage {
  type: '@xstate.actor' | '@xstate.event' | '@xstate.snapshot';
  sessionId: string;
  name?: string;
  definition?: string;
  parentId?: string;
  event?: { type: string; key?: string; succeeded?: boolean };
  snapshot?: { value?: unknown; status?: string; context?: { run?: { key: string; result: string | null } | null } };
}

/** Collects every message that WebSocket clients send to it. */
class Collector {
  readonly messages: InspectionMessage[] = [];
  add(data: unknown): void {
    this.messages.push(JSON.parse(String(data)) as InspectionMessage);
  }
  /** The session of the actor that the operator spawned for the Runner with this uid (its actor id). */
  sessionOf(uid: string): string | undefined {
    return this.messages.find((m) => m.type === '@xstate.actor' && m.name === uid)?.sessionId;
  }
  of(sessionId: string): InspectionMessage[] {
    return this.messages.filter((m) => m.sessionId === sessionId);
  }
  /** The Runner states (status.state) of the actor's snapshots, in order, without repeats. */
  states(sessionId: string): unknown[] {
    const values = this.of(sessionId).filter((m) => m.type === '@xstate.snapshot').map((m) => runnerStateOf(m.snapshot?.value));
    return values.filter((v, i) => i === 0 || v !== values[i - 1]);
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });

let ns: string;
let operator: Operator | undefined;
let server: WebSocketServer;
const direct = new Collector();
let bridge: { stop(): void } | undefined;
let bridgePort: number;
/** A client of the bridge in the place of the bridge page's script (the page forwards what it gets to the inspector). */
const page = new Collector();
let pageClient: WebSocket | undefined;
const inspectors: RunnerInspector[] = [];

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('inspect');

  // The test's own inspection server, on loopback.
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => socket.on('message', (data) => direct.add(data)));
  const serverUrl = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;

  // @statelyai/inspect's own bridge for the browser inspector (docs/machine.md), without opening a browser.
  bridgePort = await freePort();
  bridge = createInspectorServer({ port: bridgePort, autoOpen: false });
  pageClient = new WebSocket(`ws://127.0.0.1:${bridgePort}`);
  pageClient.on('message', (data) => page.add(data));
  await new Promise((resolve, reject) => pageClient!.once('open', resolve).once('error', reject));

  // As `hestia run --inspect=<url>` does (src/main.ts), here for two inspectors at once.
  inspectors.push(await createRunnerInspector(inspectUrlFrom([`--inspect=${serverUrl}`], {})!));
  inspectors.push(await createRunnerInspector(inspectUrlFrom([], { HESTIA_INSPECT: `ws://127.0.0.1:${bridgePort}` })!));
  operator = new Operator({
    client: await operatorClient(),
    log: pino({ level: process.env.HESTIA_TEST_LOG ?? 'silent' }),
    inspect: (event) => inspectors.forEach((i) => i.inspect(event)),
  });
  await operator.start();
});

afterAll(async () => {
  await operator?.stop();
  for (const i of inspectors) i.stop();
  pageClient?.close();
  bridge?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await deleteNamespace(ns);
});

describe('hestia run --inspect', () => {
  let uid: string;

  it('reads --inspect, --inspect=URL and HESTIA_INSPECT (the flag first), and refuses what is not a ws:// URL', () => {
    expect(inspectUrlFrom(['run'], {})).toBeUndefined();
    expect(inspectUrlFrom(['--inspect'], {})).toBe(DEFAULT_INSPECT_URL);
    expect(inspectUrlFrom(['--inspect=wss://inspect.example:9000'], {})).toBe('wss://inspect.example:9000');
    expect(inspectUrlFrom([], { HESTIA_INSPECT: 'ws://10.0.0.1:8080' })).toBe('ws://10.0.0.1:8080');
    expect(inspectUrlFrom(['--inspect=ws://a:1'], { HESTIA_INSPECT: 'ws://b:2' })).toBe('ws://a:1');
    expect(() => inspectUrlFrom(['--inspect=http://a:1'], {})).toThrow(InspectUrlError);
    expect(() => inspectUrlFrom([], { HESTIA_INSPECT: 'localhost:8080' })).toThrow(InspectUrlError);
  });

  it("sends a Runner actor's registration, events and snapshots, showing it move to Running and Succeeded", async () => {
    // The Runner first waits for its Deployment, which appears (and becomes ready) after it.
    const created = await createRunner(runnerManifest(ns, 'watched', { workloadSelector: { matchLabels: { app: 'inspect-web' } } }));
    uid = created.metadata.uid!;
    const session = await waitFor('the Runner actor registered with the inspector', () => direct.sessionOf(uid), 10_000);
    await waitFor('a WaitingForWorkloads snapshot', () => direct.states(session).includes('WaitingForWorkloads'), 10_000);
    await createDeployment(ns, 'web', { app: 'inspect-web', ...ENABLE });

    const done = await waitForRunner(ns, 'watched', 'state Succeeded', (r) => r.status?.state === 'Succeeded');
    await waitFor(
      'a Succeeded snapshot of the Runner actor',
      () => direct.states(session).includes('Succeeded'),
      10_000,
    );

    // Registered as a Runner machine; each Runner's actor is a root of its own (src/operator/actor-system.ts).
    const actor = direct.of(session).find((m) => m.type === '@xstate.actor')!;
    expect(JSON.parse(actor.definition!)).toMatchObject({ id: 'runner' });
    expect(actor.parentId).toBeUndefined();

    // Its snapshots go WaitingForWorkloads → Running → Succeeded, and the run is the Job's.
    expect(direct.states(session)).toEqual(['WaitingForWorkloads', 'Running', 'Succeeded']);
    const snapshots = direct.of(session).filter((m) => m.type === '@xstate.snapshot');
    const running = snapshots.find((m) => runnerStateOf(m.snapshot?.value) === 'Running')!;
    const succeeded = snapshots.find((m) => runnerStateOf(m.snapshot?.value) === 'Succeeded')!;
    const key = running.snapshot?.context?.run?.key;
    expect(key).toMatch(/^1:revision:/);
    expect(succeeded.snapshot?.context?.run).toMatchObject({ key, result: 'Succeeded' });
    expect(running.event?.type).toBe('INPUTS');
    expect(succeeded.event).toMatchObject({ type: 'JOB.FINISHED', key, succeeded: true });
    // The events sent to the actor are there too, and they agree with the cluster.
    expect(direct.of(session).some((m) => m.type === '@xstate.event' && m.event?.type === 'JOB.FINISHED')).toBe(true);
    expect(done.status?.lastRun?.jobName).toBe((await jobsOf(ns, 'watched'))[0]?.metadata?.name);
  });

  it('reaches a browser-side client through @statelyai/inspect/server, which serves the page embedding the inspector', async () => {
    const session = await waitFor('the Runner actor, relayed by the bridge', () => page.sessionOf(uid), 10_000);
    await waitFor('Running then Succeeded, relayed', () => {
      const states = page.states(session);
      return states.includes('Running') && states.indexOf('Succeeded') > states.indexOf('Running');
    }, 10_000);
    const html = await (await fetch(`http://127.0.0.1:${bridgePort}/`)).text();
    expect(html).toContain('<iframe id="inspector" src="https://stately.ai/inspect">');
    expect(html).toContain(`new WebSocket('ws://localhost:${bridgePort}')`);
  });
});

// Issue 21, gap 6: Runners that change while the operator starts. Start-up reads the cached Runners, then waits for
// the kinds their spec.resources name to be listed (or found unserved or forbidden) before it restores the actors;
// a kind whose discovery is slow holds it there. Here the operator's discovery of one group-version is held until
// the test lets it through, so the wait lasts as long as the test needs: Runners are created, changed and deleted
// meanwhile, and each must end as it would have had the operator been running all along — every new Runner gets an
// actor, its status and its run; the changed one acts on its change; the deleted one has no actor. And Runners
// created in a loop all through start-up — while the caches list, while start-up waits, after it — each run once.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type Runner } from '../../src/api/runner.ts';
import { groupVersionPath } from '../../src/k8s/api-paths.ts';
import { KubeClient, type RequestArgs } from '../../src/k8s/client.ts';
import { connectionOf } from '../../src/k8s/kubeconfig.ts';
import { Operator } from '../../src/operator/operator.ts';
import { operatorKubeConfig } from './support/identity.ts';
import {
  createNamespace, createRunner, custom, deleteNamespace, deleteRunner, installCrd, jobsOf, patchRunner, runnerManifest, waitFor, waitForRunner,
} from './support/kube.ts';

/** A kind no cluster serves: the operator asks discovery about it, and that answer is what the test holds. */
const HELD_KIND = { apiVersion: 'startup-window.hestia.test/v1', kind: 'Widget' };
const CREATED_MEANWHILE = 10;

/** The operator's own client, its discovery of HELD_KIND's group-version answered only once `release` is called. */
class ClientWithHeldDiscovery extends KubeClient {
  private readonly held = groupVersionPath(HELD_KIND.apiVersion);
  private reached: () => void = () => {};
  private letThrough: () => void = () => {};
  private readonly gate = new Promise<void>((resolve) => (this.letThrough = resolve));
  /** Resolves once the operator has asked (it waits for the answer from then on). */
  readonly asked = new Promise<void>((resolve) => (this.reached = resolve));

  override async request<T>(method: string, path: string, args: RequestArgs = {}): Promise<T> {
    if (method === 'GET' && path === this.held) {
      this.reached();
      await this.gate;
    }
    return super.request<T>(method, path, args);
  }

  release(): void {
    this.letThrough();
  }
}

const namespaces: string[] = [];
const started: { client: ClientWithHeldDiscovery; operator: Operator }[] = [];

/**
 * The real operator on the real control plane, its discovery of HELD_KIND held. Namespace-scoped, so that its cache
 * of Runners holds the test's alone and its count says what it has seen.
 */
async function operatorWithHeldDiscovery(ns: string): Promise<{ client: ClientWithHeldDiscovery; operator: Operator }> {
  const client = new ClientWithHeldDiscovery(await connectionOf(await operatorKubeConfig()));
  const operator = new Operator({ client, log: pino({ level: process.env.HESTIA_TEST_LOG ?? 'silent' }), scope: { namespaces: [ns] } });
  started.push({ client, operator });
  return { client, operator };
}

beforeAll(async () => {
  await installCrd();
});

afterAll(async () => {
  for (const { client, operator } of started) {
    client.release();
    await operator.stop();
  }
  for (const ns of namespaces) await deleteNamespace(ns);
});

async function namespace(): Promise<string> {
  const ns = await createNamespace('startup-window');
  namespaces.push(ns);
  return ns;
}

const succeeded = (r: Runner) => r.status?.state === 'Succeeded' && r.status.lastRun?.result === 'Succeeded';

describe('Runners that change while the operator starts', () => {
  it('each gets its actor, its status and its run: created, changed and deleted while start-up waits for a kind of spec.resources', async () => {
    const ns = await namespace();
    // Before the operator starts: one Runner naming the held kind (start-up waits for it), one to change, one to delete.
    await createRunner(runnerManifest(ns, 'names-held-kind', { resources: [{ ...HELD_KIND, selector: {} }] }));
    await createRunner(runnerManifest(ns, 'changed-meanwhile', { suspend: true }));
    await createRunner(runnerManifest(ns, 'deleted-meanwhile', { suspend: true }));

    const { client, operator } = await operatorWithHeldDiscovery(ns);
    const starting = operator.start();
    await client.asked; // start-up is waiting for the held kind

    await deleteRunner(ns, 'deleted-meanwhile');
    await patchRunner(ns, 'changed-meanwhile', { spec: { suspend: false } });
    const created = Array.from({ length: CREATED_MEANWHILE }, (_, i) => `created-meanwhile-${i}`);
    for (const name of created) await createRunner(runnerManifest(ns, name, {}));
    // Watch events come in order: the last Runner created in the cache means everything before it is there too.
    await waitFor('the operator\'s cache to hold every Runner created meanwhile', () => operator.stats.runners === 2 + CREATED_MEANWHILE);

    client.release();
    await starting;

    for (const name of [...created, 'changed-meanwhile']) {
      const runner = await waitForRunner(ns, name, 'Succeeded with its run', succeeded);
      expect(runner.status?.lastRun?.trigger).toBe('first run');
      expect(await jobsOf(ns, name)).toHaveLength(1);
    }
    const waiting = await waitForRunner(ns, 'names-held-kind', 'waiting for its kind', (r) => r.status?.state === 'WaitingForWorkloads');
    expect(waiting.status?.message).toBe('kind Widget (startup-window.hestia.test/v1) is not served by this cluster');
    // An actor for each Runner there is, none for the one deleted.
    const actors = [...operator.runnersByState().values()].reduce((n, c) => n + c, 0);
    expect(actors).toBe(2 + CREATED_MEANWHILE);
    expect(await jobsOf(ns, 'deleted-meanwhile')).toHaveLength(0);
  }, 180_000);

  it('each runs once when created in a loop all through start-up: before the caches are listed, while start-up waits, after it', async () => {
    const ns = await namespace();
    await createRunner(runnerManifest(ns, 'names-held-kind', { resources: [{ ...HELD_KIND, selector: {} }] }));
    const { client, operator } = await operatorWithHeldDiscovery(ns);

    const names: string[] = [];
    let phase: 'starting' | 'waiting' | 'started' = 'starting';
    const createdIn = { starting: 0, waiting: 0, started: 0 };
    const loop = (async () => {
      while (createdIn.started < 10) {
        const name = `loop-${names.length}`;
        await createRunner(runnerManifest(ns, name, {}));
        names.push(name);
        createdIn[phase] += 1;
      }
    })();
    const starting = operator.start().then(() => void (phase = 'started'));
    await client.asked;
    phase = 'waiting';
    await waitFor('ten Runners created while start-up waits', () => createdIn.waiting >= 10);
    client.release();
    await starting;
    await loop;

    const list = async () => ((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })) as { items: Runner[] }).items;
    let notDone: string[] = [];
    await waitFor(`all ${names.length} Runners created in the loop Succeeded (created ${JSON.stringify(createdIn)})`, async () => {
      const byName = new Map((await list()).map((r) => [r.metadata.name!, r]));
      notDone = names.filter((n) => !succeeded(byName.get(n) ?? ({} as Runner))).map((n) => `${n}: ${byName.get(n)?.status?.state ?? 'no status'}`);
      return notDone.length === 0;
    }, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}; not Succeeded: ${notDone.join(', ')}`);
    });
    for (const name of names) expect(await jobsOf(ns, name), name).toHaveLength(1);
  }, 240_000);
});

// The informer's pure parts: when it opens its next LIST or WATCH (src/k8s/watch-restart.ts), and the
// guard around its projection. How it behaves against a real API server behind faults is in
// test/integration/informer.test.ts; the stub client here stands in only for the projection guard,
// which is about what the cache does with the objects it is given, not about the wire.
import type { KubernetesObject } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { KubeClient, Query, WatchEvent, WatchHandlers } from '../../src/k8s/client.ts';
import { Informer } from '../../src/k8s/informer.ts';
import { RESTART_BACKOFF, RestartBackoff, VERY_SHORT_WATCH_MS, provedHealthy, restartAfter, type WatchRun } from '../../src/k8s/watch-restart.ts';

/** Exact delays, so that the sequence can be read off (the jitter is backoff.test.ts's concern). */
const exact = () => new RestartBackoff({ ...RESTART_BACKOFF, jitter: 0 });
const closedAtOnce: WatchRun = { opened: true, openMs: 5, events: 0 };
const lasted: WatchRun = { opened: true, openMs: 300_000, events: 0 };
const delivered: WatchRun = { opened: true, openMs: 20, events: 3 };
const neverOpened: WatchRun = { opened: false, openMs: 0, events: 0 };

describe('when a watch cache opens its next watch', () => {
  it('counts a watch as proof only if it lasted a second or delivered an event', () => {
    expect(provedHealthy(closedAtOnce)).toBe(false);
    expect(provedHealthy({ opened: true, openMs: VERY_SHORT_WATCH_MS - 1, events: 0 })).toBe(false);
    expect(provedHealthy({ opened: true, openMs: VERY_SHORT_WATCH_MS, events: 0 })).toBe(true);
    expect(provedHealthy(delivered)).toBe(true);
    expect(provedHealthy(neverOpened)).toBe(false);
  });

  it('re-opens at once after the routine end of a watch that worked', () => {
    const backoff = exact();
    expect(restartAfter({ kind: 'ended' }, lasted, backoff)).toEqual({ waitMs: 0, failed: false });
    expect(restartAfter({ kind: 'ended' }, delivered, backoff)).toEqual({ waitMs: 0, failed: false });
  });

  it('treats watches closed as soon as opened as failures, backing off further each time', () => {
    const backoff = exact();
    const waits = Array.from({ length: 8 }, () => restartAfter({ kind: 'ended' }, closedAtOnce, backoff));
    expect(waits.every((w) => w.failed)).toBe(true);
    expect(waits.map((w) => w.waitMs)).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('lists again at once after the first 410, and backs off through a storm of them', () => {
    const backoff = exact();
    const gone = { kind: 'gone' } as const;
    const waits = Array.from({ length: 6 }, () => restartAfter(gone, closedAtOnce, backoff));
    expect(waits.map((w) => w.waitMs)).toEqual([0, 1000, 2000, 4000, 8000, 16_000]);
    expect(waits.some((w) => w.failed)).toBe(false);
  });

  it('starts the backoff over only after a watch that lasted or delivered events', () => {
    const backoff = exact();
    for (let i = 0; i < 4; i++) restartAfter({ kind: 'failed' }, neverOpened, backoff);
    expect(restartAfter({ kind: 'ended' }, closedAtOnce, backoff).waitMs).toBe(8000);
    restartAfter({ kind: 'gone' }, closedAtOnce, backoff);
    expect(restartAfter({ kind: 'gone' }, closedAtOnce, backoff).waitMs).toBe(1000);
    // A watch that delivered events, then failed: the failure is the first of a new series, and so is the next 410.
    expect(restartAfter({ kind: 'failed' }, delivered, backoff)).toEqual({ waitMs: 500, failed: true });
    expect(restartAfter({ kind: 'gone' }, neverOpened, backoff).waitMs).toBe(0);
  });

  it('lists at once after the first 410 that follows failures (a partition healed), and the failures keep their backoff', () => {
    const backoff = exact();
    for (let i = 0; i < 5; i++) restartAfter({ kind: 'failed' }, neverOpened, backoff);
    expect(restartAfter({ kind: 'gone' }, closedAtOnce, backoff).waitMs).toBe(0);
    expect(restartAfter({ kind: 'failed' }, neverOpened, backoff).waitMs).toBe(16_000);
    // Failures between 410s do not make the 410s routine again.
    expect(restartAfter({ kind: 'gone' }, closedAtOnce, backoff).waitMs).toBe(1000);
  });

  it('waits at least as long as a 429 asks', () => {
    expect(restartAfter({ kind: 'failed', retryAfterMs: 7000 }, neverOpened, exact()).waitMs).toBe(7000);
  });

  it('lists again at once when the cache asked for it', () => {
    const backoff = exact();
    for (let i = 0; i < 4; i++) backoff.failures.next();
    expect(restartAfter({ kind: 'resync' }, neverOpened, backoff)).toEqual({ waitMs: 0, failed: false });
  });
});

// --- the projection guard ---

const cm = (name: string, resourceVersion: string, data: Record<string, string> = {}): KubernetesObject & { data: Record<string, string> } => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion },
  data,
});

type Cm = ReturnType<typeof cm>;
/** A projection that cannot cope with one shape of object. */
const slim = (o: KubernetesObject): Cm => {
  const c = o as Cm;
  if (c.data.poison) throw new Error('unexpected shape');
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: c.metadata!.name!, namespace: c.metadata!.namespace!, resourceVersion: c.metadata!.resourceVersion! }, data: c.data };
};

/** Stands in for KubeClient.get/watch: one LIST answer, then watch events pushed by the test. */
class ScriptedClient {
  listed: KubernetesObject[] = [];
  private handlers: WatchHandlers<KubernetesObject> | undefined;
  private opened: (() => void)[] = [];
  watchVersions: (string | undefined)[] = [];

  async get(): Promise<unknown> {
    return { metadata: { resourceVersion: '10' }, items: this.listed };
  }

  watch(_path: string, query: Query, handlers: WatchHandlers<KubernetesObject>): Promise<void> {
    this.watchVersions.push(query.resourceVersion as string | undefined);
    this.handlers = handlers;
    handlers.onOpen?.();
    for (const resolve of this.opened.splice(0)) resolve();
    return new Promise((resolve, reject) => {
      handlers.signal.addEventListener('abort', () => resolve());
      this.fail = reject;
    });
  }

  fail: (err: unknown) => void = () => undefined;

  whenWatching(): Promise<void> {
    return this.handlers ? Promise.resolve() : new Promise((resolve) => this.opened.push(resolve));
  }

  /** As KubeClient.watch does: an event handler that throws ends the watch with that error. */
  send(event: WatchEvent<KubernetesObject>): void {
    try {
      this.handlers!.onEvent(event);
    } catch (err) {
      this.fail(err);
    }
  }
}

function logged(): { log: pino.Logger; lines: { msg: string; object?: string }[] } {
  const lines: { msg: string; object?: string }[] = [];
  return { log: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) }), lines };
}

async function informerOver(client: ScriptedClient, log: pino.Logger): Promise<Informer<Cm>> {
  const informer = new Informer<Cm>(client as unknown as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', slim }, log, 'ns');
  await informer.start();
  await client.whenWatching();
  return informer;
}

describe('an object the projection throws on', () => {
  it('is left out of the LIST, logged once by name, and the cache comes into sync with the rest', async () => {
    const client = new ScriptedClient();
    client.listed = [cm('a', '1'), cm('bad', '2', { poison: 'yes' }), cm('b', '3')];
    const { log, lines } = logged();
    const informer = await informerOver(client, log);
    expect(informer.synced).toBe(true);
    expect([...informer.list()].map((o) => o.metadata!.name).sort()).toEqual(['a', 'b']);
    expect(informer.skipped).toBe(1);
    expect(lines.filter((l) => l.object === 'ns/bad')).toHaveLength(1);
    expect(lines.find((l) => l.object === 'ns/bad')!.msg).toContain('ns/bad');
    await informer.stop();
  });

  it('does not end the watch: later events reach the cache and the watch is never re-opened', async () => {
    const client = new ScriptedClient();
    const { log, lines } = logged();
    const informer = await informerOver(client, log);
    client.send({ type: 'ADDED', object: cm('bad', '11', { poison: 'yes' }) });
    client.send({ type: 'ADDED', object: cm('after', '12') });
    expect(informer.get('ns', 'after')?.metadata?.resourceVersion).toBe('12');
    expect(informer.get('ns', 'bad')).toBeUndefined();
    expect(client.watchVersions).toEqual(['10']);
    expect(informer.restarts).toBe(0);
    expect(lines.filter((l) => l.object === 'ns/bad')).toHaveLength(1);
    await informer.stop();
  });

  it('keeps the last projection of an object whose new version cannot be projected, and forgets it when it is deleted', async () => {
    const client = new ScriptedClient();
    client.listed = [cm('x', '1', { v: 'one' })];
    const { log } = logged();
    const informer = await informerOver(client, log);
    const deleted: string[] = [];
    informer.onDelete((o) => deleted.push(o.metadata!.name!));
    client.send({ type: 'MODIFIED', object: cm('x', '11', { poison: 'yes' }) });
    expect(informer.get('ns', 'x')?.data).toEqual({ v: 'one' });
    client.send({ type: 'DELETED', object: cm('x', '12', { poison: 'yes' }) });
    expect(informer.get('ns', 'x')).toBeUndefined();
    expect(deleted).toEqual(['x']);
    expect(client.watchVersions).toEqual(['10']);
    await informer.stop();
  });

  it('logs a version once, however often it is listed again', async () => {
    const client = new ScriptedClient();
    client.listed = [cm('bad', '2', { poison: 'yes' })];
    const { log, lines } = logged();
    const informer = await informerOver(client, log);
    await informer.resync();
    await informer.resync();
    expect(lines.filter((l) => l.object === 'ns/bad')).toHaveLength(1);
    expect(informer.skipped).toBe(3);
    await informer.stop();
  });
});

// --- stopping ---

/** A LIST that answers only when the test says so. */
class HeldListClient extends ScriptedClient {
  private answer: (() => void) | undefined;
  private listing: (() => void)[] = [];

  /** LISTs begun. */
  lists = 0;

  override get(): Promise<unknown> {
    this.lists += 1;
    for (const resolve of this.listing.splice(0)) resolve();
    return new Promise((resolve) => (this.answer = () => resolve({ metadata: { resourceVersion: '10' }, items: [] })));
  }

  whenListing(): Promise<void> {
    return this.answer ? Promise.resolve() : new Promise((resolve) => this.listing.push(resolve));
  }

  answerList(): void {
    this.answer!();
  }
}

describe('a cache stopped while its LIST is in flight', () => {
  it('opens no watch after the LIST answers, so its stop ends then rather than when a watch would time out', async () => {
    const client = new HeldListClient();
    const informer = new Informer<Cm>(client as unknown as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', slim }, logged().log, 'ns');
    const starting = informer.start();
    await client.whenListing();
    const stopped = informer.stop();
    client.answerList();
    await Promise.all([stopped, starting]);
    expect(client.watchVersions).toEqual([]);
  });
});

// --- what is kept, and a re-list asked for while one is under way ---

describe('a cache that keeps only some objects (keep)', () => {
  it('caches only what `keep` keeps, lets go of what it no longer keeps, and takes the rest in at a resync', async () => {
    const client = new ScriptedClient();
    client.listed = [cm('mine', '1'), cm('theirs', '2')];
    const kept = new Set(['mine']);
    const informer = new Informer<Cm>(client as unknown as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', slim, keep: (o) => kept.has(o.metadata!.name!) }, logged().log, 'ns');
    await informer.start();
    await client.whenWatching();
    const names = () => [...informer.list()].map((o) => o.metadata!.name).sort();
    const deleted: string[] = [];
    informer.onDelete((o) => deleted.push(o.metadata!.name!));
    expect(names()).toEqual(['mine']);
    client.send({ type: 'MODIFIED', object: cm('theirs', '11') });
    expect(names()).toEqual(['mine']);
    // Given another's objects: the next LIST brings them; giving ours up lets them go, told as deleted.
    kept.add('theirs');
    await informer.resync();
    expect(names()).toEqual(['mine', 'theirs']);
    kept.delete('mine');
    informer.dropUnkept();
    expect(names()).toEqual(['theirs']);
    expect(deleted).toEqual(['mine']);
    // A change to one no longer kept is no change to the cache.
    client.send({ type: 'MODIFIED', object: cm('mine', '12') });
    expect(names()).toEqual(['theirs']);
    await informer.stop();
  });

  it('answers a resync asked for while a LIST is under way only with a LIST begun after it', async () => {
    const client = new HeldListClient();
    const informer = new Informer<Cm>(client as unknown as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', slim }, logged().log, 'ns');
    const starting = informer.start();
    await client.whenListing();
    let resynced = false;
    const resync = informer.resync().then(() => (resynced = true));
    client.answerList(); // the LIST that began before the resync was asked for
    await starting;
    await vi.waitFor(() => expect(client.lists).toBe(2)); // a second LIST, at once, before any watch
    expect(resynced).toBe(false);
    expect(client.watchVersions).toEqual([]);
    client.answerList();
    await resync;
    expect(resynced).toBe(true);
    await informer.stop();
  });
});

describe('a cache whose projection of an object follows who acts on it (takeIn, reproject)', () => {
  /** Keeps all of the objects named in `whole`, only the name and version of the others. */
  const following = (whole: Set<string>) => (o: KubernetesObject): Cm => {
    const c = o as Cm;
    return { ...slim(c), data: whole.has(c.metadata!.name!) ? c.data : {} };
  };

  it('takes a fresh read in at the same version, told as a change; an older read, or one of an object not cached, is left out', async () => {
    const client = new ScriptedClient();
    client.listed = [cm('a', '5', { k: 'v' }), cm('b', '6', { k: 'v' })];
    const whole = new Set<string>();
    const informer = new Informer<Cm>(client as unknown as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', slim: following(whole) }, logged().log, 'ns');
    await informer.start();
    await client.whenWatching();
    const changes: string[] = [];
    informer.onChange((prev, cur) => changes.push(`${cur.metadata!.name}@${cur.metadata!.resourceVersion} ${JSON.stringify(prev?.data)}→${JSON.stringify(cur.data)}`));
    expect(informer.get('ns', 'a')!.data).toEqual({});
    whole.add('a');
    informer.takeIn(cm('a', '5', { k: 'v' }));
    expect(informer.get('ns', 'a')!.data).toEqual({ k: 'v' });
    // A read older than what the watch brought meanwhile does not replace it.
    client.send({ type: 'MODIFIED', object: cm('a', '12', { k: 'w' }) });
    informer.takeIn(cm('a', '7', { k: 'v' }));
    expect(informer.get('ns', 'a')!.data).toEqual({ k: 'w' });
    // One the cache does not hold (deleted since it was read, or a namesake) is the watch's to tell.
    informer.takeIn(cm('c', '8', { k: 'v' }));
    informer.takeIn({ ...cm('b', '9', { k: 'v' }), metadata: { name: 'b', namespace: 'ns', resourceVersion: '9', uid: 'another' } });
    expect(informer.get('ns', 'c')).toBeUndefined();
    expect(informer.get('ns', 'b')!.data).toEqual({});
    expect(changes).toEqual(['a@5 {}→{"k":"v"}', 'a@12 {"k":"v"}→{"k":"w"}']);
    await informer.stop();
  });

  it('projects again from the cache only the objects picked, each told as a change', async () => {
    const client = new ScriptedClient();
    client.listed = [cm('a', '5', { k: 'v' }), cm('b', '6', { k: 'v' })];
    const whole = new Set(['a', 'b']);
    const informer = new Informer<Cm>(client as unknown as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', slim: following(whole) }, logged().log, 'ns');
    await informer.start();
    await client.whenWatching();
    const changed: string[] = [];
    informer.onChange((_, cur) => changed.push(cur.metadata!.name!));
    whole.clear();
    informer.reproject((o) => o.metadata!.name === 'a');
    expect(informer.get('ns', 'a')!.data).toEqual({});
    expect(informer.get('ns', 'b')!.data).toEqual({ k: 'v' });
    expect(changed).toEqual(['a']);
    await informer.stop();
  });
});

// --- a part of the kind listed in (listIn) ---

/** The first LIST answers `listed`; each LIST narrowed by a selector waits until the test answers it with `items`. */
class NarrowedListClient extends ScriptedClient {
  selectors: (string | undefined)[] = [];
  private held: ((items: KubernetesObject[]) => void)[] = [];
  private asked: (() => void)[] = [];

  override get(_path?: string, query?: Query): Promise<unknown> {
    const selector = query?.labelSelector as string | undefined;
    this.selectors.push(selector);
    if (!selector?.includes('slot')) return super.get();
    for (const resolve of this.asked.splice(0)) resolve();
    return new Promise((resolve) => this.held.push((items) => resolve({ metadata: { resourceVersion: '20' }, items })));
  }

  whenNarrowed(): Promise<void> {
    return this.held.length > 0 ? Promise.resolve() : new Promise((resolve) => this.asked.push(resolve));
  }

  answerNarrowed(items: KubernetesObject[]): void {
    this.held.shift()!(items);
  }
}

describe('a cache that lists in a part of its kind (listIn)', () => {
  it('takes in what the narrowed LIST holds and `keep` keeps, and leaves the rest of the cache as it is', async () => {
    const client = new NarrowedListClient();
    client.listed = [cm('mine', '1')];
    const kept = new Set(['mine']);
    const informer = new Informer<Cm>(client as unknown as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', labelSelector: 'owned', slim, keep: (o) => kept.has(o.metadata!.name!) }, logged().log, 'ns');
    await informer.start();
    await client.whenWatching();
    const added: string[] = [];
    informer.onChange((previous, current) => void (previous ? undefined : added.push(current.metadata!.name!)));
    kept.add('gained');
    const listing = informer.listIn('slot in (3)');
    await client.whenNarrowed();
    client.answerNarrowed([cm('gained', '15'), cm('stranger', '16')]);
    await listing;
    expect([...informer.list()].map((o) => o.metadata!.name).sort()).toEqual(['gained', 'mine']);
    expect(added).toEqual(['gained']);
    // The source's own selector and the narrowing one, together.
    expect(client.selectors.at(-1)).toBe('owned,slot in (3)');
    await informer.stop();
  });

  it('does not bring back what the watch saw deleted meanwhile, nor put an older version over a newer one', async () => {
    const client = new NarrowedListClient();
    const informer = new Informer<Cm>(client as unknown as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', slim }, logged().log, 'ns');
    await informer.start();
    await client.whenWatching();
    const listing = informer.listIn('slot in (3)');
    await client.whenNarrowed();
    client.send({ type: 'DELETED', object: cm('gone', '17') });
    client.send({ type: 'MODIFIED', object: cm('changed', '18', { k: 'new' }) });
    client.answerNarrowed([cm('gone', '15'), cm('changed', '16', { k: 'old' }), cm('listed', '16')]);
    await listing;
    expect([...informer.list()].map((o) => o.metadata!.name).sort()).toEqual(['changed', 'listed']);
    expect(informer.get('ns', 'changed')!.data).toEqual({ k: 'new' });
    await informer.stop();
  });

  it('does not bring back what a re-list begun after it left out (a delete its watch did not see: a 410 in between)', async () => {
    const client = new NarrowedListClient();
    const kept = new Set<string>(['gained']);
    const informer = new Informer<Cm>(client as unknown as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', slim, keep: (o) => kept.has(o.metadata!.name!) }, logged().log, 'ns');
    await informer.start();
    await client.whenWatching();
    const listing = informer.listIn('slot in (3)');
    await client.whenNarrowed();
    // Listed in before it was deleted; the re-list after the delete no longer finds it.
    client.listed = [];
    await informer.resync();
    client.answerNarrowed([cm('gained', '15')]);
    await listing;
    expect(informer.size).toBe(0);
    await informer.stop();
  });

  it('keeps what it took in through a re-list that was under way and passed over it before it was kept', async () => {
    const client = new NarrowedListClient();
    const kept = new Set<string>();
    const informer = new Informer<Cm>(client as unknown as KubeClient, { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', slim, keep: (o) => kept.has(o.metadata!.name!) }, logged().log, 'ns');
    await informer.start();
    await client.whenWatching();
    // A re-list whose answer (`listed`) holds `gained`, not kept when that answer is read...
    client.listed = [cm('gained', '15')];
    let answerRelist!: () => void;
    const relistHeld = new Promise<void>((resolve) => (answerRelist = resolve));
    const plainGet = ScriptedClient.prototype.get.bind(client);
    let relisting = false;
    client.get = async (path?: string, query?: Query) => {
      if ((query?.labelSelector as string | undefined)?.includes('slot')) return NarrowedListClient.prototype.get.call(client, path, query);
      relisting = true;
      await relistHeld;
      return plainGet();
    };
    const resync = informer.resync();
    await vi.waitFor(() => expect(relisting).toBe(true));
    // ...while the slot is gained and listed in.
    kept.add('gained');
    const listing = informer.listIn('slot in (3)');
    await client.whenNarrowed();
    client.answerNarrowed([cm('gained', '15')]);
    await listing;
    kept.delete('gained'); // the re-list's page was read before it was kept
    answerRelist();
    await resync;
    kept.add('gained');
    expect([...informer.list()].map((o) => o.metadata!.name)).toEqual(['gained']);
    await informer.stop();
  });
});

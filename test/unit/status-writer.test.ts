// The status writer against another client writing the same statuses: its own writes coming back
// change nothing; anyone else's are written over, once, and only when they differ from ours.
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { RunnerStatus } from '../../src/api/runner.ts';
import { ApiError, type KubeClient } from '../../src/k8s/client.ts';
import { WriteQueue } from '../../src/k8s/write-queue.ts';
import { statusDigest } from '../../src/operator/cached-objects.ts';
import { StatusWriter } from '../../src/operator/status-writer.ts';

const KEY = 'ns/r';

function harness() {
  const server = { status: { state: 'Running' } as RunnerStatus, version: 1 };
  const patches: RunnerStatus[] = [];
  const client = {
    patch: async (_path: string, ops: { op: string; value: unknown }[]) => {
      server.status = ops.find((o) => o.op === 'add')!.value as RunnerStatus;
      server.version += 1;
      patches.push(server.status);
      return { metadata: { resourceVersion: String(server.version) } };
    },
  } as unknown as KubeClient;
  const desired: RunnerStatus = { state: 'Succeeded' };
  const log = pino({ level: 'silent' });
  const writer = new StatusWriter({
    client,
    queue: new WriteQueue(log),
    log,
    coalesceMs: 1,
    onResult: () => {},
    // The watch cache: what the server held when the operator last heard of it.
    source: { render: () => ({ uid: 'u', desired, currentDigest: statusDigest(cache.status) }) },
  });
  const cache = { status: server.status };
  /** Another client writes the status; the watch event reaches the operator. */
  const rivalWrites = (status: RunnerStatus) => {
    server.status = status;
    server.version += 1;
    cache.status = status;
    writer.statusChanged(KEY, String(server.version));
  };
  return { server, patches, writer, rivalWrites };
}

describe('StatusWriter and another client', () => {
  it('takes the echo of its own write as no change, even before its cache has caught up', async () => {
    const h = harness();
    h.writer.schedule(KEY);
    await vi.waitFor(() => expect(h.patches).toHaveLength(1));
    // The echo arrives while the cache still holds the status from before the write: taken for another client's
    // write, it would be compared with that cache and written again.
    h.writer.statusChanged(KEY, String(h.server.version));
    h.writer.schedule(KEY);
    await vi.waitFor(() => expect(h.writer.skipped).toBeGreaterThan(0));
    expect(h.patches).toHaveLength(1);
  });

  it('writes its status back over an emptied or a stale one', async () => {
    const h = harness();
    h.writer.schedule(KEY);
    await vi.waitFor(() => expect(h.patches).toHaveLength(1));
    h.rivalWrites({});
    await vi.waitFor(() => expect(h.patches).toHaveLength(2));
    expect(h.server.status).toEqual({ state: 'Succeeded' });
    h.rivalWrites({ state: 'Failed' });
    await vi.waitFor(() => expect(h.patches).toHaveLength(3));
    expect(h.server.status).toEqual({ state: 'Succeeded' });
  });

  it('does not write when the other client wrote what it would write', async () => {
    const h = harness();
    h.writer.schedule(KEY);
    await vi.waitFor(() => expect(h.patches).toHaveLength(1));
    h.rivalWrites({ state: 'Succeeded' });
    await vi.waitFor(() => expect(h.writer.skipped).toBe(1));
    expect(h.patches).toHaveLength(1);
  });
});

describe('StatusWriter preconditions', () => {
  /** A server that refuses a write whose resourceVersion is not its own (409), and a watch cache that lags. */
  function versioned(cacheCatchesUpAfterConflicts = Infinity) {
    let conflicts = 0;
    const server = { status: {} as RunnerStatus, version: 10 };
    const cache = { status: {} as RunnerStatus, version: '10' };
    const sent: (string | undefined)[] = [];
    const results: (string | null)[] = [];
    let state = 'Running';
    const client = {
      patch: async (_path: string, ops: { op: string; path: string; value: unknown }[]) => {
        const precondition = ops.find((o) => o.path === '/metadata/resourceVersion')?.value as string | undefined;
        sent.push(precondition);
        if (precondition !== String(server.version)) {
          // The watch event of the change that made the write conflict reaches the cache meanwhile.
          if (++conflicts >= cacheCatchesUpAfterConflicts) cacheCatchesUp();
          throw new ApiError(409, JSON.stringify({ kind: 'Status', reason: 'Conflict', message: 'the object has been modified' }));
        }
        server.status = ops.find((o) => o.op === 'add')!.value as RunnerStatus;
        server.version += 1;
        return { metadata: { resourceVersion: String(server.version) } };
      },
    } as unknown as KubeClient;
    const log = pino({ level: 'silent' });
    const writer = new StatusWriter({
      client, queue: new WriteQueue(log), log, coalesceMs: 1, onResult: (_key, error) => results.push(error),
      source: { render: () => ({ uid: 'u', desired: { state } as RunnerStatus, currentDigest: statusDigest(cache.status), resourceVersion: cache.version }) },
    });
    /** Another client changes the Runner; the watch cache has not heard of it yet. */
    const changedElsewhere = () => (server.version += 1);
    function cacheCatchesUp() {
      cache.version = String(server.version);
      cache.status = server.status;
    }
    return { server, sent, results, writer, changedElsewhere, set: (s: string) => (state = s) };
  }

  it('writes over the version its cache holds, and over its own last write while that write’s echo is on its way', async () => {
    const h = versioned();
    h.writer.schedule(KEY, true);
    await vi.waitFor(() => expect(h.server.status).toEqual({ state: 'Running' }));
    h.set('Succeeded'); // the run ends before the watch brought the first write back
    h.writer.schedule(KEY, true);
    await vi.waitFor(() => expect(h.server.status).toEqual({ state: 'Succeeded' }));
    expect(h.sent).toEqual(['10', '11']);
    expect(h.writer.conflicts).toBe(0);
    h.writer.stop();
  });

  it('is refused over a version it has not seen, and writes again once its cache caught up, without reporting an error', async () => {
    const h = versioned(1);
    h.changedElsewhere(); // e.g. a user edited the spec, or another replica wrote last
    h.writer.schedule(KEY, true);
    await vi.waitFor(() => expect(h.writer.conflicts).toBe(1));
    await vi.waitFor(() => expect(h.server.status).toEqual({ state: 'Running' }));
    expect(h.sent).toEqual(['10', '11']);
    expect(h.results).toEqual([null]);
    h.writer.stop();
  });

  it('says in the status once its writes conflict three times in a row', async () => {
    const h = versioned();
    h.changedElsewhere(); // and the cache never catches up
    h.writer.schedule(KEY, true);
    await vi.waitFor(() => expect(h.results.at(-1)).toMatch(/^status write failed: 3 conflicts in a row/), { timeout: 3_000 });
    expect(h.server.status).toEqual({});
    h.writer.stop();
  });
});

describe('StatusWriter when the operator stops', () => {
  it('writes what waits to be written before it resolves, without waiting out the coalescing delay', async () => {
    const patches: unknown[] = [];
    const client = { patch: async (_p: string, ops: { op: string; value: unknown }[]) => (patches.push(ops), { metadata: { resourceVersion: '2' } }) } as unknown as KubeClient;
    const log = pino({ level: 'silent' });
    const writer = new StatusWriter({
      client, queue: new WriteQueue(log), log, coalesceMs: 60_000, onResult: () => {},
      source: { render: () => ({ uid: 'u', desired: { state: 'Running' } as RunnerStatus, currentDigest: 'none' }) },
    });
    writer.schedule(KEY);
    expect(patches).toHaveLength(0);
    await writer.drain(5_000);
    expect(patches).toHaveLength(1);
    writer.stop();
  });

  it('writes at once what waits for the Runners it is asked to drain, and only theirs (a replica giving them up)', async () => {
    const written: string[] = [];
    let answer: (() => void) | undefined;
    const client = {
      patch: async (path: string) => {
        written.push(path.split('/')[7]!);
        // The first write hangs a moment: drainKeys waits for it.
        if (written.length === 1) await new Promise<void>((r) => (answer = r));
        return { metadata: { resourceVersion: '2' } };
      },
    } as unknown as KubeClient;
    const log = pino({ level: 'silent' });
    const writer = new StatusWriter({
      client, queue: new WriteQueue(log), log, coalesceMs: 60_000, onResult: () => {},
      source: { render: () => ({ uid: 'u', desired: { state: 'Running' } as RunnerStatus, currentDigest: 'none' }) },
    });
    for (const key of ['ns/given-up', 'ns/given-up-too', 'ns/kept']) writer.schedule(key);
    let drained = false;
    const draining = writer.drainKeys(new Set(['ns/given-up', 'ns/given-up-too']), 5_000).then(() => (drained = true));
    await vi.waitFor(() => expect(written).toEqual(['given-up', 'given-up-too']));
    expect(drained).toBe(false);
    answer!();
    await draining;
    expect(written).toEqual(['given-up', 'given-up-too']);
    writer.stop();
  });

  it('gives up waiting after its timeout when a write hangs', async () => {
    const client = { patch: () => new Promise(() => {}) } as unknown as KubeClient;
    const log = pino({ level: 'silent' });
    const writer = new StatusWriter({
      client, queue: new WriteQueue(log), log, coalesceMs: 60_000, onResult: () => {},
      source: { render: () => ({ uid: 'u', desired: { state: 'Running' } as RunnerStatus, currentDigest: 'none' }) },
    });
    writer.schedule(KEY);
    const started = Date.now();
    await writer.drain(200);
    expect(Date.now() - started).toBeLessThan(2_000);
    writer.stop();
  });
});

describe('StatusWriter delays', () => {
  function writerWith(settleMs: number) {
    let state = 'WaitingForWorkloads';
    const patches: string[] = [];
    const client = {
      patch: async (_path: string, ops: { op: string; value: { state: string } }[]) => {
        patches.push(ops.find((o) => o.op === 'add')!.value.state);
        return { metadata: { resourceVersion: String(patches.length) } };
      },
    } as unknown as KubeClient;
    const log = pino({ level: 'silent' });
    const writer = new StatusWriter({
      client, queue: new WriteQueue(log), log, coalesceMs: 1, settleMs, onResult: () => {},
      source: { render: () => ({ uid: 'u', desired: { state } as RunnerStatus, currentDigest: '' }) },
    });
    return { writer, patches, set: (s: string) => (state = s) };
  }

  it('writes a change that is no run\'s start or end only after settleMs, and not at all if news takes it along', async () => {
    const h = writerWith(60_000);
    h.writer.schedule(KEY); // a workload rolls out
    await new Promise((r) => setTimeout(r, 50));
    expect(h.patches).toEqual([]);
    h.set('Running');
    h.writer.schedule(KEY, true); // its run starts
    await vi.waitFor(() => expect(h.patches).toEqual(['Running']));
    h.writer.stop();
  });

  it('sends no second write when the waiting change\'s own time comes after news took it along', async () => {
    const h = writerWith(80);
    h.writer.schedule(KEY);
    h.set('Running');
    h.writer.schedule(KEY, true);
    await vi.waitFor(() => expect(h.patches).toEqual(['Running']));
    h.set('Succeeded'); // not asked for: a write that still fired for the waiting change would send it
    await new Promise((r) => setTimeout(r, 150)); // past the waiting change's due time: nothing is left to write
    expect(h.patches).toEqual(['Running']);
    h.writer.stop();
  });

  it('writes a waiting change once settleMs have passed, not before', async () => {
    const h = writerWith(60);
    const asked = performance.now();
    h.writer.schedule(KEY);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.patches).toEqual([]);
    await vi.waitFor(() => expect(h.patches).toEqual(['WaitingForWorkloads']));
    expect(performance.now() - asked).toBeGreaterThanOrEqual(55);
  });

  it('writes what waits for its delay at once when it drains (a stopping operator)', async () => {
    const h = writerWith(60_000);
    h.writer.schedule(KEY);
    await h.writer.drain(1000);
    expect(h.patches).toEqual(['WaitingForWorkloads']);
  });
});

// Taking a slot's Runners up (src/operator/handover.ts): each read afresh while their slots' Jobs are listed, none
// resumed before both are done, those deleted meanwhile left out, those whose read failed read again. The hand-over between
// replicas on a control plane is test/integration/sharding.test.ts and the sharded fault tests.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import type { KubeClient, Query } from '../../src/k8s/client.ts';
import { Handover, slotGroups } from '../../src/operator/handover.ts';
import { fnv1a64, slotOf, SLOTS } from '../../src/shard/ring.ts';

const ALL_SLOTS = Array.from({ length: SLOTS }, (_, slot) => slot);

/** A Runner of the cluster in a slot none of the harness's Runners is in: one a LIST not narrowed to the slots adopted brings. */
const FOREIGN_UID = (() => {
  const taken = new Set(Array.from({ length: 300 }, (_, i) => slotOf(`uid-${i}`)));
  for (let i = 0; ; i++) if (!taken.has(slotOf(`foreign-${i}`))) return `foreign-${i}`;
})();
/** Whether a uid is in a shard selector's ranges, as the API server matches them: its FNV-1a 64 in hex, compared as numbers. */
function inShardSelector(selector: string, uid: string): boolean {
  const [hi, lo] = fnv1a64(uid);
  const hash = (BigInt(hi) << 32n) | BigInt(lo);
  return [...selector.matchAll(/shardRange\(object\.metadata\.uid, '(0x[0-9a-f]+)', '(0x[0-9a-f]+)'\)/g)].some(([, start, end]) => hash >= BigInt(start!) && hash < BigInt(end!));
}

/** Every slot but the foreign Runner's. */
const OUR_SLOTS = ALL_SLOTS.filter((slot) => slot !== slotOf(FOREIGN_UID));

const runner = (i: number): Runner => ({
  apiVersion: 'e2e.stakater.com/v1alpha1',
  kind: 'Runner',
  metadata: { namespace: 'qa', name: `r-${i}`, uid: `uid-${i}` },
  spec: {},
}) as Runner;

function harness(
  count: number,
  read: (name: string, resourceVersion?: string) => Promise<Runner> = async (name) => runner(Number(name.slice(2))),
  listIn: (selector: string) => Promise<void> = () => Promise.resolve(),
  /** Whether the stand-in API server narrows a LIST by shard (KEP-5866). */
  sharded = false,
) {
  const cached = new Map(Array.from({ length: count }, (_, i) => [`uid-${i}`, runner(i)]));
  const reads: string[] = [];
  const adopted: string[][] = [];
  const listed = Promise.withResolvers<void>();
  const lists: string[] = [];
  const shardLists: string[] = [];
  /** Runners still cached, deleted on the server. */
  const goneOnServer = new Set<string>();
  const client = {
    get: async (path: string, query?: Query) => {
      if (query?.shardSelector !== undefined) {
        shardLists.push(String(query.shardSelector));
        // Offered: the Runners of the slots asked for, and no shardInfo (a custom resource's list has none). Not
        // offered: every Runner of the cluster, whatever slots were asked for.
        const items = [...cached.values(), { ...runner(0), metadata: { namespace: 'qa', name: 'foreign', uid: FOREIGN_UID } }].filter((r) => !goneOnServer.has(r.metadata.name!));
        return { metadata: {}, items: sharded ? items.filter((r) => inShardSelector(String(query.shardSelector), r.metadata.uid!)) : items };
      }
      const name = path.split('/').pop()!;
      reads.push(query?.resourceVersion ? `${name}@${String(query.resourceVersion)}` : name);
      return read(name, query?.resourceVersion as string | undefined);
    },
  } as unknown as KubeClient;
  const handover = new Handover({
    client,
    log: pino({ level: 'silent' }),
    runners: () => cached.values(),
    runnerCollections: ['/apis/e2e.stakater.com/v1alpha1/runners'],
    actors: { view: () => null, runtime: () => undefined, pause: () => undefined, size: 0 },
    statusWriter: { drainKeys: async () => undefined },
    notifier: { writeRecords: async () => undefined },
    jobs: {
      listIn: async (selector) => {
        lists.push(selector);
        await listed.promise;
        return listIn(selector);
      },
      dropUnkept: () => undefined,
    },
    cache: { takenUp: () => undefined, givenUp: () => undefined },
    keyOfUid: (uid) => (cached.has(uid) ? `qa/${cached.get(uid)!.metadata.name}` : undefined),
    resourcesSettled: async () => undefined,
    adopt: (runners) => {
      adopted.push(runners.map((r) => r.metadata.name!));
      return runners.length;
    },
    forget: () => undefined,
  });
  return { handover, cached, reads, adopted, listed, lists, shardLists, goneOnServer };
}

/** Until `ok` holds, 5 s at most. */
async function until(ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!ok() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(ok()).toBe(true);
}

describe('Handover.adopt', () => {
  it('reads the gained Runners in LISTs narrowed to their slots where the server offers it, not one GET each', async () => {
    const h = harness(250, undefined, undefined, true);
    h.listed.resolve();
    // A Runner deleted on the server, its delete not yet seen by the cache, is not in the LIST: left out, as a 404
    // would leave it.
    h.goneOnServer.add('r-7');
    // In two halves, each LIST answered with its own slots' Runners only.
    await h.handover.adopt(ALL_SLOTS.filter((slot) => slot % 2 === 0));
    await h.handover.adopt(ALL_SLOTS.filter((slot) => slot % 2 === 1));
    expect(h.reads).toEqual([]);
    expect(h.shardLists.length).toBeGreaterThan(0);
    expect(h.adopted.flat()).toHaveLength(249);
    expect(h.adopted.flat()).not.toContain('r-7');
  });

  it('lists about 250 Runners to a LIST, side by side once the server has shown that it narrows them', async () => {
    const h = harness(1000, undefined, undefined, true);
    h.listed.resolve();
    await h.handover.adopt(OUR_SLOTS);
    expect(h.reads).toEqual([]);
    expect(h.shardLists).toHaveLength(4);
    expect(h.adopted.flat()).toHaveLength(1000);
  });

  it('asks a server that does not narrow a LIST once, then reads one by one', async () => {
    const h = harness(200);
    h.listed.resolve();
    await h.handover.adopt(OUR_SLOTS.slice(0, 512));
    await h.handover.adopt(OUR_SLOTS.slice(512));
    expect(h.shardLists).toHaveLength(1);
    expect(h.reads).toHaveLength(200);
    expect(h.adopted.flat()).toHaveLength(200);
  });

  it('reads every gained Runner while its Jobs are listed, and resumes none before both are done', async () => {
    const h = harness(250);
    const adopting = h.handover.adopt(OUR_SLOTS);
    await until(() => h.reads.length === 250);
    // Eight lists of Jobs at a time.
    expect(h.lists).toHaveLength(8);
    expect(h.adopted).toEqual([]);
    h.listed.resolve();
    await adopting;
    // Every slot's Jobs, 32 slots to a list, and those made before Jobs carried their slot.
    expect(h.lists).toHaveLength(SLOTS / 32 + 1);
    expect(h.adopted.flat().sort()).toEqual([...h.cached.values()].map((r) => r.metadata.name).sort());
    // A batch at a time, so that the first ones act while the rest resume.
    expect(h.adopted.length).toBeGreaterThan(1);
    expect(Math.max(...h.adopted.map((b) => b.length))).toBeLessThanOrEqual(100);
  });

  it('does not let one slow read hold back the reads after it', async () => {
    const slow = Promise.withResolvers<void>();
    const h = harness(100, async (name) => {
      if (name === 'r-0') await slow.promise;
      return runner(Number(name.slice(2)));
    });
    h.listed.resolve();
    const adopting = h.handover.adopt(OUR_SLOTS);
    await until(() => h.reads.length === 100);
    slow.resolve();
    await adopting;
    expect(h.adopted.flat()).toHaveLength(100);
  });

  it('leaves out a Runner deleted while it was read, and reads again one whose read failed', async () => {
    let failures = 1;
    const h = harness(3, async (name) => {
      if (name === 'r-1') h.cached.delete('uid-1');
      if (name === 'r-2' && failures-- > 0) throw Object.assign(new Error('HTTP 503'), { code: 503 });
      return runner(Number(name.slice(2)));
    });
    h.listed.resolve();
    await h.handover.adopt(OUR_SLOTS);
    expect(h.adopted.flat()).toEqual(['r-0']);
    // Read again after the first backoff (0.5 s), without listing the Jobs a second time.
    await until(() => h.adopted.flat().includes('r-2'));
    expect(h.adopted.flat().sort()).toEqual(['r-0', 'r-2']);
    expect(h.lists).toHaveLength(SLOTS / 32 + 1);
    h.handover.stop();
  });

  it("reads each from the API server's cache no older than the member Leases' list that gave its slot, from etcd if the cache cannot be so fresh", async () => {
    const h = harness(2, async (name, resourceVersion) => {
      if (name === 'r-1' && resourceVersion) throw Object.assign(new Error('Timeout: Too large resource version: 900, current: 850'), { code: 504 });
      return runner(Number(name.slice(2)));
    });
    h.listed.resolve();
    await h.handover.adopt(OUR_SLOTS, '900');
    expect(h.reads.sort()).toEqual(['r-0@900', 'r-1', 'r-1@900']);
    expect(h.adopted.flat().sort()).toEqual(['r-0', 'r-1']);
  });

  it("lists only the gained slots' Jobs, and makes a list that failed again", async () => {
    let failures = 1;
    const h = harness(2, undefined, async (selector) => {
      if (selector.includes(' in ') && failures-- > 0) throw Object.assign(new Error('HTTP 500'), { code: 500 });
    });
    h.listed.resolve();
    await h.handover.adopt([417, 3]);
    expect(h.lists).toEqual(['!runner.stakater.com/slot', 'runner.stakater.com/slot in (3,417)', 'runner.stakater.com/slot in (3,417)']);
    h.handover.stop();
  });
});

describe('slotGroups', () => {
  it('cuts sorted slots into runs of about the same length, in order, never more runs than slots nor fewer than one', () => {
    expect(slotGroups([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([[1, 2], [3, 4], [5, 6, 7]]);
    expect(slotGroups([1, 2], 8)).toEqual([[1], [2]]);
    expect(slotGroups([4, 9], 0)).toEqual([[4, 9]]);
  });
});

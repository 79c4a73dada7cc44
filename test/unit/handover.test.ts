// Taking a slot's Runners up (src/operator/handover.ts): each read afresh while the Jobs are listed again, none resumed
// before both are done, those deleted meanwhile left out, those whose read failed read again. The hand-over between
// replicas on a control plane is test/integration/sharding.test.ts and the sharded fault tests.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import type { KubeClient } from '../../src/k8s/client.ts';
import { Handover } from '../../src/operator/handover.ts';
import { SLOTS } from '../../src/shard/ring.ts';

const ALL_SLOTS = Array.from({ length: SLOTS }, (_, slot) => slot);

const runner = (i: number): Runner => ({
  apiVersion: 'e2e.stakater.com/v1alpha1',
  kind: 'Runner',
  metadata: { namespace: 'qa', name: `r-${i}`, uid: `uid-${i}` },
  spec: {},
}) as Runner;

function harness(count: number, read: (name: string) => Promise<Runner> = async (name) => runner(Number(name.slice(2)))) {
  const cached = new Map(Array.from({ length: count }, (_, i) => [`uid-${i}`, runner(i)]));
  const reads: string[] = [];
  const adopted: string[][] = [];
  const resynced = Promise.withResolvers<void>();
  let resyncs = 0;
  const client = {
    get: (path: string) => {
      const name = path.split('/').pop()!;
      reads.push(name);
      return read(name);
    },
  } as unknown as KubeClient;
  const handover = new Handover({
    client,
    log: pino({ level: 'silent' }),
    runners: () => cached.values(),
    actors: { view: () => null, runtime: () => undefined, pause: () => undefined, size: 0 },
    statusWriter: { drainKeys: async () => undefined },
    notifier: { writeRecords: async () => undefined },
    jobs: {
      resync: () => {
        resyncs++;
        return resynced.promise;
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
  return { handover, cached, reads, adopted, resynced, resyncs: () => resyncs };
}

/** Until `ok` holds, 5 s at most. */
async function until(ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!ok() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(ok()).toBe(true);
}

describe('Handover.adopt', () => {
  it('reads every gained Runner while its Jobs are listed again, and resumes none before both are done', async () => {
    const h = harness(250);
    const adopting = h.handover.adopt(ALL_SLOTS);
    await until(() => h.reads.length === 250);
    expect(h.resyncs()).toBe(1);
    expect(h.adopted).toEqual([]);
    h.resynced.resolve();
    await adopting;
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
    h.resynced.resolve();
    const adopting = h.handover.adopt(ALL_SLOTS);
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
    h.resynced.resolve();
    await h.handover.adopt(ALL_SLOTS);
    expect(h.adopted.flat()).toEqual(['r-0']);
    // Read again after the first backoff (0.5 s), without a second re-list of the Jobs.
    await until(() => h.adopted.flat().includes('r-2'));
    expect(h.adopted.flat().sort()).toEqual(['r-0', 'r-2']);
    expect(h.resyncs()).toBe(1);
    h.handover.stop();
  });
});

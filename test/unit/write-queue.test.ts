// The write queue's rules, with writes that are plain promises (the real API server's answers,
// 429s from API Priority and Fairness included, are in test/throttled/).
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/k8s/client.ts';
import { WriteQueue, type Lane } from '../../src/k8s/write-queue.ts';

const log = pino({ level: 'silent' });

/** A write that finishes when the test says so. */
function gatedWrite(record: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { write: () => (record.push(name), done), finish };
}

describe('WriteQueue', () => {
  it('never has more writes in flight than its concurrency, however many are asked for', async () => {
    const queue = new WriteQueue(log, { concurrency: 4 });
    const started: string[] = [];
    const writes = Array.from({ length: 50 }, (_, i) => gatedWrite(started, `w${i}`));
    const results = writes.map((w) => queue.run('status', w.write));
    expect(started).toHaveLength(4);
    for (const w of writes) w.finish();
    await Promise.all(results);
    expect(started).toHaveLength(50);
    expect(queue.maxInFlight).toBe(4);
  });

  it('serves Job writes before a backlog of status writes, and Events last', async () => {
    const queue = new WriteQueue(log, { concurrency: 1 });
    const order: string[] = [];
    const first = gatedWrite(order, 'status-0');
    const all = [queue.run('status', first.write)];
    const lane = (l: Lane, name: string) => all.push(queue.run(l, async () => void order.push(name)));
    lane('event', 'event-1');
    lane('status', 'status-1');
    lane('status', 'status-2');
    lane('job', 'job-1');
    expect(queue.backlog).toEqual({ job: 1, status: 2, event: 1 });
    first.finish();
    await Promise.all(all);
    expect(order).toEqual(['status-0', 'job-1', 'status-1', 'status-2', 'event-1']);
  });

  it('after a 429 waits for Retry-After before sending anything, then sends that write again first', async () => {
    const queue = new WriteQueue(log, { concurrency: 2 });
    const sent: { name: string; at: number }[] = [];
    let refused = false;
    const t0 = Date.now();
    const throttled = queue.run('status', async () => {
      sent.push({ name: 'throttled', at: Date.now() - t0 });
      if (!refused) {
        refused = true;
        throw new ApiError(429, JSON.stringify({ kind: 'Status', message: 'too many requests', reason: 'TooManyRequests' }), 1);
      }
      return 'done';
    });
    await new Promise((r) => setTimeout(r, 20));
    const other = queue.run('status', async () => void sent.push({ name: 'other', at: Date.now() - t0 }));
    await expect(throttled).resolves.toBe('done');
    await other;
    expect(queue.throttled).toBe(1);
    expect(sent.map((s) => s.name)).toEqual(['throttled', 'throttled', 'other']);
    expect(sent[1]!.at).toBeGreaterThanOrEqual(1000);
  });

  it('after a 429 sends half as many at once, and grows back one at a time as writes succeed', async () => {
    const queue = new WriteQueue(log, { concurrency: 16, defaultRetryAfterMs: 0 });
    // A priority level of 2 seats that rejects the rest, as API Priority and Fairness with limitResponse Reject.
    let serving = 0;
    const write = async () => {
      serving += 1;
      const seat = serving;
      try {
        await new Promise((r) => setTimeout(r, 5));
        if (seat > 2) throw new ApiError(429, 'too many requests');
      } finally {
        serving -= 1;
      }
    };
    await Promise.all(Array.from({ length: 60 }, () => queue.run('status', write)));
    // Sending 16 after every pause, 14 of each burst would be refused: over 400 refusals for 60 writes.
    expect(queue.throttled).toBeLessThan(60);
    const throttledTo = queue.allowedInFlight;
    expect(throttledTo).toBeLessThanOrEqual(4);
    // Without refusals it grows by one each time as many writes as it allows have succeeded, up to its concurrency.
    await Promise.all(Array.from({ length: throttledTo }, () => queue.run('status', async () => {})));
    expect(queue.allowedInFlight).toBe(throttledTo + 1);
    await Promise.all(Array.from({ length: 200 }, () => queue.run('status', async () => {})));
    expect(queue.allowedInFlight).toBe(16);
  });

  it('passes other failures to the caller', async () => {
    const queue = new WriteQueue(log);
    await expect(queue.run('job', async () => { throw new ApiError(403, 'forbidden'); })).rejects.toMatchObject({ code: 403 });
  });
});

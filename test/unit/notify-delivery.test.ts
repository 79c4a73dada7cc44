// The notifier's pure core and its queue: what a status says happened, which happening a Notification tells, what is
// wrong with a Destination or a Notification, how deliveries are ordered, retried, bounded and dropped, and what the
// ledger writes. The HTTP sender is tried against servers of this process on loopback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { LastRunStatus, Runner } from '../../src/api/runner.ts';
import type { DeliveredEntry, Destination, Notification } from '../../src/notify/api.ts';
import { DeliveryQueue, type Delivery, type DropReason, type Withheld } from '../../src/notify/delivery-queue.ts';
import { destinationReady, resolveDestination } from '../../src/notify/destinations.ts';
import { endHappenings, happeningFor, noticeOf, occurrencesOf } from '../../src/notify/happenings.ts';
import { Ledger, RUNNERS_KEPT } from '../../src/notify/ledger.ts';
import { agentFor, answerOfStatus, post, retryAfterMs, type Answer } from '../../src/notify/sender.ts';
import { hears, notificationReady, sendingCondition, sendingSince, subscriptionOf } from '../../src/notify/subscriptions.ts';
import { destinationProblems, notificationProblems } from '../../src/notify/validate.ts';

const silent = pino({ level: 'silent' });

function runner(lastRun?: Partial<LastRunStatus>, extra: Partial<Runner['status']> = {}, labels: Record<string, string> = {}): Runner {
  return {
    metadata: { namespace: 'qa', name: 'smoke', uid: 'u-1', labels },
    spec: { template: { spec: { containers: [] } } },
    status: {
      ...(lastRun ? { lastRun: { jobName: 'smoke-abc12', revision: 'r1', trigger: 'rollout of Deployment shop/cart', reason: 'Revision', startTime: '2026-12-02T10:00:00Z', result: 'Running', ...lastRun } } : {}),
      ...extra,
    },
  };
}

describe('what a Runner status says happened', () => {
  it('reads a run in flight as started, and a finished one as started and ended, with stable keys', () => {
    expect(occurrencesOf(runner({})).map((o) => o.key)).toEqual(['smoke-abc12/started']);
    const ended = occurrencesOf(runner({ result: 'Failed', completionTime: '2026-12-02T10:01:00Z' }));
    expect(ended.map((o) => [o.key, o.time])).toEqual([['smoke-abc12/started', '2026-12-02T10:00:00Z'], ['smoke-abc12/ended', '2026-12-02T10:01:00Z']]);
    expect(occurrencesOf(runner({ result: 'Failed', completionTime: '2026-12-02T10:01:00Z' }))).toEqual(ended);
  });

  it('tells a run end as its most specific happening first', () => {
    expect(endHappenings({ result: 'Succeeded', recovered: true, flaky: true } as LastRunStatus)).toEqual(['RunRecovered', 'RunFlaky', 'RunSucceeded']);
    expect(endHappenings({ result: 'Error' } as LastRunStatus)).toEqual(['RunError', 'RunFailed']);
    expect(endHappenings({ result: 'Failed' } as LastRunStatus)).toEqual(['RunFailed']);
    const [, end] = occurrencesOf(runner({ result: 'Succeeded', recovered: true, completionTime: '2026-12-02T10:01:00Z' }));
    expect(happeningFor(end!, new Set(['RunSucceeded']))).toBe('RunSucceeded');
    expect(happeningFor(end!, new Set(['RunSucceeded', 'RunRecovered']))).toBe('RunRecovered');
    expect(happeningFor(end!, new Set(['RunFailed']))).toBeNull();
  });

  it('tells a stall of its own (invalid spec, cycle, stable-state timeout), not the stall of a failed run', () => {
    const stalled = (reason: string) => runner(undefined, { conditions: [{ type: 'Stalled', status: 'True', reason, message: 'spec.schedule: bad', lastTransitionTime: '2026-12-02T09:00:00Z' as never }] });
    expect(occurrencesOf(stalled('InvalidSpec')).map((o) => o.key)).toEqual(['stalled/InvalidSpec/2026-12-02T09:00:00Z']);
    expect(occurrencesOf(stalled('RunFailed'))).toEqual([]);
    const notice = noticeOf(stalled('DependencyCycle'), occurrencesOf(stalled('DependencyCycle'))[0]!, 'Stalled');
    expect(notice).toMatchObject({ id: 'u-1/stalled/DependencyCycle/2026-12-02T09:00:00Z', stall: { reason: 'DependencyCycle', message: 'spec.schedule: bad' } });
  });

  it('gives each run and happening an id of its own, the same however often it is read', () => {
    const r = runner({ result: 'Failed', completionTime: '2026-12-02T10:01:00Z', message: 'exit code 1' });
    const [start, end] = occurrencesOf(r);
    expect(noticeOf(r, start!, 'RunStarted').id).toBe('u-1/smoke-abc12/RunStarted');
    expect(noticeOf(r, start!, 'RunStarted').run).toEqual({ jobName: 'smoke-abc12', revision: 'r1', trigger: 'rollout of Deployment shop/cart', reason: 'Revision', startTime: '2026-12-02T10:00:00Z', result: 'Running' });
    const failed = noticeOf(r, end!, 'RunFailed');
    expect(failed).toMatchObject({ id: 'u-1/smoke-abc12/RunFailed', happening: 'RunFailed', time: '2026-12-02T10:01:00Z', runner: { namespace: 'qa', name: 'smoke', uid: 'u-1' } });
    expect(failed.summary).toBe('qa/smoke: Job smoke-abc12 failed: exit code 1');
  });
});

describe('bad configuration, named by its field', () => {
  it('names what is wrong with a Destination', () => {
    expect(destinationProblems({ type: 'Pager' }).map((p) => p.field)).toEqual(['spec.type', 'spec.address']);
    expect(destinationProblems({ type: 'Slack', address: 'ftp://x' })[0]?.message).toBe('spec.address: "ftp://x" must be an http or https URL');
    expect(destinationProblems({ type: 'Webhook', address: 'https://u:p@x.example' })[0]?.field).toBe('spec.address');
    expect(destinationProblems({ type: 'CloudEvents', address: 'https://x.example', timeoutSeconds: 0, cloudEvents: { mode: 'Batch' } }).map((p) => p.field)).toEqual(['spec.cloudEvents.mode', 'spec.timeoutSeconds']);
    expect(destinationProblems({ type: 'Slack', secretRef: { name: 'hook' } })).toEqual([]);
  });

  it('names what is wrong with a Notification', () => {
    expect(notificationProblems({ events: [] }).map((p) => p.field)).toEqual(['spec.destinationRef.name', 'spec.events']);
    expect(notificationProblems({ destinationRef: { name: 'd' }, events: ['RunFailed', 'Exploded'] })[0]?.message).toMatch(/^spec\.events\[1\]: "Exploded" is not one of/);
    expect(notificationProblems({ destinationRef: { name: 'd' }, events: ['RunFailed'], runners: { namespaces: ['Not_A_Name'], selector: { matchLabels: { 'bad key!': 'x' } } } }).map((p) => p.field)).toEqual([
      'spec.runners.selector.matchLabels[bad key!]',
      'spec.runners.namespaces[0]',
    ]);
  });

  it('never crashes on a spec that is not an object', () => {
    for (const spec of [null, 42, 'x', [], { type: {}, address: [], secretRef: 'x', timeoutSeconds: 'x', cloudEvents: 7 }]) {
      expect(() => destinationProblems(spec)).not.toThrow();
      expect(() => notificationProblems(spec)).not.toThrow();
    }
  });
});

const notification = (spec: Partial<Notification['spec']>, namespace = 'qa'): Notification => ({
  metadata: { namespace, name: 'failures', generation: 1, creationTimestamp: '2026-12-01T00:00:00Z' as never },
  spec: { destinationRef: { name: 'slack' }, events: ['RunFailed'], ...spec },
});

describe('who a Notification hears', () => {
  it('hears Runners of its own namespace by default, and those its selector matches', () => {
    const all = subscriptionOf(notification({}), true);
    expect(hears(all, runner())).toBe(true);
    expect(hears(all, { ...runner(), metadata: { ...runner().metadata, namespace: 'prod' } })).toBe(false);
    const team = subscriptionOf(notification({ runners: { selector: { matchLabels: { team: 'shop' } } } }), true);
    expect(hears(team, runner(undefined, {}, { team: 'shop' }))).toBe(true);
    expect(hears(team, runner(undefined, {}, { team: 'pay' }))).toBe(false);
  });

  it('refuses other namespaces when the operator allows none, naming the field', () => {
    const s = subscriptionOf(notification({ runners: { namespaces: ['qa', 'prod'] } }), false);
    expect(notificationReady(s, { exists: true, resolution: null })).toMatchObject({ status: 'False', reason: 'CrossNamespaceRefused', message: expect.stringMatching(/^spec\.runners\.namespaces: prod is not/) });
  });

  it('says since when it sends, apart from its Destination, so that an operator that starts knows', () => {
    const created = Date.parse('2026-12-01T00:00:00Z');
    const now = Date.parse('2026-12-02T12:00:00Z');
    const withSending = (status: 'True' | 'False', at: string): Notification => ({ ...notification({}), status: { conditions: [{ type: 'Sending', status, reason: 'x', message: '', lastTransitionTime: at as never }] } });
    expect(sendingSince(notification({}), created, now)).toBe(created);
    expect(sendingSince(withSending('True', '2026-12-02T10:00:00Z'), created, now)).toBe(Date.parse('2026-12-02T10:00:00Z'));
    expect(sendingSince(withSending('False', '2026-12-02T10:00:00Z'), created, now)).toBe(now);
    expect(sendingCondition(subscriptionOf(notification({ suspend: true }), true))).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(sendingCondition(subscriptionOf(notification({}), true))).toMatchObject({ status: 'True' });
  });

  it('says when its Destination is missing or cannot deliver', () => {
    const s = subscriptionOf(notification({}), true);
    expect(notificationReady(s, { exists: false, resolution: null })).toMatchObject({ status: 'False', reason: 'DestinationNotFound', message: 'spec.destinationRef.name: no Destination qa/slack' });
    expect(notificationReady(s, { exists: true, resolution: { ok: false, reason: 'SecretNotFound', message: 'spec.secretRef.name: no Secret qa/hook' } })).toMatchObject({ reason: 'DestinationNotReady' });
    expect(notificationReady(s, { exists: true, resolution: null })).toMatchObject({ status: 'True', message: 'sends RunFailed of every Runner in qa to Destination slack' });
  });
});

const destination = (spec: Partial<Destination['spec']>): Destination => ({ metadata: { namespace: 'qa', name: 'slack', generation: 1 }, spec: { type: 'Slack', ...spec } });

describe('a Destination made usable', () => {
  const secret = (data: Record<string, string> | null, type?: string) => async () => (data ? { data, ...(type ? { type } : {}) } : null);

  it('takes its address and token from the Secret, and says only the origin', async () => {
    const r = await resolveDestination(destination({ secretRef: { name: 'hook' } }), secret({ address: 'https://hooks.example.com/services/T0K3N', token: 's3cret' }), false);
    expect(r.ok && r.resolved.target.token).toBe('s3cret');
    expect(r.ok && r.resolved.origin).toBe('https://hooks.example.com');
    expect(JSON.stringify(destinationReady(r, null))).not.toContain('T0K3N');
  });

  it('names a missing Secret, a Secret without an address, and never quotes what a Secret holds', async () => {
    expect(await resolveDestination(destination({ secretRef: { name: 'hook' } }), secret(null), false)).toMatchObject({ ok: false, reason: 'SecretNotFound', message: 'spec.secretRef.name: no Secret qa/hook' });
    expect(await resolveDestination(destination({ secretRef: { name: 'hook' } }), secret({ token: 'x' }), false)).toMatchObject({ ok: false, reason: 'SecretInvalid' });
    const bad = await resolveDestination(destination({ secretRef: { name: 'hook' } }), secret({ address: 'not a url SECRET-PART' }), false);
    expect(bad).toMatchObject({ ok: false, reason: 'SecretInvalid' });
    expect(JSON.stringify(bad)).not.toContain('SECRET-PART');
  });

  it('sends a token only to the address its own Secret gives, and reads no Secret of the cluster’s own', async () => {
    const exfiltrate = await resolveDestination(destination({ address: 'https://attacker.example/', secretRef: { name: 'sa-token' } }), secret({ token: 'eyJ...' }), false);
    expect(exfiltrate).toMatchObject({ ok: false, reason: 'SecretInvalid', message: 'spec.secretRef.name: Secret qa/sa-token holds a "token" but no "address": a token is sent only to the address its own Secret gives' });
    const account = await resolveDestination(destination({ secretRef: { name: 'sa' } }), secret({ address: 'https://x.example', token: 't' }, 'kubernetes.io/service-account-token'), false);
    expect(account).toMatchObject({ ok: false, reason: 'SecretInvalid' });
  });

  it('sends a token over https only (local addresses, allowed for tests, excepted)', async () => {
    const plain = await resolveDestination(destination({ secretRef: { name: 'hook' } }), secret({ address: 'http://hooks.example.com/x', token: 't' }), false);
    expect(plain).toMatchObject({ ok: false, reason: 'SecretInvalid', message: expect.stringMatching(/a token is sent over https only$/) });
    expect(await resolveDestination(destination({ secretRef: { name: 'hook' } }), secret({ address: 'https://hooks.example.com/x', token: 't' }), false)).toMatchObject({ ok: true });
    expect(await resolveDestination(destination({ secretRef: { name: 'hook' } }), secret({ address: 'http://hooks.example.com/x', token: 't' }), true)).toMatchObject({ ok: false, reason: 'SecretInvalid' });
    expect(await resolveDestination(destination({ secretRef: { name: 'hook' } }), secret({ address: 'http://127.0.0.1:9/x', token: 't' }), true)).toMatchObject({ ok: true });
  });

  it('refuses loopback, link-local and metadata addresses unless allowed', async () => {
    for (const address of ['http://127.0.0.1:8080/hook', 'http://169.254.169.254/latest', 'http://[::1]/x']) {
      expect(await resolveDestination(destination({ address }), secret(null), false)).toMatchObject({ ok: false, reason: 'AddressRefused' });
      expect(await resolveDestination(destination({ address }), secret(null), true)).toMatchObject({ ok: true });
    }
  });

  it('is failing after three failed deliveries in a row', async () => {
    const r = await resolveDestination(destination({ address: 'https://hooks.example.com/x' }), secret(null), false);
    expect(destinationReady(r, { streak: 2, reason: 'answered 503' })).toMatchObject({ status: 'True' });
    expect(destinationReady(r, { streak: 3, reason: 'answered 503' })).toMatchObject({ status: 'False', reason: 'DeliveryFailing', message: '3 deliveries in a row to https://hooks.example.com failed, the last: answered 503; retrying with backoff' });
  });
});

// ---- The queue ----------------------------------------------------------------------------------

interface Item extends Delivery {
  label: string;
}

/** A queue on a hand-moved clock, whose sends are settled by the test. */
function harness(options: { bound?: number; concurrency?: number } = {}) {
  let now = 0;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const pending: { item: Item; settle: (a: Answer | Withheld) => void }[] = [];
  const log: string[] = [];
  const queue = new DeliveryQueue<Item>(
    {
      send: (item) => new Promise((settle) => pending.push({ item, settle })),
      delivered: (item) => log.push(`delivered ${item.label}`),
      failed: (item, reason, streak, retrying) => log.push(`failed ${item.label} (${reason}, ${retrying ? `streak ${streak}` : 'refused'})`),
      dropped: (item, reason: DropReason) => log.push(`dropped ${item.label} (${reason})`),
    },
    {
      now: () => now,
      horizonMs: 60_000,
      random: () => 0,
      setTimer: (fn, ms) => {
        const t = { at: now + ms, fn, cancelled: false };
        timers.push(t);
        return { cancel: () => (t.cancelled = true) };
      },
      ...options,
    },
  );
  let n = 0;
  const item = (label: string, runner = label, destination = 'qa/d'): Item => ({ key: `k-${label}-${n++}`, label, runner, destination, happenedAt: now, attempts: 0 });
  const settle = async (label: string, answer: Answer | Withheld) => {
    const i = pending.findIndex((p) => p.item.label === label);
    if (i < 0) throw new Error(`${label} is not in flight (in flight: ${pending.map((p) => p.item.label).join(', ')})`);
    const [p] = pending.splice(i, 1);
    p!.settle(answer);
    await new Promise((r) => setImmediate(r));
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((x) => !x.cancelled && x.at <= now)) {
      t.cancelled = true;
      t.fn();
    }
  };
  return { queue, item, settle, advance, log, inFlight: () => pending.map((p) => p.item.label) };
}

const OK: Answer = { ok: true, status: 200 };
const DOWN: Answer = { ok: false, retry: true, reason: 'answered 503' };

describe('the delivery queue', () => {
  it('tells one Runner’s happenings in order, one at a time, and other Runners’ beside them', async () => {
    const h = harness();
    h.queue.enqueue(h.item('a-start', 'a'));
    h.queue.enqueue(h.item('a-end', 'a'));
    h.queue.enqueue(h.item('b-start', 'b'));
    expect(h.inFlight()).toEqual(['a-start', 'b-start']);
    await h.settle('a-start', OK);
    expect(h.inFlight()).toEqual(['b-start', 'a-end']);
  });

  it('retries a failed delivery at its place after a growing pause, then delivers it once', async () => {
    const h = harness({ concurrency: 1 });
    h.queue.enqueue(h.item('first'));
    h.queue.enqueue(h.item('second'));
    await h.settle('first', DOWN);
    expect(h.inFlight()).toEqual([]);
    h.advance(999);
    expect(h.inFlight()).toEqual([]);
    h.advance(1);
    expect(h.inFlight()).toEqual(['first']);
    await h.settle('first', DOWN);
    h.advance(1_999);
    expect(h.inFlight()).toEqual([]);
    h.advance(1);
    await h.settle('first', OK);
    await h.settle('second', OK);
    expect(h.log).toEqual(['failed first (answered 503, streak 1)', 'failed first (answered 503, streak 2)', 'delivered first', 'delivered second']);
  });

  it('tries again at once a line whose destination can deliver again', async () => {
    const h = harness();
    h.queue.enqueue(h.item('x'));
    await h.settle('x', DOWN);
    h.queue.resume('qa/d');
    expect(h.inFlight()).toEqual(['x']);
  });

  it('waits as long as the receiver’s Retry-After says', async () => {
    const h = harness();
    h.queue.enqueue(h.item('x'));
    await h.settle('x', { ok: false, retry: true, retryAfterMs: 30_000, reason: 'answered 429' });
    h.advance(29_999);
    expect(h.inFlight()).toEqual([]);
    h.advance(1);
    expect(h.inFlight()).toEqual(['x']);
  });

  it('does not try a refusal again, and drops what is older than the horizon', async () => {
    const h = harness({ concurrency: 1 });
    h.queue.enqueue(h.item('refused'));
    h.queue.enqueue(h.item('late'));
    await h.settle('refused', { ok: false, retry: false, reason: 'answered 404' });
    await h.settle('late', DOWN);
    h.advance(61_000);
    expect(h.log.slice(-1)).toEqual(['dropped late (expired)']);
    expect(h.log).toContain('dropped refused (refused)');
  });

  it('keeps at most its bound waiting per destination, dropping the oldest, and never the one in flight', () => {
    const h = harness({ bound: 2, concurrency: 1 });
    for (const label of ['one', 'two', 'three', 'four']) h.queue.enqueue(h.item(label));
    expect(h.inFlight()).toEqual(['one']);
    expect(h.log).toEqual(['dropped two (queue-full)', 'dropped three (queue-full)']);
  });

  it('holds up only the line of a destination that does not answer', () => {
    const h = harness({ concurrency: 1 });
    h.queue.enqueue(h.item('dead-1', 'a', 'qa/dead'));
    h.queue.enqueue(h.item('dead-2', 'b', 'qa/dead'));
    h.queue.enqueue(h.item('live', 'c', 'qa/live'));
    expect(h.inFlight()).toEqual(['dead-1', 'live']);
  });

  it('queues a notice once, however often it is offered', () => {
    const h = harness({ concurrency: 1 });
    const one = h.item('same');
    h.queue.enqueue(one);
    h.queue.enqueue({ ...one });
    h.queue.enqueue(h.item('other'));
    expect(h.queue.size).toBe(2);
  });

  it('leaves what waits to the next operator when it stops, and lets the delivery in flight finish', async () => {
    const h = harness({ concurrency: 1 });
    h.queue.enqueue(h.item('flying'));
    h.queue.enqueue(h.item('waiting'));
    const stopped = h.queue.stop(1_000);
    await h.settle('flying', OK);
    await stopped;
    expect(h.log).toEqual(['dropped waiting (stopped)', 'delivered flying']);
  });

  it('drops, without a failure, a notice whose Notification no longer asks for it', async () => {
    const h = harness();
    h.queue.enqueue(h.item('gone'));
    await h.settle('gone', 'cancelled');
    expect(h.log).toEqual(['dropped gone (cancelled)']);
  });

  it('drops as at a stop, without a failure, a notice whose Runner moved to another replica', async () => {
    const h = harness();
    h.queue.enqueue(h.item('moved'));
    await h.settle('moved', 'handed-over');
    expect(h.log).toEqual(['dropped moved (stopped)']);
  });
});

// ---- The ledger ---------------------------------------------------------------------------------

describe('the ledger of what was delivered', () => {
  function ledger(fail = 0) {
    let now = Date.parse('2026-12-02T12:00:00Z');
    const writes: Record<string, DeliveredEntry | null>[] = [];
    let failures = fail;
    const l = new Ledger({
      log: silent,
      now: () => now,
      horizonMs: 3_600_000,
      write: async (_n, entries) => {
        if (failures-- > 0) throw Object.assign(new Error('conflict'), { code: 500 });
        writes.push(entries);
      },
    });
    return { l, writes, move: (ms: number) => (now += ms) };
  }

  it('says what was delivered, also after being read back from a status', async () => {
    const { l, writes } = ledger();
    l.record('qa/n', 'qa/smoke', 'aaa', '2026-12-02T11:59:00Z');
    await l.drain(1_000);
    expect(writes).toEqual([{ 'qa/smoke': { at: '2026-12-02T11:59:00Z', ids: ['aaa'] } }]);
    const again = ledger().l;
    again.merge('qa/n', writes[0] as Record<string, DeliveredEntry>);
    expect(again.has('qa/n', 'qa/smoke', 'aaa')).toBe(true);
    expect(again.has('qa/n', 'qa/smoke', 'bbb')).toBe(false);
    expect(again.has('qa/other', 'qa/smoke', 'aaa')).toBe(false);
  });

  it('takes in what another replica recorded each time the status is read, keeping what it has not written yet', async () => {
    const { l, writes } = ledger();
    l.record('qa/n', 'qa/mine', 'm1', '2026-12-02T11:59:00Z');
    // Another replica's record, read from the Notification's status before this one's write came back.
    l.merge('qa/n', { 'qa/theirs': { at: '2026-12-02T11:58:00Z', ids: ['t1'] }, 'qa/mine': { at: '2026-12-02T11:50:00Z', ids: ['old'] } });
    expect(['t1', 'm1', 'old'].map((id) => l.has('qa/n', id === 't1' ? 'qa/theirs' : 'qa/mine', id))).toEqual([true, true, true]);
    // Read again later: a Runner taken over from that replica, with what it sent since.
    l.merge('qa/n', { 'qa/theirs': { at: '2026-12-02T11:59:30Z', ids: ['t1', 't2'] } });
    expect(l.has('qa/n', 'qa/theirs', 't2')).toBe(true);
    await l.drain(1_000);
    // Only what this replica recorded is written by it: the other's entries are on the server already.
    expect(writes).toEqual([{ 'qa/mine': { at: '2026-12-02T11:59:00Z', ids: ['m1'] } }]);
  });

  it('writes only what changed, and removes Runners whose news is older than the horizon', async () => {
    const { l, writes, move } = ledger();
    l.record('qa/n', 'qa/old', 'o1', '2026-12-02T11:00:30Z');
    await l.drain(1_000);
    move(3_600_000);
    l.record('qa/n', 'qa/new', 'n1', '2026-12-02T12:59:00Z');
    await l.drain(1_000);
    expect(writes[1]).toEqual({ 'qa/new': { at: '2026-12-02T12:59:00Z', ids: ['n1'] }, 'qa/old': null });
  });

  it('writes a burst of deliveries as one write, at most one per spacing', async () => {
    const writes: number[] = [];
    const l = new Ledger({ log: silent, now: () => Date.now(), horizonMs: 3_600_000, spacingMs: 300, write: async (_n, entries) => void writes.push(Object.keys(entries).length) });
    l.record('qa/n', 'qa/a', 'x', new Date().toISOString());
    await new Promise((r) => setTimeout(r, 20));
    for (const r of ['qa/b', 'qa/c', 'qa/d']) l.record('qa/n', r, 'x', new Date().toISOString());
    await new Promise((r) => setTimeout(r, 100));
    expect(writes).toEqual([1]);
    await new Promise((r) => setTimeout(r, 400));
    expect(writes).toEqual([1, 3]);
  });

  it('keeps the last few ids per Runner', async () => {
    const { l } = ledger();
    for (const id of ['1', '2', '3', '4', '5']) l.record('qa/n', 'qa/smoke', id, '2026-12-02T11:59:00Z');
    expect(['1', '2', '3', '4', '5'].map((id) => l.has('qa/n', 'qa/smoke', id))).toEqual([false, false, true, true, true]);
  });

  it('keeps at most RUNNERS_KEPT Runners per Notification, the least recently recorded removed first', async () => {
    const { l, writes } = ledger();
    for (let i = 0; i <= RUNNERS_KEPT; i += 1) l.record('qa/n', `qa/r${i}`, 'x', '2026-12-02T11:59:00Z');
    l.record('qa/n', 'qa/r1', 'y', '2026-12-02T11:59:30Z');
    l.record('qa/n', 'qa/last', 'z', '2026-12-02T11:59:30Z');
    await l.drain(2_000);
    expect(l.has('qa/n', 'qa/r0', 'x')).toBe(false);
    expect(l.has('qa/n', 'qa/r1', 'y')).toBe(true);
    expect(l.has('qa/n', 'qa/r2', 'x')).toBe(false);
    expect(l.has('qa/n', `qa/r${RUNNERS_KEPT}`, 'x')).toBe(true);
    const last = Object.assign({}, ...writes) as Record<string, unknown>;
    expect(last['qa/r0']).toBeNull();
  });

  it('writes again what a failed write did not', async () => {
    const { l, writes } = ledger(1);
    l.record('qa/n', 'qa/smoke', 'aaa', '2026-12-02T11:59:00Z');
    await l.drain(3_000);
    expect(writes).toEqual([{ 'qa/smoke': { at: '2026-12-02T11:59:00Z', ids: ['aaa'] } }]);
  });
});

// ---- The sender ---------------------------------------------------------------------------------

describe('one delivery over HTTP', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<URL> {
    server = createServer(handler);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T0K3N`);
  }
  const payload = { headers: { 'content-type': 'application/json' }, body: '{"x":1}' };

  it('posts the payload with the token as a Bearer token', async () => {
    let seen: { auth?: string; body?: string } = {};
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString())).on('end', () => {
        seen = { auth: req.headers.authorization, body };
        res.end('ok');
      });
    });
    const target = { url, token: 'tok', timeoutMs: 2_000, allowLocal: true };
    expect(await post(target, payload, agentFor(target, 1))).toEqual({ ok: true, status: 200 });
    expect(seen).toEqual({ auth: 'Bearer tok', body: '{"x":1}' });
  });

  it('gives up on a receiver that does not answer within the timeout, and may try again', async () => {
    const url = await serve(() => {});
    const target = { url, timeoutMs: 200, allowLocal: true };
    expect(await post(target, payload, agentFor(target, 1))).toEqual({ ok: false, retry: true, reason: 'no answer within 0.2s' });
  });

  it('refuses a loopback address when local addresses are not allowed, naming no path', async () => {
    const url = await serve((_req, res) => res.end());
    const target = { url, timeoutMs: 1_000, allowLocal: false };
    const answer = await post(target, payload, agentFor(target, 1));
    expect(answer).toMatchObject({ ok: false, retry: false });
    expect(JSON.stringify(answer)).not.toContain('T0K3N');
  });

  it('judges answers: 2xx delivered, 429 and 5xx again (as Retry-After says), other 4xx refused', () => {
    expect(answerOfStatus(204, undefined)).toEqual({ ok: true, status: 204 });
    expect(answerOfStatus(429, 5_000)).toEqual({ ok: false, retry: true, retryAfterMs: 5_000, reason: 'answered 429' });
    expect(answerOfStatus(503, undefined)).toEqual({ ok: false, retry: true, reason: 'answered 503' });
    expect(answerOfStatus(404, 5_000)).toEqual({ ok: false, retry: false, reason: 'answered 404' });
    expect(retryAfterMs('7', 0)).toBe(7_000);
    expect(retryAfterMs('Wed, 02 Dec 2026 12:00:10 GMT', Date.parse('2026-12-02T12:00:00Z'))).toBe(10_000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
  });
});

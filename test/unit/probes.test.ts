// SPEC §2.3 probes without a cluster: which addresses a probe may not reach (after DNS too), what its answers say,
// how it backs off, and when the gates ask at all. HTTP servers here listen on loopback only.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialContext, type RunnerContext, type RunnerInputs } from '../../machines/runner.ts';
import type { ProbeSpec } from '../../src/api/runner.ts';
import type { Clock } from '../../src/time/clock.ts';
import { ProbeGates } from '../../src/operator/probe-gates.ts';
import { httpProber, probeOptionsFrom } from '../../src/operator/prober.ts';
import { answerOf, nextRoundDelaySeconds, type ProbeAnswer } from '../../src/runner/probes/probe.ts';
import { forbiddenAddressReason } from '../../src/runner/probes/probe-address.ts';

describe('addresses a probe may not reach', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.53.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['0:0:0:0:0:0:0:1', 'a loopback address'],
    ['169.254.169.254', 'a link-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['0.0.0.0', 'an address of "this network" (0.0.0.0/8)'],
    ['::', 'the unspecified address'],
    ['::ffff:127.0.0.1', 'a loopback address (as ::ffff:127.0.0.1)'],
    ['::ffff:a9fe:a9fe', 'a link-local address (as ::ffff:a9fe:a9fe)'],
    ['64:ff9b::7f00:1', 'a loopback address (as 64:ff9b::7f00:1)'],
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['100.100.100.200', 'a cloud metadata address'],
  ])('refuses %s: %s', (address, reason) => {
    expect(forbiddenAddressReason(address)).toBe(reason);
  });

  it.each(['10.96.0.10', '192.168.1.20', '172.16.0.1', '100.64.0.1', '8.8.8.8', 'fd12:3456::1', '2001:db8::1', '::ffff:10.0.0.1'])('allows %s (cluster Services live on private addresses)', (address) => {
    expect(forbiddenAddressReason(address)).toBeNull();
  });
});

describe('probing an HTTP endpoint', () => {
  let url = '';
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    res.statusCode = req.url === '/down' ? 503 : req.url === '/moved' ? 302 : 200;
    if (req.url === '/moved') res.setHeader('Location', 'http://169.254.169.254/');
    res.end();
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const probe = (path: string, extra: Partial<ProbeSpec['http']> = {}): ProbeSpec => ({ name: 'p', http: { url: `${url}${path}`, ...extra }, timeoutSeconds: 2 });

  it('refuses loopback, by address and by a name that resolves to it, before sending anything', async () => {
    const strict = httpProber({ allowLocal: false });
    const before = requests;
    expect(await strict(probe('/'))).toEqual({ ok: false, message: expect.stringMatching(/^refused: 127\.0\.0\.1 is a loopback address; .*HESTIA_PROBE_ALLOW_LOCAL=true/) });
    const byName = await strict({ ...probe('/'), http: { url: url.replace('127.0.0.1', 'localhost') } });
    expect(byName.ok).toBe(false);
    expect(byName.message).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(requests).toBe(before);
  });

  it('judges the status code alone when local targets are allowed, and never follows a redirect', async () => {
    const loose = httpProber({ allowLocal: true });
    expect(await loose(probe('/'))).toEqual({ ok: true, message: 'answered 200' });
    expect(await loose(probe('/down'))).toEqual({ ok: false, message: 'answered 503, not 200–399' });
    expect(await loose(probe('/down', { expectStatus: [503] }))).toEqual({ ok: true, message: 'answered 503' });
    expect(await loose(probe('/moved'))).toEqual({ ok: true, message: 'answered 302' });
    expect(await loose(probe('/moved', { expectStatus: [200, 204] }))).toEqual({ ok: false, message: 'answered 302, not 200 or 204' });
    expect((await loose({ ...probe('/'), http: { url: 'http://127.0.0.1:1/' } })).message).toBe('could not connect (ECONNREFUSED)');
  });

  it('is switched by HESTIA_PROBE_ALLOW_LOCAL or --allow-local-probes', () => {
    expect(probeOptionsFrom([], {})).toEqual({ allowLocal: false });
    expect(probeOptionsFrom([], { HESTIA_PROBE_ALLOW_LOCAL: 'true' })).toEqual({ allowLocal: true });
    expect(probeOptionsFrom(['--allow-local-probes'], {})).toEqual({ allowLocal: true });
  });
});

describe('answers and backoff', () => {
  it('doubles the wait after each failed round, from the shortest failing period, up to 300 s', () => {
    const p = (periodSeconds?: number): ProbeSpec => ({ name: 'p', http: { url: 'http://x/' }, ...(periodSeconds ? { periodSeconds } : {}) });
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => nextRoundDelaySeconds([p()], n))).toEqual([10, 20, 40, 80, 160, 300, 300]);
    expect(nextRoundDelaySeconds([p(5), p(30)], 1)).toBe(5);
    expect(nextRoundDelaySeconds([p(3600)], 3)).toBe(3600);
    expect(answerOf({ name: 'p', http: { url: 'http://x/', expectStatus: [200, 204, 304] } }, 500).message).toBe('answered 500, not 200, 204 or 304');
  });
});

/** A clock whose timers fire only when the test says. */
class ManualClock implements Clock {
  private readonly timers: { when: number; fn: () => void }[] = [];
  private time = Date.parse('2026-11-28T10:00:00Z');
  now = () => new Date(this.time);
  at(when: Date, fn: () => void): () => void {
    const timer = { when: when.getTime(), fn };
    this.timers.push(timer);
    return () => this.timers.splice(this.timers.indexOf(timer), 1);
  }
  /** Fires the next timer; returns the seconds it waited for, or null when none is armed. */
  next(): number | null {
    const timer = this.timers.sort((a, b) => a.when - b.when).shift();
    if (!timer) return null;
    const waited = (timer.when - this.time) / 1000;
    this.time = timer.when;
    timer.fn();
    return waited;
  }
}

describe('probes as gates', () => {
  const inputs = (revision: string, upstreamReady = true): RunnerInputs => ({ valid: true, suspended: false, cycle: false, workloadsReady: true, upstreamReady, scheduled: false, concurrencyPolicy: 'Forbid', revision, parts: [], trigger: null });
  const probes: ProbeSpec[] = [{ name: 'api', http: { url: 'http://api.shop.svc/healthz' }, periodSeconds: 10 }];

  function gates() {
    const answers: ProbeAnswer[] = [];
    const asked: string[] = [];
    const clock = new ManualClock();
    const changed: string[] = [];
    const g = new ProbeGates({
      prober: async (p) => {
        asked.push(p.name);
        return answers.shift() ?? { ok: true, message: 'answered 200' };
      },
      clock,
      log: pino({ level: 'silent' }),
      changed: (key) => changed.push(key),
    });
    const settle = () => new Promise((r) => setTimeout(r, 10));
    return { g, answers, asked, clock, changed, settle };
  }

  it('asks only once everything else holds and a run is due; holds the run until a round answers as expected', async () => {
    const { g, answers, asked, clock, settle } = gates();
    expect(g.gate('qa/a', probes, inputs('r1', false), null, 'now')!).toEqual({ open: true, statuses: [{ name: 'api', url: 'http://api.shop.svc/healthz', ready: false, message: 'not probed yet' }] });
    expect(asked).toEqual([]);

    answers.push({ ok: false, message: 'answered 503, not 200–399' }, { ok: false, message: 'answered 503, not 200–399' });
    expect(g.gate('qa/a', probes, inputs('r1'), null, 'now')!.open).toBe(false);
    await settle();
    expect(g.gate('qa/a', probes, inputs('r1'), null, 'now')!).toMatchObject({ open: false, statuses: [{ ready: false, message: 'answered 503, not 200–399' }] });
    expect(clock.next()).toBe(10);
    await settle();
    expect(clock.next()).toBe(20);
    await settle();
    expect(asked).toHaveLength(3);
    expect(g.gate('qa/a', probes, inputs('r1'), null, 'now')!).toMatchObject({ open: true, statuses: [{ ready: true, message: 'answered 200' }] });
    expect(clock.next()).toBeNull();
  });

  it('does not ask when the revision already ran, and asks again for a new one', async () => {
    const { g, asked, settle } = gates();
    const ran: RunnerContext = { ...initialContext({ inputs: inputs('r1'), at: 'now' }), lastRevision: 'r1' };
    expect(g.gate('qa/b', probes, inputs('r1'), ran, 'now')!.open).toBe(true);
    await settle();
    expect(asked).toEqual([]);
    expect(g.gate('qa/b', probes, inputs('r2'), ran, 'now')!.open).toBe(false);
    await settle();
    expect(asked).toEqual(['api']);
    expect(g.gate('qa/b', probes, inputs('r2'), ran, 'now')!.open).toBe(true);
  });

  it('probes a scheduled tick first, and keeps asking after a failed one until the probes answer', async () => {
    const { g, answers, asked, clock, settle } = gates();
    const scheduled = { ...inputs('r1'), scheduled: true };
    const context = initialContext({ inputs: scheduled, at: 'now' });
    expect(g.gate('qa/c', probes, scheduled, context, 'now')!.open).toBe(true);
    answers.push({ ok: false, message: 'no answer within 5s' });
    await g.beforeTick('qa/c', '2026-11-28T10:05:00Z', true);
    expect(asked).toEqual(['api']);
    expect(g.gate('qa/c', probes, scheduled, context, 'now')!).toMatchObject({ open: false, statuses: [{ message: 'no answer within 5s' }] });
    expect(clock.next()).toBe(10);
    await settle();
    expect(g.gate('qa/c', probes, scheduled, context, 'now')!.open).toBe(true);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HTTP } from 'cloudevents';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FailedTestStatus, LastRunStatus, Runner } from '../../src/api/runner.ts';
import { CLOUDEVENTS_MODES, HAPPENINGS, type Happening } from '../../src/notify/api.ts';
import { noticeOf, occurrencesOf, type Notice, type Occurrence } from '../../src/notify/happenings.ts';
import { payloadFor } from '../../src/notify/payloads.ts';
import { markdownEscaped, type TeamsMessage } from '../../src/notify/payloads/msteams.ts';
import { CLOUDEVENTS_TYPES, LISTED_FAILED_TESTS, NAME_LIMIT, noticeData, TEXT_LIMIT } from '../../src/notify/payloads/notice-data.ts';
import { SLACK_LIMITS, slackEscaped, type SlackMessage, type SlackText } from '../../src/notify/payloads/slack.ts';
import type { WebhookBody } from '../../src/notify/payloads/webhook.ts';

const UID = '5b0f6c1e-2d7a-4c8e-9f3b-1a2b3c4d5e6f';
const STARTED = '2026-03-01T10:00:00Z';
const ENDED = '2026-03-01T10:04:30Z';

function runnerWith(lastRun: LastRunStatus | undefined, extra: { advisory?: boolean; stalled?: { reason: string; message: string; since: Date } } = {}): Runner {
  return {
    apiVersion: 'e2e.stakater.com/v1alpha1',
    kind: 'Runner',
    metadata: { namespace: 'qa', name: 'smoke', uid: UID },
    spec: { template: { spec: { containers: [] } }, ...(extra.advisory ? { advisory: true } : {}) },
    status: {
      ...(lastRun ? { lastRun } : {}),
      ...(extra.stalled ? { conditions: [{ type: 'Stalled', status: 'True', reason: extra.stalled.reason, message: extra.stalled.message, lastTransitionTime: extra.stalled.since }] } : {}),
    },
  };
}

/** The notice a Notification subscribed to `happening` gets for the occurrence of this kind: the operator's own path. */
function noticeFor(runner: Runner, kind: Occurrence['kind'], happening?: Happening): Notice {
  const occurrence = occurrencesOf(runner).find((o) => o.kind === kind);
  if (!occurrence) throw new Error(`no ${kind} occurrence`);
  const told = happening ?? occurrence.happenings[0]!;
  expect(occurrence.happenings).toContain(told);
  return noticeOf(runner, occurrence, told);
}

const run = (fields: Partial<LastRunStatus>): LastRunStatus => ({
  jobName: 'smoke-1a2b3',
  revision: 'r-7c9d',
  trigger: 'rollout of Deployment shop/cart',
  reason: 'Revision',
  startTime: STARTED,
  completionTime: ENDED,
  result: 'Succeeded',
  ...fields,
});

const failingTests: FailedTestStatus[] = [
  { name: 'test_checkout', classname: 'test_cart.py', kind: 'failure', message: 'AssertionError: 502 != 200' },
  { name: '<!channel>', kind: 'failure', message: 'see <https://evil|click> & [click](https://evil) **urgent**' },
  { name: 'test_db', kind: 'error', message: 'timeout' },
];

const failedRun = run({
  result: 'Failed',
  message: 'exit code 1 <!here>',
  tests: { tests: 12, failures: 2, errors: 1, skipped: 0, timeSeconds: 3.2, failed: failingTests },
});

const NOTICES = {
  failed: noticeFor(runnerWith(failedRun), 'ended'),
  recoveredFlaky: noticeFor(runnerWith(run({ flaky: true, attempts: 2, recovered: true, tests: { tests: 12 } })), 'ended'),
  error: noticeFor(runnerWith(run({ result: 'Error', errorReason: 'ImagePullFailed', message: 'Back-off pulling image "shop/smoke:1"' })), 'ended'),
  started: noticeFor(runnerWith(run({ result: 'Running', completionTime: undefined })), 'started'),
  stalled: noticeFor(runnerWith(undefined, { stalled: { reason: 'StableStateTimeout', message: 'Deployment shop/cart not ready for 30m', since: new Date(ENDED) } }), 'stalled'),
};
const CASES = Object.entries(NOTICES);

const HUGE = `${'x'.repeat(100 * 1024 - 30)} <!channel> & <https://evil>`;
const hugeNotices = {
  run: noticeFor(
    runnerWith(
      run({
        result: 'Failed',
        message: HUGE,
        trigger: `manual trigger ${HUGE}`,
        tests: { tests: 40, failures: 30, failed: Array.from({ length: 30 }, (_, i) => ({ name: `${HUGE}-${i}`, classname: HUGE, kind: 'failure' as const, message: HUGE })) },
      }),
    ),
    'ended',
  ),
  stall: noticeFor(runnerWith(undefined, { stalled: { reason: 'InvalidSpec', message: HUGE, since: new Date(ENDED) } }), 'stalled'),
};

const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const json = async <T,>(notice: Notice, type: 'Webhook' | 'Slack' | 'MSTeams'): Promise<T> => JSON.parse((await payloadFor(notice, type, { cloudEventsMode: 'Binary' })).body) as T;

describe('the notices the tests send', () => {
  it('are those the operator makes for each happening', () => {
    expect(Object.fromEntries(CASES.map(([k, n]) => [k, n.happening]))).toEqual({
      failed: 'RunFailed',
      recoveredFlaky: 'RunRecovered',
      error: 'RunError',
      started: 'RunStarted',
      stalled: 'Stalled',
    });
  });
});

describe('CloudEvents', () => {
  it('has one type per happening, each with the com.stakater.e2e prefix', () => {
    expect(Object.keys(CLOUDEVENTS_TYPES).sort()).toEqual([...HAPPENINGS].sort());
    expect(new Set(Object.values(CLOUDEVENTS_TYPES)).size).toBe(HAPPENINGS.length);
    expect(CLOUDEVENTS_TYPES.RunFailed).toBe('com.stakater.e2e.run.failed');
    expect(CLOUDEVENTS_TYPES.Stalled).toBe('com.stakater.e2e.runner.stalled');
  });

  for (const mode of CLOUDEVENTS_MODES) {
    it.each(CASES)(`a %s notice in ${mode} mode is parsed back by the SDK with its attributes and data`, async (_, notice) => {
      const payload = await payloadFor(notice, 'CloudEvents', { cloudEventsMode: mode });
      const event = HTTP.toEvent({ headers: payload.headers, body: payload.body });
      if (Array.isArray(event)) throw new Error('a batch, not one event');
      expect(event.specversion).toBe('1.0');
      expect(event.id).toBe(notice.id);
      expect(event.type).toBe(CLOUDEVENTS_TYPES[notice.happening]);
      expect(event.source).toBe('/apis/e2e.stakater.com/v1alpha1/namespaces/qa/runners');
      expect(event.subject).toBe('smoke');
      expect(Date.parse(event.time!)).toBe(Date.parse(notice.time));
      expect(event.datacontenttype).toBe('application/json');
      expect(event.data).toEqual(asJson(noticeData(notice)));
    });
  }

  it('Binary mode puts the attributes in ce-* headers and the data alone in the body; Structured puts the whole event in the body', async () => {
    const binary = await payloadFor(NOTICES.failed, 'CloudEvents', { cloudEventsMode: 'Binary' });
    expect(binary.headers).toMatchObject({ 'content-type': 'application/json', 'ce-id': NOTICES.failed.id, 'ce-type': 'com.stakater.e2e.run.failed', 'ce-subject': 'smoke', 'ce-specversion': '1.0' });
    expect(JSON.parse(binary.body)).toEqual(asJson(noticeData(NOTICES.failed)));
    const structured = await payloadFor(NOTICES.failed, 'CloudEvents', { cloudEventsMode: 'Structured' });
    expect(structured.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    expect(Object.keys(structured.headers).filter((h) => h.startsWith('ce-'))).toEqual([]);
    expect(JSON.parse(structured.body)).toMatchObject({ id: NOTICES.failed.id, subject: 'smoke', data: asJson(noticeData(NOTICES.failed)) });
  });

  it('no module of the operator imports the SDK up front, so an operator without a CloudEvents Destination never loads it', () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const eager = sources('src').filter((f) => /^\s*import\s+(?!type\b)[^;]*?from\s+['"]cloudevents['"]/m.test(readFileSync(f, 'utf8')) || /^\s*import\s+['"]cloudevents['"]/m.test(readFileSync(f, 'utf8')));
    expect(eager).toEqual([]);
    expect(readFileSync('src/notify/payloads/cloudevents.ts', 'utf8')).toContain("await import('cloudevents')");
  });
});

describe('the shared data', () => {
  it('says how an end came out, by the run\'s result: an Error told as RunFailed is still an error', () => {
    expect(noticeData(NOTICES.failed).outcome).toBe('fail');
    expect(noticeData(NOTICES.recoveredFlaky).outcome).toBe('pass');
    expect(noticeData(NOTICES.error).outcome).toBe('error');
    const errorAsFailed = noticeFor(runnerWith(run({ result: 'Error', errorReason: 'PodEvicted' })), 'ended', 'RunFailed');
    expect(noticeData(errorAsFailed).outcome).toBe('error');
    expect(asJson(noticeData(NOTICES.started))).not.toHaveProperty('outcome');
    expect(asJson(noticeData(NOTICES.stalled))).not.toHaveProperty('outcome');
  });

  it('carries the run for a run\'s happening and the stall for a stall', () => {
    const failed = noticeData(NOTICES.failed);
    expect(failed).toMatchObject({ happening: 'RunFailed', runner: { namespace: 'qa', name: 'smoke', uid: UID }, advisory: false, summary: NOTICES.failed.summary });
    expect(failed.run).toMatchObject({ jobName: 'smoke-1a2b3', revision: 'r-7c9d', trigger: 'rollout of Deployment shop/cart', reason: 'Revision', startTime: STARTED, completionTime: ENDED, result: 'Failed' });
    expect(failed.run?.tests?.failed).toHaveLength(3);
    expect(noticeData(NOTICES.recoveredFlaky).run).toMatchObject({ flaky: true, attempts: 2, recovered: true });
    expect(noticeData(NOTICES.error).run).toMatchObject({ result: 'Error', errorReason: 'ImagePullFailed' });
    const stalled = asJson(noticeData(NOTICES.stalled));
    expect(stalled).toMatchObject({ happening: 'Stalled', stall: { reason: 'StableStateTimeout', message: 'Deployment shop/cart not ready for 30m' } });
    expect(stalled).not.toHaveProperty('run');
  });

  it('caps every free-text field from the cluster and lists at most 20 failing tests', () => {
    const data = noticeData(hugeNotices.run);
    expect(data.summary.length).toBeLessThanOrEqual(TEXT_LIMIT);
    expect(data.run!.message!.length).toBe(TEXT_LIMIT);
    expect(data.run!.message!.endsWith('…')).toBe(true);
    expect(data.run!.trigger.length).toBe(NAME_LIMIT);
    expect(data.run!.tests!.failed).toHaveLength(LISTED_FAILED_TESTS);
    for (const t of data.run!.tests!.failed!) {
      expect(t.message.length).toBeLessThanOrEqual(TEXT_LIMIT);
      expect(t.name.length).toBeLessThanOrEqual(NAME_LIMIT);
      expect(t.classname!.length).toBeLessThanOrEqual(NAME_LIMIT);
    }
    expect(noticeData(hugeNotices.stall).stall!.message.length).toBe(TEXT_LIMIT);
  });

  it('keeps every payload of a notice with 100 KB messages small', async () => {
    for (const notice of Object.values(hugeNotices)) {
      for (const type of ['CloudEvents', 'Webhook', 'Slack', 'MSTeams'] as const) {
        const { body } = await payloadFor(notice, type, { cloudEventsMode: 'Structured' });
        expect(body.length, type).toBeLessThan(type === 'Slack' || type === 'MSTeams' ? 24 * 1024 : 64 * 1024);
      }
    }
  });
});

describe('Webhook', () => {
  it.each(CASES)('a %s notice is its id, type, happening, time and subject around the shared data', async (_, notice) => {
    const payload = await payloadFor(notice, 'Webhook', { cloudEventsMode: 'Binary' });
    expect(payload.headers).toEqual({ 'content-type': 'application/json' });
    const body = JSON.parse(payload.body) as WebhookBody;
    expect(Object.keys(body)).toEqual(['id', 'type', 'happening', 'time', 'subject', 'data']);
    expect(body).toEqual({
      id: notice.id,
      type: CLOUDEVENTS_TYPES[notice.happening],
      happening: notice.happening,
      time: new Date(notice.time).toISOString(),
      subject: 'qa/smoke',
      data: asJson(noticeData(notice)),
    });
  });
});

const slackTexts = (m: SlackMessage): SlackText[] => m.blocks.flatMap((b) => (b.type === 'section' ? [b.text] : b.elements));
/** What is left once every escape Slack knows is taken out: raw `<`, `>` or `&` there would be markup. */
const slackMarkup = (s: string): string[] => s.replace(/&(amp|lt|gt);/g, '').match(/[<>&]/g) ?? [];

describe('Slack', () => {
  it.each(CASES)('a %s notice is a fallback text and Block Kit blocks of the documented types', async (_, notice) => {
    const payload = await payloadFor(notice, 'Slack', { cloudEventsMode: 'Binary' });
    expect(payload.headers).toEqual({ 'content-type': 'application/json' });
    const message = JSON.parse(payload.body) as SlackMessage;
    expect(Object.keys(message).sort()).toEqual(['blocks', 'text']);
    expect(message.text.startsWith('qa/smoke ')).toBe(true);
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(message.blocks[0]!.type).toBe('section');
    expect(message.blocks.at(-1)!.type).toBe('context');
    for (const t of slackTexts(message)) {
      expect(t).toEqual({ type: 'mrkdwn', text: expect.any(String), verbatim: true });
      expect(t.text.length).toBeGreaterThan(0);
      expect(t.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    }
  });

  it('heads a failed run with the Runner in bold, lists its failing tests in a code block, and names job, trigger and revision', async () => {
    const message = await json<SlackMessage>(NOTICES.failed, 'Slack');
    expect(message.blocks.map((b) => b.type)).toEqual(['section', 'section', 'context']);
    const [head, tests, context] = slackTexts(message);
    expect(head!.text).toMatch(/^\*qa\/smoke run failed\*\nJob smoke-1a2b3 failed: /);
    expect(tests!.text).toContain('```\nfailure: test_cart.py.test_checkout — AssertionError: 502 != 200\n');
    expect(tests!.text).toContain('error: test_db — timeout\n```');
    const contextTexts = (message.blocks[2] as { elements: SlackText[] }).elements.map((e) => e.text);
    expect(contextTexts).toEqual(['Job smoke-1a2b3', 'Trigger: rollout of Deployment shop/cart', 'Revision r-7c9d']);
    expect(context).toBeDefined();
  });

  it('a start or a stall has no tests section', async () => {
    expect((await json<SlackMessage>(NOTICES.started, 'Slack')).blocks.map((b) => b.type)).toEqual(['section', 'context']);
    const stall = await json<SlackMessage>(NOTICES.stalled, 'Slack');
    expect(stall.blocks.map((b) => b.type)).toEqual(['section', 'context']);
    expect(slackTexts(stall)[0]!.text).toBe('*qa/smoke stalled*\nStableStateTimeout: Deployment shop/cart not ready for 30m');
  });

  it('escapes <!channel>, <https://evil|click> and & in test names and messages, so nothing pings or links', async () => {
    const message = await json<SlackMessage>(NOTICES.failed, 'Slack');
    const all = [message.text, ...slackTexts(message).map((t) => t.text)];
    for (const s of all) expect(slackMarkup(s)).toEqual([]);
    const tests = slackTexts(message)[1]!.text;
    expect(tests).toContain('failure: &lt;!channel&gt; — see &lt;https://evil|click&gt; &amp; [click](https://evil)');
    expect(slackTexts(message)[0]!.text).toContain('exit code 1 &lt;!here&gt;');
    expect(message.text).toContain('&lt;!here&gt;');
  });

  it('keeps within Slack\'s limits for 100 KB messages: sections of 3,000, ten tests and a count of the rest', async () => {
    const message = await json<SlackMessage>(hugeNotices.run, 'Slack');
    expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    for (const t of slackTexts(message)) {
      expect(t.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect(slackMarkup(t.text)).toEqual([]);
    }
    const tests = slackTexts(message)[1]!.text;
    expect(tests.split('\n').filter((l) => l.startsWith('failure: '))).toHaveLength(SLACK_LIMITS.listedTests);
    expect(tests.endsWith('\n_and 20 more_')).toBe(true);
    const stall = await json<SlackMessage>(hugeNotices.stall, 'Slack');
    expect(slackTexts(stall)[0]!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  });

  it('three backticks in a test\'s line cannot close its code block', async () => {
    const notice = noticeFor(runnerWith(run({ result: 'Failed', tests: { tests: 1, failures: 1, failed: [{ name: 'a```*b*```', kind: 'failure', message: '````' }] } })), 'ended');
    const tests = slackTexts(await json<SlackMessage>(notice, 'Slack'))[1]!.text;
    expect(tests.match(/```/g)).toHaveLength(2);
  });

  it('escapes any text within any limit without cutting an escape in two', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('<', '>', '&', 'a', 'é', '😀', '!') }), fc.integer({ min: 1, max: 40 }), (text, limit) => {
        const out = slackEscaped(text, limit);
        expect(out.length).toBeLessThanOrEqual(limit);
        expect(slackMarkup(out)).toEqual([]);
        expect(out.replace(/…$/, '').replace(/&(amp|lt|gt);/g, '')).not.toMatch(/[\uD800-\uDBFF]$/);
      }),
    );
  });
});

const cardOf = (m: TeamsMessage) => m.attachments[0].content;
const cardTexts = (m: TeamsMessage): string[] => cardOf(m).body.flatMap((b) => (b.type === 'TextBlock' ? [b.text] : b.facts.map((f) => f.value)));
/** What is left once every backslash escape is taken out: a raw Markdown-significant character there would be markup. */
const markdownMarkup = (s: string): string[] => s.replace(/\\./g, '').match(/[\\`*_~[\]<>&]/g) ?? [];

describe('Microsoft Teams', () => {
  it.each(CASES)('a %s notice is a message with one Adaptive Card 1.4 of TextBlocks and a FactSet', async (_, notice) => {
    const payload = await payloadFor(notice, 'MSTeams', { cloudEventsMode: 'Binary' });
    expect(payload.headers).toEqual({ 'content-type': 'application/json' });
    const message = JSON.parse(payload.body) as TeamsMessage;
    expect(message.type).toBe('message');
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = cardOf(message);
    expect(card).toMatchObject({ $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4' });
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', weight: 'Bolder', wrap: true });
    expect(card.body.at(-1)!.type).toBe('FactSet');
    for (const text of cardTexts(message)) expect(markdownMarkup(text)).toEqual([]);
  });

  it('a failed run lists its failing tests and its job, trigger, revision and result as facts', async () => {
    const card = cardOf(await json<TeamsMessage>(NOTICES.failed, 'MSTeams'));
    expect(card.body[0]).toMatchObject({ text: 'qa/smoke run failed', color: 'Attention' });
    const texts = card.body.flatMap((b) => (b.type === 'TextBlock' ? [b.text] : []));
    expect(texts).toContain('Failing tests');
    expect(texts).toContain('failure: test\\_cart.py.test\\_checkout — AssertionError: 502 != 200');
    const facts = card.body.at(-1)!;
    expect(facts.type === 'FactSet' && Object.fromEntries(facts.facts.map((f) => [f.title, f.value]))).toMatchObject({
      Job: 'smoke-1a2b3',
      Trigger: 'rollout of Deployment shop/cart',
      Revision: 'r-7c9d',
      Result: 'Failed',
    });
  });

  it('escapes Markdown in test names and messages, so a link, emphasis or mention shows as written', async () => {
    const texts = cardTexts(await json<TeamsMessage>(NOTICES.failed, 'MSTeams'));
    expect(texts).toContain('failure: \\<!channel\\> — see \\<https://evil\\|click\\> \\& \\[click\\](https://evil) \\*\\*urgent\\*\\*');
    expect(markdownEscaped('- one\n2. two\n# three')).toBe('\\- one\n2\\. two\n\\# three');
  });

  it('keeps a card of 100 KB messages small: capped summary, ten tests and a count of the rest', async () => {
    const card = cardOf(await json<TeamsMessage>(hugeNotices.run, 'MSTeams'));
    const texts = card.body.flatMap((b) => (b.type === 'TextBlock' ? [b.text] : []));
    expect(texts.filter((t) => t.startsWith('failure: '))).toHaveLength(10);
    expect(texts.at(-1)).toBe('and 20 more');
    for (const t of cardTexts(await json<TeamsMessage>(hugeNotices.stall, 'MSTeams'))) expect(t.length).toBeLessThanOrEqual(2 * TEXT_LIMIT);
  });
});

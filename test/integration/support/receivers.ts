// Test support: receivers of notifications, HTTP servers on loopback (port 0) as a Destination's address. Each
// records every request (path, headers, body, when) and what it answered, and answers as the test says: accept
// (200), unavailable (503), hang (never answer), or slow (200 after a while). Three speak a Destination type: a
// CloudEvents receiver parses each request with the CNCF SDK, as a real consumer would; a webhook receiver reads the
// JSON body; a Slack receiver checks each message against Slack's documented incoming-webhook shape and refuses (400,
// as Slack does) one that breaks it. What was accepted is counted by the notice's id, so a test can say "exactly once".
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudEvent, HTTP } from 'cloudevents';
import type { NoticeData } from '../../../src/notify/payloads/notice-data.ts';

export type Answering = 'accept' | 'unavailable' | 'hang' | { slowMs: number };

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** What it was answered; undefined while it hangs (and for good, if it never is answered). */
  status?: number;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** Every request so far, in the order they arrived. */
  readonly requests: readonly Received[];
  /** How to answer from now on (a request already hanging keeps hanging). */
  answer(how: Answering): void;
  /** The requests answered 2xx. */
  accepted(): Received[];
  /** Requests answered with this status. */
  answered(status: number): Received[];
  close(): Promise<void>;
}

interface ReceiverOptions {
  /** Why a request is malformed for this receiver (it is answered 400), or null. */
  refuse?: (request: Received) => string | null;
}

const isAccepted = (r: Received) => r.status !== undefined && r.status >= 200 && r.status < 300;

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const requests: Received[] = [];
  const slow = new Set<NodeJS.Timeout>();
  let how: Answering = 'accept';
  const reply = (res: ServerResponse, request: Received, status: number, text: string) => {
    request.status = status;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      requests.push(request);
      const refused = options.refuse?.(request);
      if (refused) return reply(res, request, 400, refused);
      if (how === 'hang') return;
      if (how === 'unavailable') return reply(res, request, 503, 'unavailable');
      if (how === 'accept') return reply(res, request, 200, 'ok');
      const timer = setTimeout(() => {
        slow.delete(timer);
        reply(res, request, 200, 'ok');
      }, how.slowMs);
      slow.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    answer: (next) => {
      how = next;
    },
    accepted: () => requests.filter(isAccepted),
    answered: (status) => requests.filter((r) => r.status === status),
    close: async () => {
      for (const timer of slow) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- CloudEvents ---------------------------------------------------------------------------------

export interface CloudEventsReceiver extends Receiver {
  /** The accepted requests with their events, as the SDK parsed them, in the order they arrived. */
  deliveries(): { request: Received; event: CloudEvent<NoticeData> }[];
  events(): CloudEvent<NoticeData>[];
  /** How many accepted requests carried the event with this id. */
  acceptedCount(id: string): number;
  /** Requests the SDK could not read as one CloudEvent, and why. */
  readonly problems: readonly string[];
}

export async function startCloudEventsReceiver(): Promise<CloudEventsReceiver> {
  const parsed = new WeakMap<Received, CloudEvent<NoticeData>>();
  const problems: string[] = [];
  const receiver = await startReceiver({
    refuse: (request) => {
      try {
        const event = HTTP.toEvent<NoticeData>({ headers: request.headers, body: request.body });
        if (Array.isArray(event)) throw new Error(`a batch of ${event.length} events, not one`);
        if (!(event instanceof CloudEvent)) throw new Error('the SDK made no CloudEvent of it');
        parsed.set(request, event as CloudEvent<NoticeData>);
        return null;
      } catch (err) {
        const problem = `${request.headers['content-type'] ?? 'no content-type'}: ${(err as Error).message}`;
        problems.push(problem);
        return problem;
      }
    },
  });
  const deliveries = () => receiver.accepted().flatMap((request) => {
    const event = parsed.get(request);
    return event ? [{ request, event }] : [];
  });
  const events = () => deliveries().map((d) => d.event);
  return { ...receiver, problems, deliveries, events, acceptedCount: (id) => events().filter((e) => e.id === id).length };
}

// ---- A JSON webhook ------------------------------------------------------------------------------

export interface WebhookReceiver extends Receiver {
  /** The bodies of the accepted requests. */
  bodies(): { id: string; type: string; happening: string; subject: string; time: string; data: NoticeData }[];
  acceptedCount(id: string): number;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver = await startReceiver({ refuse: (r) => (isJsonObject(r.body) ? null : 'the body is not a JSON object') });
  const bodies = () => receiver.accepted().map((r) => JSON.parse(r.body) as ReturnType<WebhookReceiver['bodies']>[number]);
  return { ...receiver, bodies, acceptedCount: (id) => bodies().filter((b) => b.id === id).length };
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

// ---- Slack ---------------------------------------------------------------------------------------

export interface SlackText {
  type: 'mrkdwn' | 'plain_text';
  text: string;
}
export interface SlackPost {
  text: string;
  blocks?: { type: string; text?: SlackText; elements?: SlackText[]; fields?: SlackText[] }[];
}

export interface SlackReceiver extends Receiver {
  /** The accepted messages. */
  posts(): SlackPost[];
  /** Accepted messages whose text starts with `prefix` ("ns/name run failed"): Slack messages carry no id. */
  postsStartingWith(prefix: string): SlackPost[];
  /** What each refused message broke, in Slack's documented shape. */
  readonly violations: readonly string[];
}

export async function startSlackReceiver(): Promise<SlackReceiver> {
  const violations: string[] = [];
  const receiver = await startReceiver({
    refuse: (request) => {
      const found = slackMessageProblems(request.body);
      violations.push(...found);
      // Slack answers a message it cannot take with 400 and a word such as invalid_blocks.
      return found.length > 0 ? `invalid_payload: ${found.join('; ')}` : null;
    },
  });
  const posts = () => receiver.accepted().map((r) => JSON.parse(r.body) as SlackPost);
  return { ...receiver, violations, posts, postsStartingWith: (prefix) => posts().filter((p) => p.text.startsWith(prefix)) };
}

/**
 * Slack's reference (api.slack.com: incoming webhooks, Block Kit blocks, composition objects): a `text` string (the
 * notification's words and the fallback; Slack cuts it after 40,000 characters), at most 50 `blocks` of known types,
 * text objects `{type: plain_text | mrkdwn, text}` of 1–3,000 characters (a section's fields 2,000, a header's 150),
 * `emoji` only on plain_text, `verbatim` only on mrkdwn, and no other keys. Besides: text from the cluster must be
 * escaped (`&`, `<`, `>`), so no `<!channel>`, `<@user>`, `<#channel>` or `<link|label>` control sequence appears.
 */
export function slackMessageProblems(body: string): string[] {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return ['the body is not JSON'];
  }
  if (!isRecord(message)) return ['the body is not a JSON object'];
  const problems: string[] = [];
  problems.push(...unknownKeys(message, ['text', 'blocks', 'attachments', 'thread_ts', 'mrkdwn', 'unfurl_links', 'unfurl_media', 'metadata'], 'the message'));
  if (typeof message.text !== 'string' || message.text.length === 0) problems.push('text: must be a non-empty string');
  else {
    if (message.text.length > 40_000) problems.push(`text: ${message.text.length} characters, more than 40,000`);
    problems.push(...escapingProblems(message.text, 'text'));
  }
  if (message.blocks !== undefined) {
    if (!Array.isArray(message.blocks)) problems.push('blocks: must be an array');
    else {
      if (message.blocks.length > 50) problems.push(`blocks: ${message.blocks.length}, more than 50`);
      message.blocks.forEach((b: unknown, i) => problems.push(...blockProblems(b, `blocks[${i}]`)));
    }
  }
  return problems;
}

const BLOCK_KEYS: Record<string, readonly string[]> = {
  section: ['type', 'block_id', 'text', 'fields', 'accessory', 'expand'],
  context: ['type', 'block_id', 'elements'],
  header: ['type', 'block_id', 'text'],
  divider: ['type', 'block_id'],
};
const OTHER_BLOCK_TYPES = ['actions', 'file', 'image', 'input', 'rich_text', 'video', 'markdown'];

function blockProblems(block: unknown, at: string): string[] {
  if (!isRecord(block) || typeof block.type !== 'string') return [`${at}: must be an object with a type`];
  const keys = BLOCK_KEYS[block.type];
  if (!keys) return OTHER_BLOCK_TYPES.includes(block.type) ? [] : [`${at}.type: "${block.type}" is not a Block Kit block type`];
  const problems = unknownKeys(block, keys, at);
  if (block.block_id !== undefined && (typeof block.block_id !== 'string' || block.block_id.length > 255)) problems.push(`${at}.block_id: a string of at most 255 characters`);
  switch (block.type) {
    case 'section':
      if (block.text === undefined && block.fields === undefined) problems.push(`${at}: a section needs text or fields`);
      if (block.text !== undefined) problems.push(...textObjectProblems(block.text, `${at}.text`, 3_000));
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields) || block.fields.length === 0 || block.fields.length > 10) problems.push(`${at}.fields: 1–10 text objects`);
        else block.fields.forEach((f: unknown, i) => problems.push(...textObjectProblems(f, `${at}.fields[${i}]`, 2_000)));
      }
      break;
    case 'context':
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10) problems.push(`${at}.elements: 1–10 elements`);
      else block.elements.forEach((e: unknown, i) => problems.push(...(isRecord(e) && e.type === 'image' ? [] : textObjectProblems(e, `${at}.elements[${i}]`, 3_000))));
      break;
    case 'header':
      problems.push(...textObjectProblems(block.text, `${at}.text`, 150, 'plain_text'));
      break;
  }
  return problems;
}

function textObjectProblems(value: unknown, at: string, limit: number, only?: 'plain_text'): string[] {
  if (!isRecord(value)) return [`${at}: must be a text object`];
  const problems = unknownKeys(value, ['type', 'text', 'emoji', 'verbatim'], at);
  if (value.type !== 'mrkdwn' && value.type !== 'plain_text') problems.push(`${at}.type: must be "mrkdwn" or "plain_text"`);
  if (only && value.type !== only) problems.push(`${at}.type: must be "${only}"`);
  if (value.emoji !== undefined && (value.type !== 'plain_text' || typeof value.emoji !== 'boolean')) problems.push(`${at}.emoji: a boolean, on plain_text only`);
  if (value.verbatim !== undefined && (value.type !== 'mrkdwn' || typeof value.verbatim !== 'boolean')) problems.push(`${at}.verbatim: a boolean, on mrkdwn only`);
  if (typeof value.text !== 'string' || value.text.length === 0) problems.push(`${at}.text: must be a non-empty string`);
  else {
    if (value.text.length > limit) problems.push(`${at}.text: ${value.text.length} characters, more than ${limit}`);
    if (value.type === 'mrkdwn') problems.push(...escapingProblems(value.text, `${at}.text`));
  }
  return problems;
}

/** Slack reads `<…>` as a mention or a link and `&…;` as an entity: only the three escapes may appear. */
function escapingProblems(text: string, at: string): string[] {
  const problems: string[] = [];
  const control = text.match(/<[^>]*>?/);
  if (control) problems.push(`${at}: an unescaped control sequence ${JSON.stringify(control[0].slice(0, 40))}`);
  const entity = text.match(/&(?!(amp|lt|gt);)\S{0,8}/);
  if (entity) problems.push(`${at}: an unescaped "&" (${JSON.stringify(entity[0])})`);
  if (text.includes('>')) problems.push(`${at}: an unescaped ">"`);
  return problems;
}

function unknownKeys(value: Record<string, unknown>, known: readonly string[], at: string): string[] {
  return Object.keys(value).filter((k) => !known.includes(k)).map((k) => `${at}: unknown key "${k}"`);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

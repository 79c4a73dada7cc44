// A notice as a Slack incoming-webhook message: `text` for notifications and clients without blocks, and a small Block
// Kit message. Every string from the cluster is escaped as Slack asks (`&`, `<`, `>`), and the text objects are
// verbatim, so a test named `<!channel>` or `@here`, or a message with `<https://evil|click>`, can neither ping
// anyone nor make a link.
import { failedTestLines } from '../../runner/run-words.ts';
import type { Notice } from '../happenings.ts';
import { headline, noticeData, summaryWords, TEXT_LIMIT } from './notice-data.ts';

/** Slack's limits (its Block Kit reference), and how much of a section the failing tests may take. */
export const SLACK_LIMITS = { text: 40_000, sectionText: 3_000, blocks: 50, contextElements: 10, listedTests: 10, testLine: 280, contextText: 300 } as const;

export interface SlackText {
  type: 'mrkdwn';
  text: string;
  verbatim: true;
}
export type SlackBlock = { type: 'section'; text: SlackText } | { type: 'context'; elements: SlackText[] };
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** `text` escaped for mrkdwn, at most `limit` characters long: cut between characters, never inside an escape. */
export function slackEscaped(text: string, limit: number = Number.POSITIVE_INFINITY): string {
  const pieces = Array.from(text, (ch) => ESCAPES[ch] ?? ch);
  const whole = pieces.join('');
  if (whole.length <= limit) return whole;
  let out = '';
  for (const piece of pieces) {
    if (out.length + piece.length > limit - 1) break;
    out += piece;
  }
  return `${out}…`;
}

const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text, verbatim: true });

/** Three backticks in a test's line would close the code block it is listed in. */
const unfenced = (line: string): string => line.replace(/`(?=``)/g, '`\u200b');

function failingTestsSection(notice: Notice): SlackBlock | null {
  const tests = noticeData(notice).run?.tests;
  const lines = tests ? failedTestLines(tests) : [];
  if (!tests || lines.length === 0) return null;
  const shown = lines.slice(0, SLACK_LIMITS.listedTests).map((l) => slackEscaped(unfenced(l), SLACK_LIMITS.testLine));
  const more = Math.max((tests.failures ?? 0) + (tests.errors ?? 0), lines.length) - shown.length;
  return { type: 'section', text: mrkdwn(`*Failing tests*\n\`\`\`\n${shown.join('\n')}\n\`\`\`${more > 0 ? `\n_and ${more} more_` : ''}`) };
}

function contextBlock(notice: Notice): SlackBlock | null {
  const run = notice.run;
  const facts = [
    ...(run ? [`Job ${run.jobName}`, `Trigger: ${run.trigger}`, `Revision ${run.revision}`] : []),
    ...(notice.stall ? [`Reason: ${notice.stall.reason}`] : []),
    ...(notice.advisory ? ['Advisory: blocks nothing'] : []),
  ];
  if (facts.length === 0) return null;
  return { type: 'context', elements: facts.slice(0, SLACK_LIMITS.contextElements).map((f) => mrkdwn(slackEscaped(f, SLACK_LIMITS.contextText))) };
}

export function slackMessage(notice: Notice): SlackMessage {
  const head = `*${slackEscaped(headline(notice))}*`;
  const summary = slackEscaped(summaryWords(notice), SLACK_LIMITS.sectionText - head.length - 1);
  const blocks = [{ type: 'section', text: mrkdwn(`${head}\n${summary}`) } as const, failingTestsSection(notice), contextBlock(notice)];
  return {
    text: slackEscaped(`${headline(notice)}: ${summaryWords(notice)}`, TEXT_LIMIT),
    blocks: blocks.filter((b): b is SlackBlock => b !== null).slice(0, SLACK_LIMITS.blocks),
  };
}

// A notice as a Microsoft Teams message for a Workflows webhook: one Adaptive Card. TextBlocks and FactSet values
// render a subset of Markdown (emphasis, lists, links), so every string from the cluster has its Markdown-significant
// characters backslash-escaped: a test named `[click](https://evil)` or `**urgent**` shows as written.
import { failedTestLines } from '../../runner/run-words.ts';
import type { Notice } from '../happenings.ts';
import { capped, headline, NAME_LIMIT, noticeData, outcomeOf, summaryWords, TEXT_LIMIT } from './notice-data.ts';

/** How many failing tests a card lists, and how long each line may be (a Teams message holds about 28 KB). */
export const TEAMS_LIMITS = { listedTests: 10, testLine: 500 } as const;

export interface TextBlock {
  type: 'TextBlock';
  text: string;
  wrap: true;
  weight?: 'Bolder';
  size?: 'Medium';
  color?: 'Good' | 'Attention' | 'Warning';
  fontType?: 'Monospace';
  spacing?: 'Small';
}
export interface FactSet {
  type: 'FactSet';
  facts: { title: string; value: string }[];
}
export interface TeamsMessage {
  type: 'message';
  attachments: [
    {
      contentType: 'application/vnd.microsoft.card.adaptive';
      content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json'; type: 'AdaptiveCard'; version: '1.4'; body: (TextBlock | FactSet)[] };
    },
  ];
}

/**
 * Plain text for a Markdown TextBlock: emphasis, code, links, autolinks, HTML and entities escaped everywhere; a
 * heading, quote or list marker escaped where a line starts.
 */
export const markdownEscaped = (text: string): string =>
  text
    .replace(/[\\`*_~[\]<>&|]/g, '\\$&')
    .replace(/^(\s*)([#+-])/gm, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/gm, '$1\\$2');

const textBlock = (text: string, style: Omit<TextBlock, 'type' | 'text' | 'wrap'> = {}): TextBlock => ({ type: 'TextBlock', text, wrap: true, ...style });

const COLOURS = { pass: 'Good', fail: 'Attention', error: 'Attention' } as const;

function failingTests(notice: Notice): TextBlock[] {
  const tests = noticeData(notice).run?.tests;
  const lines = tests ? failedTestLines(tests) : [];
  if (!tests || lines.length === 0) return [];
  const shown = lines.slice(0, TEAMS_LIMITS.listedTests);
  const more = Math.max((tests.failures ?? 0) + (tests.errors ?? 0), lines.length) - shown.length;
  return [
    textBlock('Failing tests', { weight: 'Bolder' }),
    ...shown.map((l) => textBlock(markdownEscaped(capped(l, TEAMS_LIMITS.testLine)), { fontType: 'Monospace', spacing: 'Small' })),
    ...(more > 0 ? [textBlock(`and ${more} more`, { spacing: 'Small' })] : []),
  ];
}

function facts(notice: Notice): FactSet['facts'] {
  const run = notice.run;
  const said: [string, string | undefined][] = [
    ['Job', run?.jobName],
    ['Trigger', run?.trigger],
    ['Revision', run?.revision],
    ['Result', run && notice.happening !== 'RunStarted' ? run.result : undefined],
    ['Started', run?.startTime],
    ['Completed', notice.happening !== 'RunStarted' ? run?.completionTime : undefined],
    ['Reason', notice.stall?.reason],
    ['Advisory', notice.advisory ? 'yes: a failure blocks nothing' : undefined],
  ];
  return said.filter((f): f is [string, string] => f[1] !== undefined).map(([title, value]) => ({ title, value: markdownEscaped(capped(value, NAME_LIMIT)) }));
}

export function teamsMessage(notice: Notice): TeamsMessage {
  const outcome = outcomeOf(notice);
  const factSet = facts(notice);
  const body: (TextBlock | FactSet)[] = [
    textBlock(markdownEscaped(headline(notice)), { weight: 'Bolder', size: 'Medium', ...(outcome ? { color: notice.happening === 'RunFlaky' ? 'Warning' : COLOURS[outcome] } : {}) }),
    textBlock(markdownEscaped(capped(summaryWords(notice), TEXT_LIMIT))),
    ...failingTests(notice),
    ...(factSet.length > 0 ? [{ type: 'FactSet' as const, facts: factSet }] : []),
  ];
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body } }],
  };
}

// Where a JUnit report is in a container's log or termination message: plain string search, never a regular
// expression over XML, so the log lines around the report (pytest's own output) never matter. src/runner/results/
// junit.ts reads what this finds.

type RootName = 'testsuites' | 'testsuite';

/** The JUnit document inside a container's log or termination message (text before and after it ignored), or null. */
export function findJUnitReport(text: string): string | null {
  const root = firstRootTag(text);
  if (root === null) return null;
  const start = declarationBefore(text, root.start) ?? root.start;
  return text.slice(start, endOfReport(text, root));
}

interface RootTag {
  name: RootName;
  start: number;
}

function firstRootTag(text: string): RootTag | null {
  for (let at = text.indexOf('<testsuite'); at >= 0; at = text.indexOf('<testsuite', at + 1)) {
    const next = at + '<testsuite'.length;
    if (endsTagName(text, next)) return { name: 'testsuite', start: at };
    if (text[next] === 's' && endsTagName(text, next + 1)) return { name: 'testsuites', start: at };
  }
  return null;
}

/** A tag name ends at a space, `>`, `/` or the end of the text (a cut report, for the parser to refuse). */
const endsTagName = (text: string, at: number): boolean => at >= text.length || isXmlSpace(text.charCodeAt(at)) || text[at] === '>' || text[at] === '/';

const isXmlSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * The `<?xml …?>` declaration that opens the report, when only whitespace, comments, processing
 * instructions or a DOCTYPE stand between it and the root tag. A DOCTYPE is kept with the report so
 * that the parser refuses it, instead of its entities turning into errors about undefined names.
 */
function declarationBefore(text: string, rootStart: number): number | null {
  let at = text.lastIndexOf('<?xml', rootStart);
  while (at >= 0 && !endsDeclarationName(text, at + '<?xml'.length)) at = at === 0 ? -1 : text.lastIndexOf('<?xml', at - 1);
  if (at < 0) return null;
  const end = text.indexOf('?>', at);
  if (end < 0 || end > rootStart) return null;
  return onlyPrologBetween(text, end + 2, rootStart) ? at : null;
}

const endsDeclarationName = (text: string, at: number): boolean => at < text.length && isXmlSpace(text.charCodeAt(at));

function onlyPrologBetween(text: string, from: number, to: number): boolean {
  let at = from;
  while (at < to) {
    if (isXmlSpace(text.charCodeAt(at))) at += 1;
    else if (text.startsWith('<!DOCTYPE', at)) return true;
    else if (text.startsWith('<!--', at)) at = endOf(text, '-->', at, to);
    else if (text.startsWith('<?', at)) at = endOf(text, '?>', at, to);
    else return false;
  }
  return at === to;
}

/** Just past the next `close` after `from`, or past `to` when there is none before it. */
function endOf(text: string, close: string, from: number, to: number): number {
  const at = text.indexOf(close, from + 2);
  return at < 0 || at >= to ? to + 1 : at + close.length;
}

/** Just past the root's last closing tag, else past a self-closing root tag, else the end of the text. */
function endOfReport(text: string, root: RootTag): number {
  return lastClosingTagEnd(text, root) ?? selfClosingEnd(text, root) ?? text.length;
}

function lastClosingTagEnd(text: string, root: RootTag): number | null {
  const close = `</${root.name}`;
  for (let at = text.lastIndexOf(close); at > root.start; at = text.lastIndexOf(close, at - 1)) {
    let i = at + close.length;
    // Each run of spaces lies between two candidates, so all the skipping together reads the text once.
    while (i < text.length && isXmlSpace(text.charCodeAt(i))) i += 1;
    if (text[i] === '>') return i + 1;
  }
  return null;
}

function selfClosingEnd(text: string, root: RootTag): number | null {
  let quote: string | null = null;
  for (let i = root.start + 1; i < text.length; i += 1) {
    const c = text[i];
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '<') return null;
    else if (c === '>') return text[i - 1] === '/' ? i + 1 : null;
  }
  return null;
}

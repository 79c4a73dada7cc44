// The JUnit XML report a check prints to its log or termination message (spec.testResults), read
// into the few figures status.lastRun.tests shows. The report comes from the user's container, so
// it is hostile input: it is parsed by a streaming, strict parser that never expands entities, and
// the parse stops at the first limit passed. Nothing here throws, and nothing does I/O.
import type { SaxesTagPlain } from 'saxes';
import { whenNeeded } from '../when-needed.ts';
import { findJUnitReport } from './report-in-log.ts';

/** The XML parser, loaded when a run's log first holds a JUnit report. */
const saxes = whenNeeded<typeof import('saxes')>('saxes');

export { findJUnitReport };

export interface FailedTest {
  name: string;
  classname?: string;
  kind: 'failure' | 'error';
  message: string;
}

export interface TestSummary {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  /** seconds, from the report; null when it gives none */
  timeSeconds: number | null;
  /** at most MAX_FAILED_LISTED, in report order; message cut to MAX_MESSAGE chars */
  failed: FailedTest[];
}

export type ReportReading = { ok: true; summary: TestSummary } | { ok: false; problem: string };

export const JUNIT_LIMITS = { maxBytes: 1_048_576, maxDepth: 32, maxElements: 200_000 } as const;
export const MAX_FAILED_LISTED = 5;
export const MAX_MESSAGE = 300;

const NO_REPORT = 'no JUnit report (<testsuites> or <testsuite>) found';
const TOO_LARGE = `the JUnit report is larger than ${JUNIT_LIMITS.maxBytes / 1_048_576} MiB`;
const TOO_DEEP = `the JUnit report nests deeper than ${JUNIT_LIMITS.maxDepth} elements`;
const TOO_MANY = `the JUnit report has more than ${JUNIT_LIMITS.maxElements} elements`;
const DOCTYPE_REFUSED = 'the JUnit report declares a DOCTYPE, which is refused (entities are not expanded)';

/** Enough of a failure's text to find its first line; the rest is never kept. */
const MAX_TEXT_KEPT = 8 * MAX_MESSAGE;
/** Bounds a name echoed from the report into a problem text. */
const MAX_ECHOED = 80;

// ---------------------------------------------------------------------------------------------
// Reading the report.

/** Counts and first failures of a JUnit report; a problem in words when it cannot be read. */
export function summarizeJUnit(xml: string): ReportReading {
  if (tooLarge(xml)) return { ok: false, problem: TOO_LARGE };
  const parse = newParse(new Reading());
  parse.feed(xml);
  return parse.end();
}

/** findJUnitReport + summarizeJUnit, with "no JUnit report (<testsuites> or <testsuite>) found" when absent. */
export function readJUnitFrom(text: string): ReportReading {
  const report = findJUnitReport(text);
  return report === null ? { ok: false, problem: NO_REPORT } : summarizeJUnit(report);
}

/** Judged before any of it is parsed: a report over the limit is refused whole. */
const tooLarge = (xml: string): boolean => xml.length > JUNIT_LIMITS.maxBytes || Buffer.byteLength(xml, 'utf8') > JUNIT_LIMITS.maxBytes;

/** Characters parsed between two turns of the event loop: a few milliseconds of work. */
export const SLICE_CHARS = 32_768;

/**
 * readJUnitFrom for a process that serves others meanwhile (the operator): the report is parsed a slice at a time,
 * giving the event loop a turn between slices, so that even a 1 MiB hostile report never holds it for long.
 */
export async function readJUnitFromInSlices(text: string): Promise<ReportReading> {
  const report = findJUnitReport(text);
  if (report === null) return { ok: false, problem: NO_REPORT };
  if (tooLarge(report)) return { ok: false, problem: TOO_LARGE };
  const parse = newParse(new Reading());
  for (let at = 0; at < report.length && !parse.stopped; at += SLICE_CHARS) {
    parse.feed(report.slice(at, at + SLICE_CHARS));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return parse.end();
}

interface Parse {
  /** A limit was passed or the document is not well-formed: feeding more changes nothing. */
  readonly stopped: boolean;
  feed(chunk: string): void;
  end(): ReportReading;
}

/** A strict, streaming parse into `reading` that stops at the first limit passed or the first error. */
function newParse(reading: Reading): Parse {
  const parser = new (saxes().SaxesParser)<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  parser.on('doctype', () => reading.stop(DOCTYPE_REFUSED));
  parser.on('opentagstart', (tag) => reading.admit(tag.name));
  parser.on('opentag', (tag) => reading.open(tag));
  parser.on('closetag', (tag) => reading.close(tag.name));
  parser.on('text', (text) => reading.text(text));
  parser.on('cdata', (text) => reading.text(text));
  let outcome: ReportReading | null = null;
  const attempt = (work: () => void) => {
    if (outcome !== null) return;
    try {
      work();
    } catch (err) {
      outcome = err instanceof Stop ? { ok: false, problem: err.problem } : { ok: false, problem: notWellFormed(err, parser.line, parser.column) };
    }
  };
  return {
    get stopped() {
      return outcome !== null;
    },
    feed(chunk) {
      attempt(() => parser.write(chunk));
    },
    end() {
      attempt(() => parser.close());
      return outcome ?? { ok: true, summary: reading.summary() };
    },
  };
}

/** Thrown from a parser handler: the parser then stops at once, mid-document. */
class Stop {
  readonly problem: string;
  constructor(problem: string) {
    this.problem = problem;
  }
}

/** saxes prefixes its words with "line:column: "; the line is kept, in words, at the end. */
function notWellFormed(err: unknown, line: number, column: number): string {
  const raw = err instanceof Error ? err.message : String(err);
  const prefix = `${line}:${column}: `;
  const words = oneLine(raw.startsWith(prefix) ? raw.slice(prefix.length) : raw).replace(/\.$/, '');
  return `the JUnit report is not well-formed XML: ${cut(words, 2 * MAX_ECHOED)} (line ${line})`;
}

interface Tally {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

type Outcome = 'passed' | 'failure' | 'error' | 'skipped';

interface OpenSuite {
  attributes: Record<string, string>;
  topLevel: boolean;
  casesBefore: number;
  suitesBefore: number;
}

interface OpenCase {
  /** How many elements are open around it. */
  depth: number;
  name: string;
  classname: string;
  outcome: Outcome;
  message: string | null;
}

/** The state of one parse: the open elements, the tallies, and what is kept of the first failures. */
class Reading {
  private readonly path: string[] = [];
  private elements = 0;
  private rootTime: number | null = null;
  private topLevelTime: number | null = null;
  private readonly counted: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  /** From suites that list no testcases (and no inner suites): their own attributes are all there is. */
  private readonly declared: Tally = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  private readonly suites: OpenSuite[] = [];
  private suitesSeen = 0;
  private testcase: OpenCase | null = null;
  /** The text of the failure or error element being read, while its testcase has no message yet. */
  private failureText: string | null = null;
  private failureDepth = 0;
  private readonly failed: FailedTest[] = [];

  stop(problem: string): never {
    throw new Stop(problem);
  }

  admit(name: string): void {
    this.elements += 1;
    if (this.elements > JUNIT_LIMITS.maxElements) this.stop(TOO_MANY);
    if (this.path.length >= JUNIT_LIMITS.maxDepth) this.stop(TOO_DEEP);
    if (this.path.length === 0 && name !== 'testsuites' && name !== 'testsuite') {
      this.stop(`the JUnit report's root element is <${cut(name, MAX_ECHOED)}>, not <testsuites> or <testsuite>`);
    }
  }

  open(tag: SaxesTagPlain): void {
    const parent = this.path.at(-1);
    this.path.push(tag.name);
    if (this.path.length === 1) this.rootTime = seconds(tag.attributes['time']);
    if (this.testcase === null) this.openOutsideTestcase(tag, parent);
    else if (parent === 'testcase') this.openInTestcase(tag, this.testcase);
  }

  private openOutsideTestcase(tag: SaxesTagPlain, parent: string | undefined): void {
    if (tag.name === 'testsuite' || tag.name === 'testsuites') {
      const topLevel = tag.name === 'testsuite' && (parent === undefined || (parent === 'testsuites' && this.path.length === 2));
      this.suites.push({ attributes: tag.attributes, topLevel, casesBefore: this.counted.tests, suitesBefore: this.suitesSeen });
      this.suitesSeen += 1;
    } else if (tag.name === 'testcase') {
      this.counted.tests += 1;
      this.testcase = { depth: this.path.length - 1, name: tag.attributes['name'] ?? '', classname: tag.attributes['classname'] ?? '', outcome: 'passed', message: null };
    }
  }

  /** A failure or error decides a testcase's outcome; a skip does, unless one of those came first. */
  private openInTestcase(tag: SaxesTagPlain, testcase: OpenCase): void {
    const kind = tag.name;
    if (kind === 'skipped' && testcase.outcome === 'passed') testcase.outcome = 'skipped';
    if ((kind !== 'failure' && kind !== 'error') || testcase.outcome === 'failure' || testcase.outcome === 'error') return;
    testcase.outcome = kind;
    const message = tag.attributes['message']?.trim();
    if (message) testcase.message = message;
    // A message that only repeats the outcome (gotestsum writes "Failed") says less than the element's text.
    if ((!message || GENERIC_MESSAGES.has(message.toLowerCase())) && this.failed.length < MAX_FAILED_LISTED) {
      this.failureText = '';
      this.failureDepth = this.path.length - 1;
    }
  }

  text(text: string): void {
    if (this.failureText !== null && this.failureText.length < MAX_TEXT_KEPT) this.failureText += text.slice(0, MAX_TEXT_KEPT);
  }

  close(name: string): void {
    this.path.pop();
    const depth = this.path.length;
    if (this.testcase !== null) {
      if (depth === this.testcase.depth) this.closeTestcase(this.testcase);
      else if (this.failureText !== null && depth === this.failureDepth) this.keepFirstLine(this.testcase, this.failureText);
    } else if (name === 'testsuite' || name === 'testsuites') this.closeSuite();
  }

  private keepFirstLine(testcase: OpenCase, text: string): void {
    testcase.message = firstLine(text) || testcase.message;
    this.failureText = null;
  }

  private closeTestcase(testcase: OpenCase): void {
    this.testcase = null;
    this.failureText = null;
    const { outcome } = testcase;
    if (outcome === 'passed') return;
    if (outcome === 'skipped') this.counted.skipped += 1;
    else if (outcome === 'failure') this.counted.failures += 1;
    else this.counted.errors += 1;
    if (outcome !== 'skipped' && this.failed.length < MAX_FAILED_LISTED) this.failed.push(failedTest(testcase, outcome));
  }

  private closeSuite(): void {
    const suite = this.suites.pop();
    if (suite === undefined) return;
    if (suite.topLevel) this.topLevelTime = addTimes(this.topLevelTime, seconds(suite.attributes['time']));
    const listsNothing = this.counted.tests === suite.casesBefore && this.suitesSeen === suite.suitesBefore + 1;
    if (listsNothing) addDeclared(this.declared, suite.attributes);
  }

  summary(): TestSummary {
    const { counted, declared } = this;
    return {
      tests: counted.tests + declared.tests,
      failures: counted.failures + declared.failures,
      errors: counted.errors + declared.errors,
      skipped: counted.skipped + declared.skipped,
      timeSeconds: this.rootTime ?? this.topLevelTime,
      failed: this.failed,
    };
  }
}

function failedTest(testcase: OpenCase, kind: 'failure' | 'error'): FailedTest {
  const classname = testcase.classname === '' ? {} : { classname: cut(testcase.classname, MAX_MESSAGE) };
  return { name: cut(testcase.name, MAX_MESSAGE), ...classname, kind, message: cut(oneLine(testcase.message ?? ''), MAX_MESSAGE) };
}

function addDeclared(tally: Tally, attributes: Record<string, string>): void {
  tally.tests += count(attributes['tests']);
  tally.failures += count(attributes['failures']);
  tally.errors += count(attributes['errors']);
  tally.skipped += count(attributes['skipped']);
}

function count(value: string | undefined): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** Seconds as tools write them; Surefire groups thousands with a comma ("1,234.5"). */
function seconds(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value.replaceAll(',', ''));
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** Sums to the microsecond, so 0.1 + 0.2 reads 0.3. */
function addTimes(total: number | null, time: number | null): number | null {
  if (time === null) return total;
  return Math.round(((total ?? 0) + time) * 1e6) / 1e6;
}

/** Messages that only name the outcome. */
const GENERIC_MESSAGES = new Set(['failed', 'failure', 'error', 'fail']);

/** Lines of `go test -v` output that frame a test rather than say what went wrong. */
const FRAMING = ['=== RUN', '=== PAUSE', '=== CONT', '=== NAME', '--- FAIL', '--- PASS', '--- SKIP'];

/** The first line of the text that says something: not blank, not a test runner's framing line. */
function firstLine(text: string): string {
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed && !FRAMING.some((f) => trimmed.startsWith(f))) return trimmed;
  }
  return '';
}

const oneLine = (text: string): string => text.replace(/\s*[\r\n]+\s*/g, ' ');

/** At most `max` characters, "…" marking a cut, never splitting a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

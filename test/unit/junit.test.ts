// The JUnit summary a check's log yields: real reports from pytest, jest-junit, gotestsum and Maven
// Surefire (test/unit/fixtures/junit/README.md says how each was made), then hostile and malformed
// reports built here, each of which must end in a one-line problem, quickly, without a throw.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  JUNIT_LIMITS,
  MAX_FAILED_LISTED,
  MAX_MESSAGE,
  findJUnitReport,
  readJUnitFrom,
  readJUnitFromInSlices,
  summarizeJUnit,
  type ReportReading,
  type TestSummary,
} from '../../src/runner/results/junit.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/junit/${name}`, import.meta.url), 'utf8');

function summaryOf(reading: ReportReading): TestSummary {
  if (!reading.ok) throw new Error(`expected a summary, got the problem "${reading.problem}"`);
  return reading.summary;
}

function problemOf(reading: ReportReading): string {
  if (reading.ok) throw new Error(`expected a problem, got ${JSON.stringify(reading.summary)}`);
  return reading.problem;
}

/** Everything but the time, which differs between the two runs that made a log and a plain file. */
const untimed = ({ timeSeconds: _time, ...rest }: TestSummary) => rest;

/** The report's problem, after checking that it is one line and came within the time bound. */
function refused(read: () => ReportReading): string {
  const started = performance.now();
  const reading = read();
  const elapsed = performance.now() - started;
  const problem = problemOf(reading);
  expect(problem).not.toContain('\n');
  expect(elapsed).toBeLessThan(1_000);
  return problem;
}

const suites = (body: string, attributes = ''): string => `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${attributes}>\n${body}\n</testsuites>\n`;

describe('real reports give the counts their tool printed', () => {
  it('pytest: "2 failed, 2 passed, 1 skipped, 1 error", the fixture error as an error', () => {
    const summary = summaryOf(readJUnitFrom(fixture('pytest.xml')));
    expect(untimed(summary)).toEqual({
      tests: 6,
      failures: 2,
      errors: 1,
      skipped: 1,
      failed: [
        {
          name: 'test_total_with_discount',
          classname: 'test_cart',
          kind: 'failure',
          // pytest writes the message across lines; XML reads an attribute's line breaks as spaces.
          message: 'AssertionError: discount of 3 not applied assert 15 == 12 +  where 15 = cart_total([10, 5])',
        },
        { name: 'test_currency_is_parsed', classname: 'test_cart', kind: 'failure', message: "ValueError: invalid literal for int() with base 10: '12 EUR'" },
        {
          name: 'test_checkout_charges_card',
          classname: 'test_cart',
          kind: 'error',
          message: 'failed on setup with "ConnectionError: payment gateway unreachable at 10.0.0.1:443"',
        },
      ],
    });
    // Its <testsuites> root has no time: the one suite's is used.
    expect(summary.timeSeconds).toBeGreaterThan(0);
  });

  it('jest-junit: jest\'s "2 failed, 1 skipped, 2 passed, 5 total", plus two testcases for the suite that failed to run', () => {
    // With reportTestSuiteErrors, jest-junit writes the suite jest counts under "Test Suites: 2 failed"
    // as one testcase with an <error> and one with a <failure>: 7 testcases, as the report lists them.
    const summary = summaryOf(readJUnitFrom(fixture('jest-junit.xml')));
    expect(untimed(summary)).toEqual({
      tests: 7,
      failures: 3,
      errors: 1,
      skipped: 1,
      failed: [
        {
          name: 'cart total applies the discount',
          classname: 'cart total applies the discount',
          kind: 'failure',
          message: 'Error: expect(received).toBe(expected) // Object.is equality',
        },
        { name: 'cart total parses the currency', classname: 'cart total parses the currency', kind: 'failure', message: 'TypeError: cannot read "EUR" as a number' },
        { name: 'checkout.test.js', classname: 'Test suite failed to run', kind: 'error', message: '● Test suite failed to run' },
        { name: 'checkout.test.js', classname: 'Test suite failed to run', kind: 'failure', message: '{}' },
      ],
    });
    expect(summary.timeSeconds).toBeGreaterThan(0);
  });

  it('gotestsum: "7 tests, 1 skipped, 4 failures, 1 error", the build failure as a failed TestMain', () => {
    // gotestsum counts the package that did not build as a failure and an error but not as a test;
    // its report lists it as one more testcase, TestMain, with a <failure>.
    const summary = summaryOf(readJUnitFrom(fixture('gotestsum.xml')));
    expect(untimed(summary)).toEqual({
      tests: 8,
      failures: 4,
      errors: 0,
      skipped: 1,
      failed: [
        // gotestsum's message attribute is always "Failed": the first telling line of the text says more.
        { name: 'TestTotalWithDiscount', classname: 'example.com/cart', kind: 'failure', message: 'cart_test.go:19: discount of 3 not applied: got 15, want 12' },
        { name: 'TestCurrencyIsParsed/EUR', classname: 'example.com/cart', kind: 'failure', message: 'cart_test.go:25: cannot read "12 EUR" as a number' },
        { name: 'TestCurrencyIsParsed', classname: 'example.com/cart', kind: 'failure', message: 'Failed' },
        { name: 'TestMain', kind: 'failure', message: 'FAIL\texample.com/cart/broken [build failed]' },
      ],
    });
    expect(summary.timeSeconds).toBeGreaterThan(0);
  });

  it('Maven Surefire: "Tests run: 5, Failures: 1, Errors: 1, Skipped: 1", a stack trace in CDATA', () => {
    const summary = summaryOf(readJUnitFrom(fixture('surefire.xml')));
    expect(untimed(summary)).toEqual({
      tests: 5,
      failures: 1,
      errors: 1,
      skipped: 1,
      failed: [
        { name: 'currencyIsParsed', classname: 'example.cart.CartTest', kind: 'error', message: 'For input string: "12 EUR"' },
        { name: 'totalWithDiscount', classname: 'example.cart.CartTest', kind: 'failure', message: 'discount of 3 not applied expected:<12> but was:<15>' },
      ],
    });
    expect(summary.timeSeconds).toBeGreaterThan(0);
  });

  it.each(['pytest', 'jest-junit', 'gotestsum', 'surefire'])('%s: the container log, its own output around the report, reads like the plain file', (tool) => {
    const log = fixture(`${tool}.log.txt`);
    expect(log.indexOf('<testsuite')).toBeGreaterThan(0);
    const fromLog = summaryOf(readJUnitFrom(log));
    expect(untimed(fromLog)).toEqual(untimed(summaryOf(readJUnitFrom(fixture(`${tool}.xml`)))));
    expect(fromLog.timeSeconds).toBeGreaterThan(0);
  });

  it('finds the report exactly, from its declaration to its last closing tag', () => {
    expect(findJUnitReport(fixture('surefire.log.txt'))).toBe(fixture('surefire.xml').trimEnd());
    const pytestLog = fixture('pytest.log.txt');
    const report = findJUnitReport(pytestLog) ?? '';
    expect(report.startsWith('<?xml version="1.0" encoding="utf-8"?><testsuites>')).toBe(true);
    expect(report.endsWith('</testsuites>')).toBe(true);
  });
});

describe('counting', () => {
  it('counts testcases, not the attributes tools fill differently', () => {
    const xml = suites(
      `<testsuite name="s" tests="99" failures="99" errors="99" skipped="99">
         <testcase name="a"/>
         <testcase name="b"><failure message="boom"/></testcase>
         <testcase name="c"><error message="crash"/></testcase>
         <testcase name="d"><skipped/></testcase>
         <testcase name="e"><flakyFailure message="passed on the rerun"/></testcase>
       </testsuite>`,
      ' tests="1"',
    );
    expect(untimed(summaryOf(summarizeJUnit(xml)))).toEqual({
      tests: 5,
      failures: 1,
      errors: 1,
      skipped: 1,
      failed: [
        { name: 'b', kind: 'failure', message: 'boom' },
        { name: 'c', kind: 'error', message: 'crash' },
      ],
    });
  });

  it('takes the attributes of suites that list no testcases', () => {
    const xml = suites(`<testsuite name="listed"><testcase name="a"/><testcase name="b"><skipped/></testcase></testsuite>
       <testsuite name="summary only" tests="10" failures="2" errors="1" skipped="3"/>
       <testsuite name="outer"><testsuite name="inner summary" tests="4" failures="1"/></testsuite>`);
    expect(untimed(summaryOf(summarizeJUnit(xml)))).toEqual({ tests: 16, failures: 3, errors: 1, skipped: 4, failed: [] });
  });

  it('decides each testcase once: a failure or error first seen wins, over a skip too', () => {
    const xml = suites(`<testsuite>
       <testcase name="a"><failure message="first"/><error message="second"/></testcase>
       <testcase name="b"><skipped/><error message="after the skip"/></testcase>
     </testsuite>`);
    const summary = summaryOf(summarizeJUnit(xml));
    expect([summary.tests, summary.failures, summary.errors, summary.skipped]).toEqual([2, 1, 1, 0]);
    expect(summary.failed.map((f) => f.message)).toEqual(['first', 'after the skip']);
  });

  it('lists the first failures in report order and counts them all', () => {
    const cases = Array.from({ length: 8 }, (_, i) => `<testcase name="t${i}"><failure message="m${i}"/></testcase>`).join('');
    const summary = summaryOf(summarizeJUnit(suites(`<testsuite>${cases}</testsuite>`)));
    expect(summary.failures).toBe(8);
    expect(summary.failed.map((f) => f.name)).toEqual(['t0', 't1', 't2', 't3', 't4'].slice(0, MAX_FAILED_LISTED));
  });

  it('takes the root time, else the sum of the top-level suites, else none', () => {
    const twoSuites = '<testsuite time="0.1"><testsuite time="50"/></testsuite><testsuite time="0.2"/>';
    expect(summaryOf(summarizeJUnit(suites(twoSuites, ' time="7.5"'))).timeSeconds).toBe(7.5);
    expect(summaryOf(summarizeJUnit(suites(twoSuites))).timeSeconds).toBe(0.3);
    expect(summaryOf(summarizeJUnit(suites('<testsuite/>'))).timeSeconds).toBeNull();
    expect(summaryOf(summarizeJUnit('<testsuite time="1,234.5"><testcase name="a"/></testsuite>')).timeSeconds).toBe(1234.5);
    expect(summaryOf(summarizeJUnit('<testsuite time="soon"/>')).timeSeconds).toBeNull();
  });
});

describe('messages of failed tests', () => {
  const failing = (failure: string): string => summaryOf(summarizeJUnit(suites(`<testsuite><testcase name="t">${failure}</testcase></testsuite>`))).failed[0]?.message ?? '';

  it('decodes the predefined entities in a message attribute', () => {
    expect(failing('<failure message="expected &lt;12&gt; &amp; got &quot;15&quot; &#x2713;"/>')).toBe('expected <12> & got "15" ✓');
  });

  it('takes the first line of the text, from CDATA too, when there is no message attribute', () => {
    expect(failing('<failure>\n   AssertionError: 15 != 12\n   at cart.test.js:14\n</failure>')).toBe('AssertionError: 15 != 12');
    expect(failing('<error message=" "><![CDATA[  <Nil> is not a cart\n  at Cart.java:3]]></error>')).toBe('<Nil> is not a cart');
  });

  it(`cuts a message to ${MAX_MESSAGE} characters without splitting a character`, () => {
    const message = failing(`<failure message="${'x'.repeat(MAX_MESSAGE - 2)}${'😀'.repeat(10)}"/>`);
    expect(message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    expect(message.endsWith('…')).toBe(true);
    expect(message).toBe(`${'x'.repeat(MAX_MESSAGE - 2)}…`);
  });
});

describe('locating the report in a log', () => {
  it('ignores log lines before and after, even ones that look like tags', () => {
    const log = `+ pytest --junitxml=/dev/stdout\n<testsuitesX> is not a tag of ours\ncollected 1 item\n${suites('<testsuite><testcase name="a"/></testsuite>')}wrote <testsuites> to /dev/stdout\n`;
    const report = findJUnitReport(log) ?? '';
    expect(report.startsWith('<?xml')).toBe(true);
    expect(untimed(summaryOf(readJUnitFrom(log)))).toEqual({ tests: 1, failures: 0, errors: 0, skipped: 0, failed: [] });
  });

  it('reads a report without a declaration, and a self-closing root', () => {
    expect(summaryOf(readJUnitFrom('ok\n<testsuite name="x" tests="3"><testcase name="a"/></testsuite >\nbye')).tests).toBe(1);
    expect(findJUnitReport('before <testsuites name="a>b"/> after')).toBe('<testsuites name="a>b"/>');
    expect(summaryOf(readJUnitFrom('before <testsuites tests="2" failures="1"/> after')).tests).toBe(2);
  });

  it('leaves an unrelated declaration earlier in the log out', () => {
    const log = '<?xml version="1.0"?><config/>\nrunning\n<testsuite><testcase name="a"/></testsuite>';
    expect(findJUnitReport(log)).toBe('<testsuite><testcase name="a"/></testsuite>');
  });

  it('says so when the log has no report', () => {
    expect(readJUnitFrom('PASS all 3 checks\n')).toEqual({ ok: false, problem: 'no JUnit report (<testsuites> or <testsuite>) found' });
  });

  it('refuses another root element', () => {
    expect(problemOf(summarizeJUnit('<html><testsuite/></html>'))).toBe("the JUnit report's root element is <html>, not <testsuites> or <testsuite>");
  });
});

describe('hostile and malformed reports end in a problem, quickly', () => {
  const billionLaughs = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE testsuites [',
    '  <!ENTITY lol "lol">',
    ...Array.from({ length: 9 }, (_, i) => `  <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
    ']>',
    '<testsuites><testsuite name="&lol9;"><testcase name="&lol9;"/></testsuite></testsuites>',
  ].join('\n');
  const DOCTYPE = 'the JUnit report declares a DOCTYPE, which is refused (entities are not expanded)';

  it('refuses a DOCTYPE (billion laughs), read from a log as well', () => {
    expect(refused(() => summarizeJUnit(billionLaughs))).toBe(DOCTYPE);
    expect(refused(() => readJUnitFrom(`collected 1 item\n${billionLaughs}\n1 passed`))).toBe(DOCTYPE);
  });

  it('refuses an external entity (DOCTYPE SYSTEM)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite name="&x;"/>';
    expect(refused(() => summarizeJUnit(xxe))).toBe(DOCTYPE);
  });

  it('expands no entity it was not told of', () => {
    expect(refused(() => summarizeJUnit('<testsuites><testsuite name="&lol9;"/></testsuites>'))).toBe(
      'the JUnit report is not well-formed XML: undefined entity (line 1)',
    );
  });

  it('stops at 10,000-deep nesting (the document is cut short too: a full parse would say so)', () => {
    const deep = `<testsuites>${'<testsuite>'.repeat(10_000)}`;
    expect(refused(() => summarizeJUnit(deep))).toBe(`the JUnit report nests deeper than ${JUNIT_LIMITS.maxDepth} elements`);
    const deepest = `<testsuites>${'<testsuite>'.repeat(JUNIT_LIMITS.maxDepth - 1)}${'</testsuite>'.repeat(JUNIT_LIMITS.maxDepth - 1)}</testsuites>`;
    expect(summarizeJUnit(deepest).ok).toBe(true);
  });

  it('stops past 200,000 elements (and before the unclosed root a full parse would find)', () => {
    const many = `<testsuites>${'<x/>'.repeat(250_000)}`;
    expect(refused(() => summarizeJUnit(many))).toBe(`the JUnit report has more than ${JUNIT_LIMITS.maxElements} elements`);
    const atTheLimit = `<testsuites>${'<x/>'.repeat(JUNIT_LIMITS.maxElements - 1)}</testsuites>`;
    const started = performance.now();
    expect(summarizeJUnit(atTheLimit).ok).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses 300,000 empty testcases and a 2 MiB report by size alone', () => {
    const TOO_LARGE = 'the JUnit report is larger than 1 MiB';
    expect(refused(() => summarizeJUnit(suites(`<testsuite>${'<testcase/>'.repeat(300_000)}</testsuite>`)))).toBe(TOO_LARGE);
    const big = suites(`<testsuite><testcase name="t"><failure message="${'x'.repeat(2 * 1_048_576)}"/></testcase></testsuite>`);
    expect(refused(() => summarizeJUnit(big))).toBe(TOO_LARGE);
    // Bytes, not characters: 600,000 two-byte characters are 1.2 MB.
    expect(refused(() => summarizeJUnit(suites(`<!-- ${'é'.repeat(600_000)} -->`)))).toBe(TOO_LARGE);
  });

  it('gives the parser\'s words and the line for a truncated report', () => {
    const report = fixture('surefire.xml');
    const truncated = report.slice(0, report.indexOf('<testcase name="refund"'));
    const lines = truncated.split('\n').length;
    expect(refused(() => summarizeJUnit(truncated))).toBe(`the JUnit report is not well-formed XML: unclosed tag: testsuite (line ${lines})`);
    expect(refused(() => readJUnitFrom(`[INFO] Tests run: 5\n${truncated}`))).toMatch(/^the JUnit report is not well-formed XML: .+ \(line \d+\)$/);
  });

  it('refuses binary garbage', () => {
    let seed = 42;
    const bytes = Array.from({ length: 64 * 1024 }, () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return String.fromCharCode(seed % 256);
    }).join('');
    expect(refused(() => summarizeJUnit(bytes))).toMatch(/^the JUnit report is not well-formed XML: .+ \(line \d+\)$/);
    expect(refused(() => readJUnitFrom(bytes))).toBe('no JUnit report (<testsuites> or <testsuite>) found');
    expect(refused(() => summarizeJUnit(`<testsuite name="a\u0000b"/>`))).toBe('the JUnit report is not well-formed XML: disallowed character (line 1)');
  });

  it('searches a log built to slow the search in one pass', () => {
    const decoys = `${'<?xml-x <testsuitesX </testsuites </testsuite\t'.repeat(15_000)}<testsuites>${'</testsuites '.repeat(20_000)}`;
    expect(decoys.length).toBeLessThan(JUNIT_LIMITS.maxBytes);
    expect(refused(() => readJUnitFrom(decoys))).toMatch(/^the JUnit report is not well-formed XML: /);
    expect(refused(() => summarizeJUnit(''))).toBe('the JUnit report is not well-formed XML: document must contain a root element (line 1)');
  });

  it('keeps a problem to one bounded line when the report echoes a huge name', () => {
    const problem = refused(() => summarizeJUnit(`<testsuites><${'n'.repeat(500_000)}>`));
    expect(problem.length).toBeLessThan(300);
    expect(refused(() => summarizeJUnit(`<${'n'.repeat(500_000)}/>`)).length).toBeLessThan(300);
  });
});

describe('reading in slices, as the operator does', () => {
  it('gives what the one-piece read gives, for every real report', async () => {
    for (const file of ['pytest.log.txt', 'jest-junit.log.txt', 'gotestsum.log.txt', 'surefire.log.txt']) {
      const text = readFileSync(new URL(`fixtures/junit/${file}`, import.meta.url), 'utf8');
      expect(await readJUnitFromInSlices(text), file).toEqual(readJUnitFrom(text));
    }
  });

  it('gives the event loop a turn between slices of a 1 MiB hostile report, and stops at the same limit', async () => {
    const hostile = `<testsuites>${'<x/>'.repeat(220_000)}</testsuites>`;
    let turns = 0;
    const ticking = setInterval(() => (turns += 1), 0);
    const reading = await readJUnitFromInSlices(hostile);
    clearInterval(ticking);
    expect(reading).toEqual(readJUnitFrom(hostile));
    expect(reading).toMatchObject({ ok: false, problem: expect.stringContaining('more than 200000 elements') });
    expect(turns).toBeGreaterThan(5);
  });
});

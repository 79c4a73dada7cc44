// Go-style durations ("30m", "1h30m", "1.5h", "0s"), as Go's time.ParseDuration reads them.
// Runners written for the original Go operator use this syntax for `stableStateTimeout`, so we accept exactly
// what Go accepts (units ns, us, µs, ms, s, m, h; an optional sign; a bare "0") and nothing else: no spaces,
// no days, no unit-less numbers.

export type DurationResult =
  | { ok: true; milliseconds: number }
  | { ok: false; reason: string };

const MILLISECONDS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek small letter mu
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

// Go stores a Duration as int64 nanoseconds; anything longer (about 292 years) is an overflow there.
const MAX_GO_DURATION_MS = 9_223_372_036_854.775;

// One "<number><unit>" component: the number may be "1", "1.5", "1." or ".5" (but not "."); the unit is letters.
const COMPONENT = /^(\d+\.?\d*|\.\d+)([a-zµμ]+)/i;

export function parseDuration(text: string): DurationResult {
  const invalid = (why: string): DurationResult => ({ ok: false, reason: `"${text}" is not a valid duration: ${why}` });

  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  // Go special-cases a bare zero: the only number allowed without a unit.
  if (rest === '0') return { ok: true, milliseconds: 0 };
  if (rest === '') return invalid('expected a number followed by a unit, e.g. "30m" or "1h30m"');

  let total = 0;
  while (rest !== '') {
    const match = COMPONENT.exec(rest);
    if (match === null) {
      return invalid(/^[\d.]+$/.test(rest) ? `missing unit after "${rest}" (use ns, us, ms, s, m or h)` : `unexpected "${rest}"`);
    }
    const [whole, number = '', unit = ''] = match;
    const perUnit = MILLISECONDS_PER_UNIT[unit];
    if (perUnit === undefined) return invalid(`unknown unit "${unit}" (use ns, us, ms, s, m or h)`);
    total += Number(number) * perUnit;
    rest = rest.slice(whole.length);
  }
  if (total > MAX_GO_DURATION_MS) return invalid('too long (Go durations end at about 292 years)');
  // `+ 0` turns "-0s" into 0 rather than -0, which would otherwise print and compare oddly.
  return { ok: true, milliseconds: sign * total + 0 };
}

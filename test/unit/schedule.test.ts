import { describe, expect, it } from 'vitest';
import { latestTickIn, missedTickDecision, nextTick, ScheduleError, scheduleProblem } from '../../src/runner/schedule.ts';

const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe('nextTick', () => {
  it('returns the first tick strictly after the given time', () => {
    expect(iso(nextTick('*/15 * * * *', undefined, at('2024-05-01T12:07:00Z')))).toBe('2024-05-01T12:15:00.000Z');
  });

  it('does not return the given time when it is itself a tick', () => {
    expect(iso(nextTick('* * * * *', undefined, at('2024-05-01T12:00:00.000Z')))).toBe('2024-05-01T12:01:00.000Z');
  });

  it('returns a tick 1 ms away', () => {
    expect(iso(nextTick('* * * * *', undefined, at('2024-05-01T11:59:59.999Z')))).toBe('2024-05-01T12:00:00.000Z');
  });

  it('evaluates in UTC by default, and treats an empty zone as UTC', () => {
    expect(iso(nextTick('0 9 * * *', undefined, at('2024-05-01T12:00:00Z')))).toBe('2024-05-02T09:00:00.000Z');
    expect(iso(nextTick('0 9 * * *', '', at('2024-05-01T12:00:00Z')))).toBe('2024-05-02T09:00:00.000Z');
  });

  it('evaluates in the given time zone: 09:00 in Tokyo is 00:00 UTC', () => {
    expect(iso(nextTick('0 9 * * *', 'Asia/Tokyo', at('2024-05-01T12:00:00Z')))).toBe('2024-05-02T00:00:00.000Z');
    // 09:00 Tokyo on May 1st (00:00 UTC) has passed at 12:00 UTC; in UTC, 09:00 May 1st has too.
    expect(iso(nextTick('0 9 * * *', 'Asia/Tokyo', at('2024-04-30T23:00:00Z')))).toBe('2024-05-01T00:00:00.000Z');
  });

  it('understands the macros of the original operator', () => {
    const from = at('2024-05-01T12:30:00Z'); // a Wednesday
    expect(iso(nextTick('@hourly', undefined, from))).toBe('2024-05-01T13:00:00.000Z');
    expect(iso(nextTick('@daily', undefined, from))).toBe('2024-05-02T00:00:00.000Z');
    expect(iso(nextTick('@weekly', undefined, from))).toBe('2024-05-05T00:00:00.000Z'); // Sunday
    expect(iso(nextTick('@monthly', undefined, from))).toBe('2024-06-01T00:00:00.000Z');
    expect(iso(nextTick('@yearly', undefined, from))).toBe('2025-01-01T00:00:00.000Z');
  });

  it('also accepts @annually and @midnight, as Kubernetes CronJobs do, in any case', () => {
    const from = at('2024-05-01T12:30:00Z');
    expect(iso(nextTick('@annually', undefined, from))).toBe('2025-01-01T00:00:00.000Z');
    expect(iso(nextTick('@midnight', undefined, from))).toBe('2024-05-02T00:00:00.000Z');
    expect(iso(nextTick('@Daily', undefined, from))).toBe('2024-05-02T00:00:00.000Z');
  });

  it('evaluates macros in the time zone', () => {
    expect(iso(nextTick('@daily', 'Asia/Tokyo', at('2024-05-01T12:30:00Z')))).toBe('2024-05-01T15:00:00.000Z');
  });

  it('runs when either day-of-month or day-of-week matches, when both are restricted (Vixie cron)', () => {
    // The 13th and every Friday; 2024-05-03 is a Friday.
    expect(iso(nextTick('0 0 13 * 5', undefined, at('2024-05-01T00:00:00Z')))).toBe('2024-05-03T00:00:00.000Z');
  });

  it('accepts names and 7 for Sunday', () => {
    expect(iso(nextTick('0 0 * * SUN', undefined, at('2024-05-01T00:00:00Z')))).toBe('2024-05-05T00:00:00.000Z');
    expect(iso(nextTick('0 0 * * 7', undefined, at('2024-05-01T00:00:00Z')))).toBe('2024-05-05T00:00:00.000Z');
    expect(iso(nextTick('0 0 1 JAN *', undefined, at('2024-05-01T00:00:00Z')))).toBe('2025-01-01T00:00:00.000Z');
  });

  it('finds a tick years away', () => {
    expect(iso(nextTick('0 0 29 2 *', undefined, at('2024-05-01T00:00:00Z')))).toBe('2028-02-29T00:00:00.000Z');
  });

  describe('across daylight-saving transitions (pinned to cron-parser 5 behaviour)', () => {
    // Europe/Berlin: 2024-03-31 02:00 CET → 03:00 CEST; 2024-10-27 03:00 CEST → 02:00 CET.
    it('moves a tick inside the spring-forward gap to the same minute after the gap (02:30 → 03:30 CEST)', () => {
      const gapDay = nextTick('30 2 * * *', 'Europe/Berlin', at('2024-03-30T12:00:00Z'));
      expect(iso(gapDay)).toBe('2024-03-31T01:30:00.000Z'); // 03:30 CEST
      expect(iso(nextTick('30 2 * * *', 'Europe/Berlin', gapDay))).toBe('2024-04-01T00:30:00.000Z'); // 02:30 CEST
    });

    it('runs a tick in the repeated fall-back hour once, at its first occurrence', () => {
      const first = nextTick('30 2 * * *', 'Europe/Berlin', at('2024-10-26T12:00:00Z'));
      expect(iso(first)).toBe('2024-10-27T00:30:00.000Z'); // 02:30 CEST
      expect(iso(nextTick('30 2 * * *', 'Europe/Berlin', first))).toBe('2024-10-28T01:30:00.000Z'); // next day, CET
    });

    it('keeps an hourly schedule one hour apart in UTC through both transitions', () => {
      const ticks = (from: string, n: number) => {
        const out: string[] = [];
        let t = at(from);
        for (let i = 0; i < n; i++) out.push(iso((t = nextTick('0 * * * *', 'Europe/Berlin', t)))!);
        return out;
      };
      expect(ticks('2024-03-30T23:30:00Z', 4)).toEqual([
        '2024-03-31T00:00:00.000Z',
        '2024-03-31T01:00:00.000Z',
        '2024-03-31T02:00:00.000Z',
        '2024-03-31T03:00:00.000Z',
      ]);
      expect(ticks('2024-10-26T23:30:00Z', 4)).toEqual([
        '2024-10-27T00:00:00.000Z', // 02:00 CEST
        '2024-10-27T01:00:00.000Z', // 02:00 CET, the repeated hour
        '2024-10-27T02:00:00.000Z',
        '2024-10-27T03:00:00.000Z',
      ]);
    });
  });
});

describe('invalid schedules and zones', () => {
  const from = at('2024-05-01T00:00:00Z');
  const problem = (schedule: string, tz?: string) => scheduleProblem(schedule, tz, from);

  it('refuses a seconds field, which would start a Job every second', () => {
    expect(problem('* * * * * *')).toEqual({ field: 'spec.schedule', message: expect.stringContaining('has 6 fields') });
  });

  it('refuses too few fields and an empty schedule, which cron-parser would read as every minute', () => {
    expect(problem('* * * *')?.message).toContain('has 4 fields');
    expect(problem('')?.message).toContain('has 0 fields');
    expect(problem('   ')?.field).toBe('spec.schedule');
  });

  it('refuses out-of-range values and garbage', () => {
    expect(problem('61 * * * *')?.field).toBe('spec.schedule');
    expect(problem('a b c d e')?.field).toBe('spec.schedule');
    expect(problem('0 0 30 2 *')?.field).toBe('spec.schedule');
  });

  it('refuses unknown macros such as @every', () => {
    expect(problem('@every 1h')?.message).toContain('unknown macro "@every 1h"');
    expect(problem('@secondly')?.field).toBe('spec.schedule');
  });

  it('refuses Jenkins-style H, which would give a different minute after each restart', () => {
    expect(problem('H * * * *')?.message).toContain('uses H');
    expect(problem('0 H/2 * * *')?.message).toContain('uses H');
    expect(problem('0 0 * * THU')).toBeNull();
  });

  it('names spec.timeZone for an unknown zone', () => {
    expect(problem('* * * * *', 'Mars/Olympus_Mons')).toEqual({
      field: 'spec.timeZone',
      message: '"Mars/Olympus_Mons" is not a known IANA time zone',
    });
  });

  it('accepts valid schedules and zones', () => {
    expect(problem('* * * * *')).toBeNull();
    expect(problem('0 9 * * 1-5', 'Asia/Tokyo')).toBeNull();
    expect(problem(' 0  9 * * * ')).toBeNull();
  });

  it('throws a ScheduleError naming the field from nextTick', () => {
    expect(() => nextTick('nope', undefined, from)).toThrow(ScheduleError);
    try {
      nextTick('* * * * *', 'Nowhere/Town', from);
    } catch (err) {
      expect((err as ScheduleError).field).toBe('spec.timeZone');
    }
    expect.assertions(2);
  });
});

describe('latestTickIn', () => {
  it('returns the latest tick in the window', () => {
    expect(iso(latestTickIn('*/10 * * * *', undefined, at('2024-05-01T12:00:00Z'), at('2024-05-01T12:35:00Z')))).toBe(
      '2024-05-01T12:30:00.000Z',
    );
  });

  it('excludes a tick at the start and includes a tick at the end', () => {
    expect(latestTickIn('0 * * * *', undefined, at('2024-05-01T12:00:00Z'), at('2024-05-01T12:59:59Z'))).toBeNull();
    expect(iso(latestTickIn('0 * * * *', undefined, at('2024-05-01T12:00:00Z'), at('2024-05-01T13:00:00Z')))).toBe(
      '2024-05-01T13:00:00.000Z',
    );
  });

  it('returns null for an empty or inverted window', () => {
    expect(latestTickIn('* * * * *', undefined, at('2024-05-01T12:00:00Z'), at('2024-05-01T12:00:00Z'))).toBeNull();
    expect(latestTickIn('* * * * *', undefined, at('2024-05-01T12:05:00Z'), at('2024-05-01T12:00:00Z'))).toBeNull();
  });

  it('evaluates in the time zone', () => {
    const window = [at('2024-05-01T00:30:00Z'), at('2024-05-01T12:00:00Z')] as const;
    expect(latestTickIn('0 9 * * *', 'Asia/Tokyo', ...window)).toBeNull(); // 09:00 JST = 00:00 UTC, before the window
    expect(iso(latestTickIn('0 9 * * *', undefined, ...window))).toBe('2024-05-01T09:00:00.000Z');
  });

  it('finds a tick that next() moves out of a spring-forward gap, which prev() alone misses', () => {
    // On 2024-03-31, 02:30 Berlin does not exist; nextTick runs it at 03:30 CEST (01:30 UTC).
    const tick = latestTickIn('30 2 * * *', 'Europe/Berlin', at('2024-03-30T12:00:00Z'), at('2024-03-31T12:00:00Z'));
    expect(iso(tick)).toBe('2024-03-31T01:30:00.000Z');
  });

  it('agrees with stepping nextTick one tick at a time', () => {
    const cases: Array<[string, string | undefined, string, string]> = [
      ['*/7 * * * *', undefined, '2024-05-01T10:00:00Z', '2024-05-01T13:13:13Z'],
      ['0 9 * * 1-5', 'Asia/Tokyo', '2024-04-25T00:00:00Z', '2024-05-07T00:00:00Z'],
      ['30 2 * * *', 'Europe/Berlin', '2024-03-25T00:00:00Z', '2024-04-03T00:00:00Z'],
      ['0 * * * *', 'Europe/Berlin', '2024-10-26T22:00:00Z', '2024-10-27T01:30:00Z'],
      ['15 1 * * *', 'America/New_York', '2024-11-01T00:00:00Z', '2024-11-03T05:59:00Z'],
    ];
    for (const [schedule, tz, from, to] of cases) {
      let last: Date | null = null;
      for (let t = nextTick(schedule, tz, at(from)); t <= at(to); t = nextTick(schedule, tz, t)) last = t;
      expect(iso(latestTickIn(schedule, tz, at(from), at(to))), `${schedule} ${tz}`).toBe(iso(last));
    }
  });

  it('may pick the second occurrence of a local time repeated by a fall-back, but never a tick twice', () => {
    // 2024-11-03 01:15 happens twice in New York: 05:15 UTC (EDT) and 06:15 UTC (EST). Stepping with
    // nextTick runs the first only; prev() finds the second. Either is "01:15", and what matters for
    // catch-up holds: the result is a tick in the window and nothing in the window comes after it.
    const [from, to] = [at('2024-11-01T00:00:00Z'), at('2024-11-04T00:00:00Z')];
    const tick = latestTickIn('15 1 * * *', 'America/New_York', from, to);
    expect(iso(tick)).toBe('2024-11-03T06:15:00.000Z');
    expect(nextTick('15 1 * * *', 'America/New_York', tick!).getTime()).toBeGreaterThan(to.getTime());
    expect(latestTickIn('15 1 * * *', 'America/New_York', tick!, to)).toBeNull();
    // Once the first occurrence was handled, the second is not due again.
    expect(latestTickIn('15 1 * * *', 'America/New_York', at('2024-11-03T05:15:00Z'), to)).toBeNull();
  });

  it('answers at once for an every-minute schedule after ten years of downtime', () => {
    const started = performance.now();
    const tick = latestTickIn('* * * * *', undefined, at('2014-05-01T00:00:00Z'), at('2024-05-01T12:34:56Z'));
    expect(iso(tick)).toBe('2024-05-01T12:34:00.000Z');
    // Stepping through the ~5 million ticks one by one would take minutes.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('missedTickDecision', () => {
  const hourly = { schedule: '0 * * * *', timeZone: undefined, creationTime: at('2024-05-01T00:00:00Z') };

  it('reports nothing when no tick passed since the last one handled', () => {
    expect(missedTickDecision({ ...hourly, lastTick: at('2024-05-01T12:00:00Z'), now: at('2024-05-01T12:59:00Z') })).toBeNull();
  });

  it('runs a tick missed within startingDeadlineSeconds', () => {
    expect(
      missedTickDecision({ ...hourly, lastTick: at('2024-05-01T11:00:00Z'), now: at('2024-05-01T12:00:30Z'), startingDeadlineSeconds: 60 }),
    ).toEqual({ run: at('2024-05-01T12:00:00Z') });
  });

  it('runs a tick exactly at the deadline', () => {
    expect(
      missedTickDecision({ ...hourly, lastTick: at('2024-05-01T11:00:00Z'), now: at('2024-05-01T12:01:00Z'), startingDeadlineSeconds: 60 }),
    ).toEqual({ run: at('2024-05-01T12:00:00Z') });
  });

  it('skips a tick later than startingDeadlineSeconds', () => {
    expect(
      missedTickDecision({ ...hourly, lastTick: at('2024-05-01T11:00:00Z'), now: at('2024-05-01T12:01:01Z'), startingDeadlineSeconds: 60 }),
    ).toEqual({ skip: at('2024-05-01T12:00:00Z') });
  });

  it('skips a missed tick when startingDeadlineSeconds is not set', () => {
    expect(missedTickDecision({ ...hourly, lastTick: at('2024-05-01T11:00:00Z'), now: at('2024-05-01T12:00:01Z') })).toEqual({
      skip: at('2024-05-01T12:00:00Z'),
    });
  });

  it('runs only the latest of many missed ticks, once', () => {
    expect(
      missedTickDecision({ ...hourly, lastTick: at('2024-05-01T01:00:00Z'), now: at('2024-05-01T12:10:00Z'), startingDeadlineSeconds: 900 }),
    ).toEqual({ run: at('2024-05-01T12:00:00Z') });
  });

  it('counts from the creation time when no tick was handled yet, and ignores ticks before it', () => {
    const created = { ...hourly, creationTime: at('2024-05-01T11:30:00Z'), lastTick: null };
    expect(missedTickDecision({ ...created, now: at('2024-05-01T11:59:00Z'), startingDeadlineSeconds: 3600 })).toBeNull();
    expect(missedTickDecision({ ...created, now: at('2024-05-01T12:00:10Z'), startingDeadlineSeconds: 3600 })).toEqual({
      run: at('2024-05-01T12:00:00Z'),
    });
  });

  it('uses whichever of lastTick and creationTime is later', () => {
    const stale = { ...hourly, creationTime: at('2024-05-01T12:30:00Z'), lastTick: at('2024-05-01T10:00:00Z') };
    expect(missedTickDecision({ ...stale, now: at('2024-05-01T12:45:00Z'), startingDeadlineSeconds: 7200 })).toBeNull();
  });

  it('reports nothing when now is not after the last tick (clock skew)', () => {
    expect(missedTickDecision({ ...hourly, lastTick: at('2024-05-01T12:00:00Z'), now: at('2024-05-01T11:00:00Z') })).toBeNull();
  });

  it('honours the time zone', () => {
    const tokyo = { schedule: '0 9 * * *', timeZone: 'Asia/Tokyo', creationTime: at('2024-04-01T00:00:00Z'), startingDeadlineSeconds: 600 };
    // 09:00 JST on May 2nd is 00:00 UTC.
    expect(missedTickDecision({ ...tokyo, lastTick: at('2024-05-01T00:00:00Z'), now: at('2024-05-02T00:05:00Z') })).toEqual({
      run: at('2024-05-02T00:00:00Z'),
    });
    expect(missedTickDecision({ ...tokyo, lastTick: at('2024-05-01T00:00:00Z'), now: at('2024-05-02T08:59:00Z') })).toEqual({
      skip: at('2024-05-02T00:00:00Z'),
    });
  });

  it('decides at once after a year of downtime of an every-minute Runner', () => {
    const started = performance.now();
    const decision = missedTickDecision({
      schedule: '* * * * *',
      timeZone: 'Europe/Berlin',
      creationTime: at('2023-01-01T00:00:00Z'),
      lastTick: at('2023-05-01T00:00:00Z'),
      now: at('2024-05-01T00:00:30Z'),
      startingDeadlineSeconds: 60,
    });
    expect(decision).toEqual({ run: at('2024-05-01T00:00:00Z') });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

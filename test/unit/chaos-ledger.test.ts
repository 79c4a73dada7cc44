// The fault suite's counting (test/chaos/support/ledger.ts) must see a duplicate or a missed run
// whenever there is one, or its "0 duplicates, 0 missed" would prove nothing.
import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { hadAChance } from '../chaos/support/killer.ts';
import { countEventRuns, countScheduledRuns, offCounts, totals } from '../chaos/support/ledger.ts';

const job = (runner: string, revision: string, runKey = `1:revision:${revision}`): V1Job => ({
  metadata: { labels: { 'runner.stakater.com/name': runner, 'runner.stakater.com/revision': revision }, annotations: { 'runner.stakater.com/run-key': runKey } },
});
const tick = (runner: string, n: number, at: string) => job(runner, 'r', `${n}:schedule:${at}`);

describe('countEventRuns', () => {
  it('is clean when every expected run has one Job of its own revision', () => {
    const counts = countEventRuns([job('a', 'r1'), job('a', 'r2'), job('b', 'r1')], new Map([['a', 2], ['b', 1]]));
    expect(offCounts(counts)).toEqual([]);
    expect(totals(counts)).toEqual({ runners: 2, expected: 3, jobs: 3, duplicates: 0, missed: 0 });
  });
  it('counts two Jobs of one revision as a duplicate, and the revision never run as missed', () => {
    const [a] = countEventRuns([job('a', 'r1'), job('a', 'r1')], new Map([['a', 2]]));
    expect(a).toMatchObject({ jobs: 2, duplicates: 1, missed: 1 });
  });
  it('counts runs beyond the expected number as duplicates, and a Runner without Jobs as missed', () => {
    const counts = countEventRuns([job('a', 'r1'), job('a', 'r2'), job('a', 'r3')], new Map([['a', 2], ['b', 1]]));
    expect(counts).toMatchObject([{ runner: 'a', duplicates: 1, missed: 0 }, { runner: 'b', jobs: 0, duplicates: 0, missed: 1 }]);
  });
});

describe('countScheduledRuns', () => {
  const upTo = new Date('2030-01-01T00:03:30Z');
  it('expects every minute from the first run up to the end, once', () => {
    const jobs = ['00:01', '00:02', '00:03', '00:04'].map((m, i) => tick('s', i + 1, `2030-01-01T${m}:00.000Z`));
    expect(countScheduledRuns(jobs, ['s'], upTo)).toEqual([{ runner: 's', expected: 3, jobs: 3, duplicates: 0, missed: 0 }]);
  });
  it('names a tick without a Job, and counts a tick run twice', () => {
    const jobs = [tick('s', 1, '2030-01-01T00:01:00.000Z'), tick('s', 2, '2030-01-01T00:03:00.000Z'), tick('s', 3, '2030-01-01T00:03:00.000Z')];
    expect(countScheduledRuns(jobs, ['s'], upTo)).toEqual([
      { runner: 's', expected: 3, jobs: 3, duplicates: 1, missed: 1, missedTicks: ['2030-01-01T00:02:00.000Z'] },
    ]);
  });
  it('excuses a tick without a Job when the operator had no chance at it, and lists it', () => {
    const jobs = [tick('s', 1, '2030-01-01T00:01:00.000Z'), tick('s', 2, '2030-01-01T00:03:00.000Z')];
    const noChanceAt2 = (t: number) => t !== Date.parse('2030-01-01T00:02:00Z');
    expect(countScheduledRuns(jobs, ['s'], upTo, noChanceAt2)).toEqual([
      { runner: 's', expected: 2, jobs: 2, duplicates: 0, missed: 0, skippedTicks: ['2030-01-01T00:02:00.000Z'] },
    ]);
  });
  it('counts a scheduled Runner that never ran as missed', () => {
    expect(countScheduledRuns([], ['s'], upTo)).toMatchObject([{ runner: 's', jobs: 0, missed: 1 }]);
    expect(countScheduledRuns([], ['s'], upTo, undefined, Date.parse('2030-01-01T00:02:00Z'))).toMatchObject([
      { runner: 's', expected: 2, jobs: 0, missed: 2, missedTicks: ['2030-01-01T00:02:00.000Z', '2030-01-01T00:03:00.000Z'] },
    ]);
  });
  it('counts from the first tick after the Runners were created: a missed first tick is seen', () => {
    const jobs = [tick('s', 1, '2030-01-01T00:02:00.000Z'), tick('s', 2, '2030-01-01T00:03:00.000Z')];
    expect(countScheduledRuns(jobs, ['s'], upTo, undefined, Date.parse('2030-01-01T00:01:00Z'))).toMatchObject([
      { runner: 's', expected: 3, jobs: 2, missed: 1, missedTicks: ['2030-01-01T00:01:00.000Z'] },
    ]);
  });
  it('expects nothing when the window ends before the first tick', () => {
    expect(countScheduledRuns([], ['s'], upTo, undefined, Date.parse('2030-01-01T00:04:00Z'))).toEqual([
      { runner: 's', expected: 0, jobs: 0, duplicates: 0, missed: 0 },
    ]);
  });
});

describe('hadAChance', () => {
  const lives = [{ readyAt: 10_000, endedAt: 12_000 }, { readyAt: 20_000, endedAt: null }];
  it('is true when one process was ready long enough within the interval', () => {
    expect(hadAChance(lives, 0, 30_000, 5_000)).toBe(true);
    expect(hadAChance(lives, 9_000, 12_500, 2_000)).toBe(true);
  });
  it('is false when every process was ready too briefly within it, or never ready', () => {
    expect(hadAChance(lives, 0, 19_000, 5_000)).toBe(false);
    expect(hadAChance([{ readyAt: null, endedAt: 5_000 }], 0, 10_000, 1_000)).toBe(false);
  });
});

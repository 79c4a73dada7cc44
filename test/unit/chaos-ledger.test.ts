// The fault suite's counting (test/chaos/support/ledger.ts) must see a duplicate or a missed run
// whenever there is one, or its "0 duplicates, 0 missed" would prove nothing.
import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
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
});

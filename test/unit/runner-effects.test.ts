import { describe, expect, it } from 'vitest';
import { isPermanentFailure, VERDICT_RETOLD_AFTER_MS, verdictIsNews } from '../../src/operator/runner-effects.ts';

describe('isPermanentFailure (a Job create that failed)', () => {
  it('retries what may pass: no answer, 5xx, a conflict, throttling', () => {
    for (const code of [undefined, 500, 503, 504, 409, 429]) expect(isPermanentFailure(code, 0)).toBe(false);
  });
  it('gives up at once on a Job the API server refuses as such', () => {
    for (const code of [400, 404, 422]) expect(isPermanentFailure(code, 0)).toBe(true);
  });
  it('retries 401 and 403 for a while (an API server just restarted refuses everyone until its RBAC caches fill), then gives up', () => {
    expect(isPermanentFailure(403, 0)).toBe(false);
    expect(isPermanentFailure(401, 6)).toBe(false);
    expect(isPermanentFailure(403, 7)).toBe(true);
  });
});

describe('verdictIsNews (a run’s verdict on the workloads it verified)', () => {
  const told = { verdict: 'rev-1/Succeeded', at: 0 };
  it('is news the first time, for a new revision, and for a new result on the same revision', () => {
    expect(verdictIsNews(undefined, 'rev-1/Succeeded', 0)).toBe(true);
    expect(verdictIsNews(told, 'rev-2/Succeeded', 60_000)).toBe(true);
    expect(verdictIsNews(told, 'rev-1/Failed', 60_000)).toBe(true);
  });
  it('is not news repeated within half an hour, and is again after it, before the Event telling it expires', () => {
    expect(verdictIsNews(told, 'rev-1/Succeeded', VERDICT_RETOLD_AFTER_MS - 1)).toBe(false);
    expect(verdictIsNews(told, 'rev-1/Succeeded', VERDICT_RETOLD_AFTER_MS)).toBe(true);
  });
});

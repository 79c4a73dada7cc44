import { describe, expect, it } from 'vitest';
import { isPermanentFailure } from '../../src/operator/runner-effects.ts';

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

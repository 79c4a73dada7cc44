// The rule the benchmark's trigger latency is read by (bench/audit-log.ts): which of a Deployment's status writes
// caused a Job's create.
import { describe, expect, it } from 'vitest';
import { latencyAfter } from '../../bench/audit-log.ts';

describe('latencyAfter', () => {
  it('measures from the completion of the latest write received before the create', () => {
    const writes = [
      { received: 0, completed: 8 },
      { received: 400, completed: 410 },
    ];
    expect(latencyAfter(writes, 430)).toBe(20);
  });

  it('counts a create that arrives before its cause is stamped complete as 0, not as the time since the write before', () => {
    // The API server sent the second write's watch event before it stamped the write complete.
    const writes = [
      { received: -8, completed: 0 },
      { received: 379, completed: 433 },
    ];
    expect(latencyAfter(writes, 431)).toBe(0);
  });

  it('ignores writes received after the create, in whatever order the log holds them', () => {
    const writes = [
      { received: 500, completed: 510 },
      { received: 100, completed: 120 },
      { received: 50, completed: 200 },
    ];
    expect(latencyAfter(writes, 300)).toBe(180);
  });

  it('has no latency without a write before the create', () => {
    expect(latencyAfter([{ received: 500, completed: 510 }], 300)).toBeUndefined();
    expect(latencyAfter([], 300)).toBeUndefined();
  });
});

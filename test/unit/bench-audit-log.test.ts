// How the benchmark reads the API server's audit log (bench/audit-log.ts): which of a Deployment's status writes
// caused a Job's create, where a hand-over's time went, and a log the server rotates while it is read.
import { appendFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, handoverPhases, latencyAfter, type Request } from '../../bench/audit-log.ts';

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

describe('handoverPhases', () => {
  const request = (verb: string, resource: string, subresource: string, received: number, completed: number): Request =>
    ({ verb, user: 'op', resource, subresource, namespace: 'qa', name: 'x', code: 200, received, completed });

  it('times the re-list of Jobs and the fresh reads after the kill, and counts the status writes before the last Job', () => {
    const requests = [
      request('list', 'jobs', '', 500, 900), // before the kill: another re-list
      request('list', 'jobs', '', 16_000, 18_500),
      request('list', 'jobs', '', 16_200, 19_000),
      request('get', 'runners', '', 16_100, 16_150),
      request('get', 'runners', '', 17_000, 17_400),
      request('get', 'runners', 'status', 17_500, 17_600),
      request('patch', 'runners', 'status', 19_500, 19_550),
      request('patch', 'runners', 'status', 25_000, 25_050),
    ];
    expect(handoverPhases(requests, 1000, 20_000)).toEqual({ noticedMs: 15_000, jobsListedMs: 18_000, runnersReadMs: 16_400, statusWrites: 1 });
    // Read in LISTs narrowed by shard instead.
    const listed = [...requests.filter((r) => r.resource === 'jobs'), request('list', 'runners', '', 16_100, 17_900)];
    expect(handoverPhases(listed, 1000, 20_000)?.runnersReadMs).toBe(16_900);
  });

  it('says nothing without a re-list of the Jobs after the kill', () => {
    expect(handoverPhases([request('list', 'jobs', '', 0, 10)], 1000, 2000)).toBeUndefined();
  });
});

describe('AuditLog', () => {
  const entry = (name: string) =>
    JSON.stringify({ stage: 'ResponseComplete', verb: 'create', user: { username: 'u' }, objectRef: { resource: 'jobs', namespace: 'n', name }, responseStatus: { code: 201 }, requestReceivedTimestamp: '2026-12-03T10:00:00.000001Z', stageTimestamp: '2026-12-03T10:00:00.000002Z' }) + '\n';

  it('follows the log into a new file when the API server rotates it, losing nothing written to the old one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const path = join(dir, 'audit.log');
    writeFileSync(path, entry('a') + entry('b'));
    const log = new AuditLog(path);
    expect(log.catchUp().jobCreates.map((r) => r.name)).toEqual(['a', 'b']);
    appendFileSync(path, entry('c')); // written just before the rotation
    renameSync(path, join(dir, 'audit-2026-12-03T10-00-00.000.log'));
    writeFileSync(path, entry('d'));
    expect(log.catchUp().jobCreates.map((r) => r.name)).toEqual(['a', 'b', 'c', 'd']);
    appendFileSync(path, entry('e'));
    expect(log.catchUp().jobCreates.map((r) => r.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

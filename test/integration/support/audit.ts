// Reads the API server's audit log (written by the test cluster, see test/cluster/) to count the
// requests a given user made: the honest measure of what the operator costs the API server.
import { readFileSync } from 'node:fs';

export interface AuditEntry {
  auditID: string;
  stage: string;
  verb: string;
  user: { username: string; extra?: Record<string, string[]> };
  requestURI: string;
  /** The answer's HTTP status (403: forbidden by RBAC, or by admission, e.g. a namespace being deleted). */
  responseStatus?: { code?: number; reason?: string; message?: string };
  /** Among them `authorization.k8s.io/decision` (allow or forbid) and `authorization.k8s.io/reason`. */
  annotations?: Record<string, string>;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  requestReceivedTimestamp: string;
  /** When the request was answered (its ResponseComplete stage). */
  stageTimestamp: string;
}

export function auditLogPath(): string {
  const path = process.env.HESTIA_AUDIT_LOG;
  if (!path) throw new Error('HESTIA_AUDIT_LOG is not set: run through test/cluster/with-cluster.sh');
  return path;
}

/**
 * Every request by `username` received at or after `since`, once each (by auditID); with
 * `namespace`, only those about objects in it (earlier test files' namespaces may still be
 * terminating, and the operator rightly reacts to that).
 */
export function requestsBy(username: string, since: Date, namespace?: string): AuditEntry[] {
  const seen = new Map<string, AuditEntry>();
  for (const line of readFileSync(auditLogPath(), 'utf8').split('\n')) {
    if (!line.includes(username)) continue;
    // The API server may have been killed mid-line (tests that restart the control plane).
    let e: AuditEntry;
    try {
      e = JSON.parse(line) as AuditEntry;
    } catch {
      continue;
    }
    if (e.user?.username !== username) continue;
    if (new Date(e.requestReceivedTimestamp) < since) continue;
    if (namespace !== undefined && e.objectRef?.namespace !== namespace) continue;
    seen.set(e.auditID, e);
  }
  return [...seen.values()];
}

/** Requests that authorization refused: what a role would have to be widened for. */
export const forbiddenByRbac = (entries: AuditEntry[]) => entries.filter((e) => e.annotations?.['authorization.k8s.io/decision'] === 'forbid');

/** Requests other than watches: a watch that re-opens is a connection, not work per event. */
export const nonWatch = (entries: AuditEntry[]) => entries.filter((e) => e.verb !== 'watch');

export function summarise(entries: AuditEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of entries) {
    const key = `${e.verb} ${e.objectRef?.resource ?? e.requestURI}${e.objectRef?.subresource ? '/' + e.objectRef.subresource : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Requests that change something: every verb but get, list and watch. */
export const writes = (entries: AuditEntry[]) => entries.filter((e) => !['get', 'list', 'watch'].includes(e.verb));

/** Lease reads and renewals: leader election at work, not work on Runners. */
export const notLease = (e: AuditEntry) => e.objectRef?.resource !== 'leases';

/**
 * Waits until `username` has made no new non-watch request (in `namespace`, if given; lease
 * requests aside) for `quietMs`. Polls the audit log; gives up after `timeoutMs`.
 */
export async function waitUntilQuiet(username: string, since: Date, quietMs = 1500, namespace?: string, timeoutMs = 60_000): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = nonWatch(requestsBy(username, since, namespace)).filter(notLease).length;
    if (n !== last) {
      last = n;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) return;
    if (Date.now() > deadline) throw new Error(`${username} did not go quiet within ${timeoutMs} ms (${n} requests since ${since.toISOString()})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

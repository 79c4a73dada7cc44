// Reads the API server's audit log (written by the test cluster, see test/cluster/) to count the
// requests a given user made: the honest measure of what the operator costs the API server.
import { readFileSync } from 'node:fs';

export interface AuditEntry {
  auditID: string;
  stage: string;
  verb: string;
  user: { username: string; extra?: Record<string, string[]> };
  requestURI: string;
  /** The answer's HTTP status (403: forbidden by RBAC). */
  responseStatus?: { code?: number };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  requestReceivedTimestamp: string;
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
    const e = JSON.parse(line) as AuditEntry;
    if (e.user?.username !== username) continue;
    if (new Date(e.requestReceivedTimestamp) < since) continue;
    if (namespace !== undefined && e.objectRef?.namespace !== namespace) continue;
    seen.set(e.auditID, e);
  }
  return [...seen.values()];
}

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

// SPEC §6 "the operator never writes to workloads", proven from the API server's audit log: every request the
// operator's identity made (as itself, or impersonated by someone) that would change a Deployment, StatefulSet,
// DaemonSet or DeploymentConfig, or any of their subresources. Attempts count too, refused or not.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AuditLine {
  auditID: string;
  verb: string;
  user?: { username?: string };
  impersonatedUser?: { username?: string };
  requestURI?: string;
  objectRef?: { apiGroup?: string; resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const WORKLOADS = new Set(['apps/deployments', 'apps/statefulsets', 'apps/daemonsets', 'apps.openshift.io/deploymentconfigs']);

/** Who a request acted as: the impersonated user when there is one. */
export const actingUser = (line: AuditLine): string | undefined => line.impersonatedUser?.username ?? line.user?.username;

export const isWorkloadWrite = (line: AuditLine): boolean =>
  WRITE_VERBS.has(line.verb) && WORKLOADS.has(`${line.objectRef?.apiGroup ?? ''}/${line.objectRef?.resource ?? ''}`);

export interface WorkloadWriteReport {
  /** Requests by `user` in the log (once each). */
  requests: number;
  /** Of those, the writes to workloads: each as "verb resource[/subresource] namespace/name (HTTP code)". */
  writes: string[];
}

/** Reads an audit log (one JSON event per line) and reports what `user` did to workloads. */
export function workloadWritesBy(user: string, auditLogText: string): WorkloadWriteReport {
  const seen = new Set<string>();
  const writes: string[] = [];
  for (const text of auditLogText.split('\n')) {
    if (!text.includes(user)) continue;
    const line = JSON.parse(text) as AuditLine;
    if (actingUser(line) !== user || seen.has(line.auditID)) continue;
    seen.add(line.auditID);
    if (!isWorkloadWrite(line)) continue;
    const ref = line.objectRef!;
    const what = `${ref.resource}${ref.subresource ? `/${ref.subresource}` : ''}`;
    writes.push(`${line.verb} ${what} ${ref.namespace ?? ''}/${ref.name ?? ''} (HTTP ${line.responseStatus?.code ?? '?'})`);
  }
  return { requests: seen.size, writes };
}

/**
 * The audit log and the files the API server rotated out of it: it rotates at 100 MB (`--audit-log-maxsize`
 * unset) into `audit-<time>.log` beside it, and a whole integration suite writes more than that.
 */
export function auditLogFiles(auditLogPath: string): string[] {
  const dir = dirname(auditLogPath);
  const name = basename(auditLogPath, '.log');
  const rotated = readdirSync(dir).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.log')).sort();
  return [...rotated.map((f) => join(dir, f)), auditLogPath];
}

export function workloadWritesInLog(user: string, auditLogPath: string): WorkloadWriteReport & { files: number } {
  const files = auditLogFiles(auditLogPath);
  const reports = files.map((f) => workloadWritesBy(user, readFileSync(f, 'utf8')));
  return {
    files: files.length,
    requests: reports.reduce((n, r) => n + r.requests, 0),
    writes: reports.flatMap((r) => r.writes),
  };
}

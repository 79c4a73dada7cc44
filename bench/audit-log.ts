// Reads the API server's audit log as it grows: every request with who sent it, when it arrived
// and when it was answered. Trigger latencies are measured here, on the server's clock, from the
// write that made a Deployment available to the create of the Job it triggered, for the operator
// and the floor alike.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export interface Request {
  verb: string;
  user: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  code: number;
  /** Milliseconds since the epoch, with the log's microseconds. */
  received: number;
  completed: number;
}

const micros = (ts: string): number => {
  const m = ts.match(/^(.*T\d\d:\d\d:\d\d)(\.\d+)?Z$/);
  return m ? Date.parse(`${m[1]}Z`) + Number(m[2] ?? 0) * 1000 : Date.parse(ts);
};

export class AuditLog {
  private readonly path: string;
  private offset = 0;
  private rest = '';
  readonly requests: Request[] = [];
  /** The Job creates among them, kept apart because they are asked for often. */
  readonly jobCreates: Request[] = [];

  constructor(path: string) {
    this.path = path;
  }

  /** Reads what was appended since the last call. */
  catchUp(): this {
    const size = statSync(this.path).size;
    if (size <= this.offset) return this;
    const fd = openSync(this.path, 'r');
    try {
      const buffer = Buffer.alloc(size - this.offset);
      readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset = size;
      const lines = (this.rest + buffer.toString('utf8')).split('\n');
      this.rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"ResponseComplete"')) continue;
        const e = JSON.parse(line) as {
          verb: string; user: { username: string }; objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
          responseStatus?: { code?: number }; requestReceivedTimestamp: string; stageTimestamp: string;
        };
        const request: Request = {
          verb: e.verb,
          user: e.user.username,
          resource: e.objectRef?.resource ?? '',
          subresource: e.objectRef?.subresource ?? '',
          namespace: e.objectRef?.namespace ?? '',
          name: e.objectRef?.name ?? '',
          code: e.responseStatus?.code ?? 0,
          received: micros(e.requestReceivedTimestamp),
          completed: micros(e.stageTimestamp),
        };
        this.requests.push(request);
        if (request.verb === 'create' && request.resource === 'jobs') this.jobCreates.push(request);
      }
    } finally {
      closeSync(fd);
    }
    return this;
  }

  /** Requests by `user` received in [from, to). */
  by(user: string, from: number, to = Infinity): Request[] {
    return this.catchUp().requests.filter((r) => r.user === user && r.received >= from && r.received < to);
  }
}

export const isWatch = (r: Request) => r.verb === 'watch';
export const isWrite = (r: Request) => !['get', 'list', 'watch'].includes(r.verb);

export function countByKind(requests: Request[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) {
    const key = `${r.verb} ${r.resource}${r.subresource ? '/' + r.subresource : ''}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/**
 * For each Job created by `user` in `namespace` in [from, to): the time from the completion of the
 * last status write of the Deployment it is for (the one that made it available) to the Job's
 * create arriving. `deploymentOf` maps a Job name to its Deployment's name.
 */
/** One trigger: the Job created, and how long after its workload's last status write before it. */
export interface TriggerLatency {
  job: string;
  ms: number;
  /** When the Job create arrived (ms since the epoch). */
  at: number;
}

export function triggerLatencies(log: AuditLog, user: string, namespace: string, from: number, to: number, deploymentOf: (job: string) => string | null): TriggerLatency[] {
  const all = log.catchUp().requests;
  const statusWrites = new Map<string, number[]>();
  for (const r of all) {
    if (r.resource === 'deployments' && r.subresource === 'status' && r.namespace === namespace && r.code < 300 && r.received >= from - 60_000) {
      const list = statusWrites.get(r.name) ?? [];
      list.push(r.completed);
      statusWrites.set(r.name, list);
    }
  }
  const latencies: TriggerLatency[] = [];
  for (const r of all) {
    if (r.user !== user || r.verb !== 'create' || r.resource !== 'jobs' || r.namespace !== namespace || r.received < from || r.received >= to) continue;
    const deployment = deploymentOf(r.name);
    const ready = deployment ? (statusWrites.get(deployment) ?? []).filter((t) => t <= r.received).at(-1) : undefined;
    if (ready !== undefined) latencies.push({ job: r.name, ms: r.received - ready, at: r.received });
  }
  return latencies;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const median = (values: number[]) => percentile(values, 50);

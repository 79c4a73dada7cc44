// Reads the API server's audit log as it grows: every request with who sent it, when it arrived
// and when it was answered. Trigger latencies are measured here, on the server's clock, from the
// write that made a Deployment available to the create of the Job it triggered, for the operator
// and the floor alike.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

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
  /** The file being read, kept open: once the API server rotates it away (at 100 MB), the rest is still read from it. */
  private fd: number | undefined;
  private inode = 0;
  private offset = 0;
  private rest = '';
  readonly requests: Request[] = [];
  /** The Job creates among them, kept apart because they are asked for often. */
  readonly jobCreates: Request[] = [];

  constructor(path: string) {
    this.path = path;
  }

  /** Reads what was appended since the last call, following the log into a new file when it was rotated. */
  catchUp(): this {
    for (;;) {
      if (this.fd === undefined) {
        if (!existsSync(this.path)) return this;
        this.fd = openSync(this.path, 'r');
        this.inode = fstatSync(this.fd).ino;
        this.offset = 0;
        this.rest = '';
      }
      this.readAppended(this.fd);
      if (statSync(this.path, { throwIfNoEntry: false })?.ino === this.inode) return this;
      // Rotated: the old file is complete now; read what reached it after the read above, then go on in the new one.
      this.readAppended(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private readAppended(fd: number): void {
    const size = fstatSync(fd).size;
    if (size <= this.offset) return;
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

/** One trigger: the Job created, and how long after the status write of its workload that caused it. */
export interface TriggerLatency {
  job: string;
  ms: number;
  /** When the Job create arrived (ms since the epoch). */
  at: number;
}

/** A write as the audit log times it: received, and its response completed. */
export interface Timed {
  received: number;
  completed: number;
}

/**
 * The latency of a create that arrived at `created`, caused by one of `writes`: from the completion of the latest
 * write received before it. Chosen by arrival, not by completion: the API server sends a write's watch event before
 * it stamps the write complete, so a quick client's create can arrive first (a Deployment controller's status write
 * that took 50 ms is not the previous one's latency). Such a create counts as 0 ms. Undefined without such a write.
 */
export function latencyAfter(writes: readonly Timed[], created: number): number | undefined {
  let cause: Timed | undefined;
  for (const w of writes) if (w.received <= created && (!cause || w.received > cause.received)) cause = w;
  return cause && Math.max(0, created - cause.completed);
}

/**
 * For each Job created by `user` in `namespace` in [from, to): the time from the status write of the Deployment it
 * is for that made it available (the latest one before the create, latencyAfter) to the Job's create arriving.
 * `deploymentOf` maps a Job name to its Deployment's name.
 */
export function triggerLatencies(log: AuditLog, user: string, namespace: string, from: number, to: number, deploymentOf: (job: string) => string | null): TriggerLatency[] {
  const all = log.catchUp().requests;
  const statusWrites = new Map<string, Timed[]>();
  for (const r of all) {
    if (r.resource === 'deployments' && r.subresource === 'status' && r.namespace === namespace && r.code < 300 && r.received >= from - 60_000) {
      const list = statusWrites.get(r.name) ?? [];
      list.push(r);
      statusWrites.set(r.name, list);
    }
  }
  const latencies: TriggerLatency[] = [];
  for (const r of all) {
    if (r.user !== user || r.verb !== 'create' || r.resource !== 'jobs' || r.namespace !== namespace || r.received < from || r.received >= to) continue;
    const deployment = deploymentOf(r.name);
    const ms = deployment ? latencyAfter(statusWrites.get(deployment) ?? [], r.received) : undefined;
    if (ms !== undefined) latencies.push({ job: r.name, ms, at: r.received });
  }
  return latencies;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const median = (values: number[]) => percentile(values, 50);

/** Where a hand-over's time went, in ms after `from` (the kill), as the survivors' requests show it. */
export interface HandoverPhases {
  /** The first list of the Jobs: a survivor has taken slots up. */
  noticedMs: number;
  /** The last list of the Jobs answered. */
  jobsListedMs: number;
  /** The last fresh read of a Runner taken up answered. */
  runnersReadMs: number;
  /** Status writes of the survivors until the last of `jobs` was created. */
  statusWrites: number;
}

/**
 * The survivors' requests (`requests`, one user's, received from `from` on) read as a hand-over: when its Jobs were
 * listed again, when its Runners had been read, how many statuses were written before the last Job (received at
 * `lastJob`). Undefined if no re-list of Jobs came.
 */
export function handoverPhases(requests: readonly Request[], from: number, lastJob: number): HandoverPhases | undefined {
  const lists = requests.filter((r) => r.verb === 'list' && r.resource === 'jobs' && r.received >= from);
  if (lists.length === 0) return undefined;
  // One GET each, or a few LISTs narrowed by shard where the API server offers them.
  const reads = requests.filter((r) => (r.verb === 'get' || r.verb === 'list') && r.resource === 'runners' && !r.subresource && r.received >= from);
  const last = (xs: readonly Request[]) => Math.max(...xs.map((r) => r.completed));
  return {
    noticedMs: Math.min(...lists.map((r) => r.received)) - from,
    jobsListedMs: last(lists) - from,
    runnersReadMs: reads.length > 0 ? last(reads) - from : Number.NaN,
    statusWrites: requests.filter((r) => r.resource === 'runners' && r.subresource === 'status' && r.verb !== 'get' && r.received >= from && r.received <= lastJob).length,
  };
}

// Writes Runner statuses: coalesced per Runner, skipped when nothing would change, through the
// status lane of the write queue, and as a JSON patch replacing the whole status, onto the Runner it
// was rendered for (a `test` of the uid) and only over the newest version of it this replica has seen
// (its resourceVersion as a precondition): a replica whose view lags — a deposed leader, an old owner
// after a hand-over, a cache behind another client's write — is answered 409 and writes again once its
// cache caught up, instead of putting back a status it never saw replaced. Not a merge patch:
// there a null deletes, and the snapshot holds nulls. The status is rendered when its write is
// sent, not when it is asked for, so a Runner that changes while its write waits is written once.
// Two delays: a run that started or ended is news a reader waits for (kstatus, `hestia wait`, a CI step) and is
// written after `coalesceMs`; any other change (a workload rolling out, a probe's answer, a waiting message) after
// `settleMs`, so that a rollout followed by its run costs one write, not two. A write asked for sooner takes over
// a later one.
import type { Logger } from 'pino';
import { API_VERSION, PLURAL, type RunnerStatus } from '../api/runner.ts';
import { objectPath } from '../k8s/api-paths.ts';
import { ApiError, METADATA_ONLY, type KubeClient } from '../k8s/client.ts';
import { errorText } from '../k8s/informer.ts';
import { parseKey } from '../k8s/object-key.ts';
import { compareResourceVersions } from '../k8s/resource-version.ts';
import type { WriteQueue } from '../k8s/write-queue.ts';
import { backoffDelay, type BackoffPolicy } from '../time/backoff.ts';
import { statusDigest } from './cached-objects.ts';

const WRITE_RETRY_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };
/** A conflict is answered as soon as the watch brings the newer version, usually within milliseconds. */
const CONFLICT_RETRY_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 30_000 };
/** Conflicts in a row before the Runner's status says its writes fail. */
const CONFLICTS_BEFORE_ERROR = 3;

/** Enough for the echoes of writes in quick succession whose watch events arrive after the next write returned. */
const OWN_VERSIONS_KEPT = 4;

export interface StatusSource {
  /**
   * The status to write for this Runner now, with the digest of the status the cache has and the cache's
   * resourceVersion of the Runner; null if gone.
   */
  render(key: string): { uid: string; desired: RunnerStatus; currentDigest: string; resourceVersion?: string } | null;
}

export interface StatusWriterOptions {
  client: KubeClient;
  queue: WriteQueue;
  source: StatusSource;
  log: Logger;
  /** How long the changes of a Runner whose run started or ended are gathered into one write. */
  coalesceMs: number;
  /** How long other changes are gathered (coalesceMs if absent). */
  settleMs?: number;
  /** Told of each write's outcome: an error text, or null once a write succeeds. */
  onResult(key: string, error: string | null): void;
}

export class StatusWriter {
  private readonly options: StatusWriterOptions;
  /** Runners to write, each with the time (ms, performance.now) its write is due. */
  private readonly dirty = new Map<string, number>();
  /** Runners whose write is queued or in flight: at most one each. */
  private readonly pending = new Map<string, Promise<void>>();
  /** Digest of what we last wrote per Runner, so a write is not repeated before its watch event arrives. */
  private readonly written = new Map<string, string>();
  /** Runners whose status another client changed: their next write compares with the cache, not with what we wrote. */
  private readonly overwritten = new Set<string>();
  /** resourceVersions our own writes produced, the newest few per Runner: their watch events are echoes. */
  private readonly ownVersions = new Map<string, string[]>();
  /** Consecutive failed writes per Runner, for backoff. */
  private readonly failures = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (ms). */
  private timerDue = Infinity;
  private stopped = false;
  writes = 0;
  skipped = 0;
  errors = 0;
  conflicts = 0;

  constructor(options: StatusWriterOptions) {
    this.options = options;
  }

  /** Writes this Runner's status soon: `news` when its run started or ended, else after the longer delay. */
  schedule(key: string, news = false): void {
    if (this.stopped) return;
    const due = performance.now() + (news ? this.options.coalesceMs : (this.options.settleMs ?? this.options.coalesceMs));
    const before = this.dirty.get(key);
    if (before === undefined || due < before) this.dirty.set(key, due);
    this.arm(Math.min(due, before ?? Infinity));
  }

  private arm(due: number): void {
    if (due >= this.timerDue) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.flush(), Math.max(0, due - performance.now()));
  }

  forget(key: string): void {
    this.dirty.delete(key);
    this.written.delete(key);
    this.overwritten.delete(key);
    this.ownVersions.delete(key);
    this.failures.delete(key);
  }

  /**
   * The Runner's status changed on the server. Unless that is one of our own writes coming back,
   * another client wrote it (a stale copy, an emptied status): what we wrote is no longer there,
   * so ours is written again — compared with what the server now holds, so only if it differs.
   */
  statusChanged(key: string, resourceVersion: string | undefined): void {
    if (resourceVersion !== undefined && this.ownVersions.get(key)?.includes(resourceVersion)) return;
    this.overwritten.add(key);
    this.schedule(key);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
  }

  /**
   * Writes at once what waits to be written, and resolves once those writes and the ones in flight are done, or
   * after `timeoutMs`: a leader that stops on purpose (SIGTERM) leaves the statuses of what it did behind it, so the
   * next leader restores those Runners from their snapshots rather than from their Jobs.
   */
  async drain(timeoutMs: number): Promise<void> {
    clearTimeout(this.timer);
    this.flush(Infinity);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.pending.values()), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /**
   * Writes at once what waits to be written for these Runners, and resolves once their writes are done (or after
   * `timeoutMs`): a replica handing Runners over to another leaves their statuses behind it, as a stopping one does.
   */
  async drainKeys(keys: ReadonlySet<string>, timeoutMs: number): Promise<void> {
    const now = performance.now();
    for (const key of keys) if (this.dirty.has(key)) this.dirty.set(key, now);
    this.flush(now);
    const writes = () => [...keys].flatMap((key) => (this.pending.has(key) ? [this.pending.get(key)!] : []));
    const deadline = now + timeoutMs;
    // A write in flight when asked may leave its Runner dirty again (it changed meanwhile): that one is sent too.
    for (let left = writes(); left.length > 0 && performance.now() < deadline; left = writes()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(left), new Promise((resolve) => (timer = setTimeout(resolve, deadline - performance.now())))]);
      clearTimeout(timer);
      for (const key of keys) if (this.dirty.has(key) && !this.pending.has(key)) this.dirty.set(key, performance.now());
      this.flush();
    }
  }

  /** Sends the writes due by `until` (all of them at a drain); arms the timer for the next. */
  private flush(until = performance.now()): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    let next = Infinity;
    for (const [key, due] of this.dirty) {
      if (due > until) {
        next = Math.min(next, due);
        continue;
      }
      if (this.pending.has(key)) continue; // its write renders the newest state when it is sent
      this.pending.set(
        key,
        this.options.queue
          .run('status', () => this.write(key))
          .finally(() => {
            this.pending.delete(key);
            const again = this.dirty.get(key);
            if (again !== undefined) this.arm(again);
          }),
      );
    }
    if (next < Infinity) this.arm(next);
  }

  /**
   * The newest version of the Runner known here: the cache's, or the one our own last write produced while its
   * echo has not reached the cache yet (so two writes in quick succession do not conflict with each other).
   */
  private preconditionFor(key: string, cached: string | undefined): string | undefined {
    const own = this.ownVersions.get(key);
    const newestOwn = own?.[0];
    if (cached === undefined || newestOwn === undefined) return cached ?? newestOwn;
    const order = compareResourceVersions(newestOwn, cached);
    if (order !== null) return order === 1 ? newestOwn : cached;
    // Opaque versions: a cache that still shows one of our older writes lags behind our newest.
    return own!.includes(cached) ? newestOwn : cached;
  }

  private async write(key: string): Promise<void> {
    this.dirty.delete(key);
    if (this.stopped) return;
    const rendered = this.options.source.render(key);
    if (!rendered) return;
    const desired = statusDigest(rendered.desired);
    // What the server has is what we last wrote, if we wrote since the cache last caught up;
    // comparing with a cache that lags behind our own write would skip a needed one.
    const overwritten = this.overwritten.delete(key);
    if ((overwritten ? rendered.currentDigest : (this.written.get(key) ?? rendered.currentDigest)) === desired) {
      this.skipped += 1;
      return;
    }
    const { namespace, name } = parseKey(key);
    const precondition = this.preconditionFor(key, rendered.resourceVersion);
    // The whole status, only onto the Runner it was rendered for (not a namesake created since), and only over
    // the version last seen: the server answers 409 if the Runner changed since.
    const patch = [
      { op: 'test', path: '/metadata/uid', value: rendered.uid },
      ...(precondition ? [{ op: 'replace', path: '/metadata/resourceVersion', value: precondition }] : []),
      { op: 'add', path: '/status', value: rendered.desired },
    ];
    const path = objectPath(API_VERSION, PLURAL, namespace, name, 'status');
    try {
      // Only the new resourceVersion is read from the answer: the server sends the metadata, not the status again.
      const answer = await this.options.client.patch<{ metadata?: { resourceVersion?: string } }>(path, patch, 'application/json-patch+json', METADATA_ONLY);
      this.writes += 1;
      this.written.set(key, desired);
      const version = answer.metadata?.resourceVersion;
      if (version) this.ownVersions.set(key, [version, ...(this.ownVersions.get(key) ?? [])].slice(0, OWN_VERSIONS_KEPT));
      this.failures.delete(key);
      this.options.onResult(key, null);
    } catch (err) {
      if (err instanceof ApiError && err.code === 429) throw err; // the queue waits and sends it again
      const code = (err as { code?: number }).code;
      if (code === 404 || code === 422) return; // gone, or replaced by a namesake: its own events follow
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      if (code === 409) {
        // Changed since this replica last saw it: written again over the newer version, compared with what it holds.
        this.conflicts += 1;
        this.overwritten.add(key);
        const retryMs = backoffDelay(CONFLICT_RETRY_BACKOFF, failures - 1);
        this.options.log.info({ runner: key, resourceVersion: precondition, retryMs }, 'status write conflicted with a newer version of the Runner; will write over the newer one');
        if (failures >= CONFLICTS_BEFORE_ERROR) this.options.onResult(key, `status write failed: ${failures} conflicts in a row: ${errorText(err)}`);
        setTimeout(() => this.schedule(key, true), retryMs);
        return;
      }
      this.errors += 1;
      const retryMs = backoffDelay(WRITE_RETRY_BACKOFF, failures - 1);
      this.options.log.warn({ runner: key, err: errorText(err), retryMs }, 'status write failed; will retry');
      this.options.onResult(key, `status write failed: ${errorText(err)}`);
      setTimeout(() => this.schedule(key, true), retryMs);
    }
  }
}

// Writes Runner statuses: coalesced per Runner, skipped when nothing would change, through the
// status lane of the write queue, and as a JSON patch replacing the whole status (no
// resourceVersion, so no conflicts to retry; a `test` of the uid instead). Not a merge patch:
// there a null deletes, and the snapshot holds nulls. The status is rendered when its write is
// sent, not when it is asked for, so a Runner that changes while its write waits is written once.
import type { Logger } from 'pino';
import { API_VERSION, PLURAL, type RunnerStatus } from '../api/runner.ts';
import { objectPath } from '../k8s/api-paths.ts';
import type { KubeClient } from '../k8s/client.ts';
import { ApiError } from '../k8s/client.ts';
import { errorText } from '../k8s/informer.ts';
import { parseKey } from '../k8s/object-key.ts';
import type { WriteQueue } from '../k8s/write-queue.ts';
import { backoffDelay, type BackoffPolicy } from '../time/backoff.ts';
import { statusDigest } from './cached-objects.ts';

const WRITE_RETRY_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

/** Enough for the echoes of writes in quick succession whose watch events arrive after the next write returned. */
const OWN_VERSIONS_KEPT = 4;

export interface StatusSource {
  /** The status to write for this Runner now, with the digest of the status the cache has; null if gone. */
  render(key: string): { uid: string; desired: RunnerStatus; currentDigest: string } | null;
}

export interface StatusWriterOptions {
  client: KubeClient;
  queue: WriteQueue;
  source: StatusSource;
  log: Logger;
  coalesceMs: number;
  /** Told of each write's outcome: an error text, or null once a write succeeds. */
  onResult(key: string, error: string | null): void;
}

export class StatusWriter {
  private readonly options: StatusWriterOptions;
  private readonly dirty = new Set<string>();
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
  private stopped = false;
  writes = 0;
  skipped = 0;
  errors = 0;

  constructor(options: StatusWriterOptions) {
    this.options = options;
  }

  schedule(key: string): void {
    if (this.stopped) return;
    this.dirty.add(key);
    this.timer ??= setTimeout(() => this.flush(), this.options.coalesceMs);
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
  }

  /**
   * Writes at once what waits to be written, and resolves once those writes and the ones in flight are done, or
   * after `timeoutMs`: a leader that stops on purpose (SIGTERM) leaves the statuses of what it did behind it, so the
   * next leader restores those Runners from their snapshots rather than from their Jobs.
   */
  async drain(timeoutMs: number): Promise<void> {
    clearTimeout(this.timer);
    this.flush();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.pending.values()), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  private flush(): void {
    this.timer = undefined;
    for (const key of this.dirty) {
      if (this.pending.has(key)) continue; // its write renders the newest state when it is sent
      this.pending.set(
        key,
        this.options.queue
          .run('status', () => this.write(key))
          .finally(() => {
            this.pending.delete(key);
            if (this.dirty.has(key)) this.schedule(key);
          }),
      );
    }
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
    // The whole status, and only onto the Runner it was rendered for (not a namesake created since).
    const patch = [
      { op: 'test', path: '/metadata/uid', value: rendered.uid },
      { op: 'add', path: '/status', value: rendered.desired },
    ];
    const path = objectPath(API_VERSION, PLURAL, namespace, name, 'status');
    try {
      const answer = await this.options.client.patch<{ metadata?: { resourceVersion?: string } }>(path, patch, 'application/json-patch+json');
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
      this.errors += 1;
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const retryMs = backoffDelay(WRITE_RETRY_BACKOFF, failures - 1);
      this.options.log.warn({ runner: key, err: errorText(err), retryMs }, 'status write failed; will retry');
      this.options.onResult(key, `status write failed: ${errorText(err)}`);
      setTimeout(() => this.schedule(key), retryMs);
    }
  }
}

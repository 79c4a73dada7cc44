// Writes Runner statuses: coalesced per Runner, skipped when nothing would change, and as a
// JSON patch replacing the whole status (no resourceVersion, so no conflicts to retry; a `test`
// of the uid instead). Not a merge patch: there a null deletes, and the snapshot holds nulls.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, PLURAL, VERSION, type RunnerStatus } from './api/runner.ts';
import { canonicalJson } from './canonical-json.ts';
import { errorText } from './k8s/informer.ts';

export interface StatusSource {
  /** The status to write for this Runner now, with the status it has in the cache; null if gone. */
  render(key: string): { uid: string; desired: RunnerStatus; current: RunnerStatus | undefined } | null;
}

export class StatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly dirty = new Set<string>();
  private readonly inFlight = new Set<string>();
  /** What we last wrote per Runner, so a write is not repeated before its watch event arrives. */
  private readonly written = new Map<string, string>();
  /** Consecutive failed writes per Runner, for backoff. */
  private readonly failures = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  writes = 0;
  skipped = 0;

  private readonly source: StatusSource;
  private readonly log: Logger;
  private readonly coalesceMs: number;
  private readonly onError: (key: string, error: string | null) => void;

  constructor(
    kc: KubeConfig,
    source: StatusSource,
    log: Logger,
    coalesceMs: number,
    onError: (key: string, error: string | null) => void,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.source = source;
    this.log = log;
    this.coalesceMs = coalesceMs;
    this.onError = onError;
  }

  schedule(key: string): void {
    this.dirty.add(key);
    this.timer ??= setTimeout(() => this.flush(), this.coalesceMs);
  }

  forget(key: string): void {
    this.dirty.delete(key);
    this.written.delete(key);
    this.failures.delete(key);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    for (const key of [...this.dirty]) {
      if (this.inFlight.has(key)) continue; // written again when the current write ends
      this.dirty.delete(key);
      void this.write(key);
    }
  }

  private async write(key: string): Promise<void> {
    const rendered = this.source.render(key);
    if (!rendered) return;
    const desiredText = canonicalJson(rendered.desired);
    // What the server has is what we last wrote, if we wrote since the cache last caught up;
    // comparing with a cache that lags behind our own write would skip a needed one.
    const serverText = this.written.get(key) ?? canonicalJson(rendered.current ?? null);
    if (serverText === desiredText) {
      this.skipped += 1;
      return;
    }
    const [namespace, name] = key.split('/') as [string, string];
    // The whole status, and only onto the Runner it was rendered for (not a namesake created since).
    const patch = [
      { op: 'test', path: '/metadata/uid', value: rendered.uid },
      { op: 'add', path: '/status', value: rendered.desired },
    ];
    this.inFlight.add(key);
    try {
      await this.api.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: patch },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
      this.writes += 1;
      this.written.set(key, desiredText);
      this.failures.delete(key);
      this.onError(key, null);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404 || code === 422) return; // gone, or replaced by a namesake: its own events follow
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const retryMs = Math.min(500 * 2 ** (failures - 1), 30_000);
      this.log.warn({ runner: key, err: errorText(err), retryMs }, 'status write failed; will retry');
      this.onError(key, `status write failed: ${errorText(err)}`);
      setTimeout(() => this.schedule(key), retryMs);
    } finally {
      this.inFlight.delete(key);
      if (this.dirty.has(key)) this.timer ??= setTimeout(() => this.flush(), this.coalesceMs);
    }
  }
}

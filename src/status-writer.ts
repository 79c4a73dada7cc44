// Writes Runner statuses: coalesced per Runner, skipped when nothing would change, and as a
// JSON patch of the status subresource (no resourceVersion, so no conflicts to retry). Not a
// merge patch: in a merge patch a null deletes, and the actor snapshot holds meaningful nulls.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, PLURAL, VERSION, type RunnerStatus } from './api/runner.ts';
import { canonicalJson } from './assess.ts';
import { errorText } from './k8s/informer.ts';

export interface StatusSource {
  /** The status to write for this Runner now, with the status it currently has; null if gone. */
  render(key: string): { desired: RunnerStatus; current: RunnerStatus | undefined } | null;
}

export type PatchOperation = { op: 'add'; path: string; value: unknown } | { op: 'remove'; path: string };

/** JSON patch operations turning `current` into `desired` (top-level fields); null when equal. */
export function statusPatch(current: RunnerStatus | undefined, desired: RunnerStatus): PatchOperation[] | null {
  if (current === undefined) return [{ op: 'add', path: '/status', value: desired }];
  const ops: PatchOperation[] = [];
  const before = current as Record<string, unknown>;
  const after = desired as Record<string, unknown>;
  for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const next = after[field];
    if (next === undefined) ops.push({ op: 'remove', path: `/status/${field}` });
    else if (canonicalJson(before[field]) !== canonicalJson(next)) ops.push({ op: 'add', path: `/status/${field}`, value: next });
  }
  return ops.length > 0 ? ops : null;
}

export class StatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly dirty = new Set<string>();
  private readonly inFlight = new Set<string>();
  /** What we last wrote per Runner, so a write is not repeated before its watch event arrives. */
  private readonly written = new Map<string, string>();
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
    const patch = statusPatch(rendered.current, rendered.desired);
    if (!patch || this.written.get(key) === desiredText) {
      this.skipped += 1;
      return;
    }
    const [namespace, name] = key.split('/') as [string, string];
    this.inFlight.add(key);
    try {
      await this.api.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: patch },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
      this.writes += 1;
      this.written.set(key, desiredText);
      this.onError(key, null);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404) return; // the Runner is gone; its delete event cleans up
      this.log.warn({ runner: key, err: errorText(err) }, 'status write failed; will retry');
      this.onError(key, `status write failed: ${errorText(err)}`);
      setTimeout(() => this.schedule(key), 1000);
    } finally {
      this.inFlight.delete(key);
      if (this.dirty.has(key)) this.timer ??= setTimeout(() => this.flush(), this.coalesceMs);
    }
  }
}

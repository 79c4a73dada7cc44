// When a watch cache opens its next LIST or WATCH after the last one ended: client-go's reflector's
// rules, pure. A watch that ends having proved nothing (no event, open under a second: client-go's
// "very short watch") is a failure, however cleanly it ended; the backoff is reset only by a watch that
// proved the way to the server works (it lasted, or delivered events), so that a server or proxy that
// accepts every watch and closes it at once, or answers every one with 410 Gone, is asked ever less often
// instead of in a hot loop. 410s are counted apart from failures: a 410 once the way to the server is
// back (after a partition, a restart) is routine, and its LIST should not wait on the failures before it.
import { Backoff, type BackoffPolicy } from '../time/backoff.ts';

/** client-go's threshold: a watch open for less than this with no event proved nothing. */
export const VERY_SHORT_WATCH_MS = 1_000;

/** From 0.5 s to 30 s between attempts, with the default jitter. */
export const RESTART_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

/** How the last watch went (all zero when it never opened, e.g. its LIST failed). */
export interface WatchRun {
  opened: boolean;
  /** Milliseconds from the server's acceptance to the end. */
  openMs: number;
  /** Events delivered (bookmarks included, ERROR not). */
  events: number;
}

/** How the last LIST-and-watch ended. */
export type WatchEnd =
  /** The server ended the watch (its timeout, or a close). */
  | { kind: 'ended' }
  /** 410 Gone: the resourceVersion is too old; a LIST is needed. */
  | { kind: 'gone' }
  /** The LIST or WATCH failed; a 429 may say how long to wait. */
  | { kind: 'failed'; retryAfterMs?: number }
  /** The cache ended it on purpose, to list again. */
  | { kind: 'resync' };

export interface Restart {
  /** How long to wait before the next LIST or WATCH. */
  waitMs: number;
  /** Whether this counts (and is told) as a failure of the watch. */
  failed: boolean;
}

/** The ends in a row that proved nothing, counted apart: failures (very short watches among them), and 410s. */
export class RestartBackoff {
  readonly failures: Backoff;
  readonly expiries: Backoff;

  constructor(policy: BackoffPolicy = RESTART_BACKOFF, random?: () => number) {
    this.failures = new Backoff(policy, random);
    this.expiries = new Backoff(policy, random);
  }
}

/** The watch showed that the server and the way to it work: it delivered events or stayed open. */
export const provedHealthy = (run: WatchRun): boolean => run.opened && (run.events > 0 || run.openMs >= VERY_SHORT_WATCH_MS);

/** What to do after a watch ended; `backoff` counts the ends in a row that proved nothing. */
export function restartAfter(end: WatchEnd, run: WatchRun, backoff: RestartBackoff): Restart {
  if (provedHealthy(run)) {
    backoff.failures.reset();
    backoff.expiries.reset();
  }
  switch (end.kind) {
    case 'resync':
      return { waitMs: 0, failed: false };
    case 'ended':
      // The routine end of a watch that worked: the next one at once. One that proved nothing: a failure.
      return provedHealthy(run) ? { waitMs: 0, failed: false } : { waitMs: backoff.failures.next(), failed: true };
    case 'gone': {
      // The first 410 after a watch that worked is routine (history compacted while it was away): list at
      // once. 410s in a row are a storm (a restored etcd, a proxy rejecting every resourceVersion): back off.
      const first = backoff.expiries.attempts === 0;
      const waitMs = backoff.expiries.next();
      return { waitMs: first ? 0 : waitMs, failed: false };
    }
    case 'failed':
      return { waitMs: Math.max(backoff.failures.next(), end.retryAfterMs ?? 0), failed: true };
  }
}

// What each Notification has delivered (or had cancelled by its Destination's suspension), per Runner, kept where a
// restart and a new leader find it: the Notification's own status.delivered (README "Notifications"). Each entry holds short digests of the ids of the
// Runner's latest happenings and the time of the newest; entries older than the delivery horizon are dropped, since
// nothing that old is sent again anyway. Written after each delivery, as a merge patch of the entries that changed
// only, one write at a time per Notification and at most one per WRITE_SPACING_MS (a burst of deliveries is one write),
// in the status lane of the write queue (behind Job creates): the window in which a delivered notice is not yet
// recorded is that spacing, the write's wait and its round trip.
import type { Logger } from 'pino';
import { errorText } from '../k8s/informer.ts';
import { backoffDelay, type BackoffPolicy } from '../time/backoff.ts';
import type { DeliveredEntry } from './api.ts';

/** Digests kept per Runner: a run's start and end, and a stall. */
const IDS_KEPT = 3;
/**
 * Runners recorded per Notification at most (the newest kept): a Notification's status stays below about 500 KB, far
 * from the API server's 1.5 MiB, however many Runners it hears. One that delivered for more Runners within the hour
 * may send the oldest of them again after a restart.
 */
export const RUNNERS_KEPT = 5_000;
const WRITE_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };
export const WRITE_SPACING_MS = 1_000;

export interface LedgerOptions {
  log: Logger;
  now: () => number;
  horizonMs: number;
  /** Writes of one Notification's ledger are at least this far apart (default WRITE_SPACING_MS), so a burst of deliveries costs the API server one write. */
  spacingMs?: number;
  /** Writes the changed entries (null: removed) to the Notification's status.delivered. */
  write(notification: string, entries: Record<string, DeliveredEntry | null>): Promise<void>;
}

interface Book {
  entries: Map<string, DeliveredEntry>;
  dirty: Set<string>;
  writing: Promise<void> | null;
  failures: number;
  /** The next write's wait: a retry's backoff, or the spacing after the last write. */
  retry: NodeJS.Timeout | null;
  /** When the next write may start (ms). */
  nextAt: number;
}

export class Ledger {
  private readonly books = new Map<string, Book>();
  private readonly options: LedgerOptions;
  writes = 0;

  constructor(options: LedgerOptions) {
    this.options = options;
  }

  private book(notification: string): Book {
    let book = this.books.get(notification);
    if (!book) {
      book = { entries: new Map(), dirty: new Set(), writing: null, failures: 0, retry: null, nextAt: 0 };
      this.books.set(notification, book);
    }
    return book;
  }

  /**
   * What a Notification's status says was delivered, taken in whenever it is read: at first sight, and each time the
   * status changes, since replicas that share the Runners each record their own deliveries there (a merge patch of
   * the entries they changed) and one that takes a Runner over must know what its previous owner sent. A digest
   * delivered by anyone counts as delivered; what this replica recorded and has not written yet is kept.
   */
  merge(notification: string, delivered: Record<string, DeliveredEntry> | undefined): void {
    const book = this.book(notification);
    for (const [runner, entry] of Object.entries(delivered ?? {})) {
      if (!entry || typeof entry.at !== 'string' || !Array.isArray(entry.ids)) continue;
      const ids = entry.ids.filter((i) => typeof i === 'string');
      const mine = book.entries.get(runner);
      if (!mine) {
        book.entries.set(runner, { at: entry.at, ids });
        continue;
      }
      if (ids.every((i) => mine.ids.includes(i)) && mine.at >= entry.at) continue;
      // Theirs first, then ours: the newest IDS_KEPT are kept, and ours are the ones this replica may be asked about.
      const merged = [...ids.filter((i) => !mine.ids.includes(i)), ...mine.ids].slice(-IDS_KEPT);
      book.entries.set(runner, { at: mine.at > entry.at ? mine.at : entry.at, ids: merged });
    }
  }

  has(notification: string, runner: string, digest: string): boolean {
    return this.books.get(notification)?.entries.get(runner)?.ids.includes(digest) === true;
  }

  record(notification: string, runner: string, digest: string, at: string): void {
    const book = this.book(notification);
    const entry = book.entries.get(runner);
    const ids = [...(entry?.ids ?? []).filter((i) => i !== digest), digest].slice(-IDS_KEPT);
    const newest = entry && entry.at > at ? entry.at : at;
    book.entries.delete(runner); // a Map keeps insertion order: the least recently recorded come first
    book.entries.set(runner, { at: newest, ids });
    book.dirty.add(runner);
    for (const [old] of book.entries) {
      if (book.entries.size <= RUNNERS_KEPT) break;
      book.entries.delete(old);
      book.dirty.add(old);
    }
    this.flush(notification);
  }

  /** A deleted Notification: nothing of it is written any more. */
  forget(notification: string): void {
    const book = this.books.get(notification);
    if (book?.retry) clearTimeout(book.retry);
    this.books.delete(notification);
  }

  /** Resolves once what was recorded has been written (or `ms` passed): a stopping operator's last writes, sent without waiting out a backoff. */
  async drain(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    const pause = (wait: number) => new Promise((r) => setTimeout(r, Math.max(1, wait)));
    // Each book is written at once, once; after that (a write failed) its backoff is kept.
    const forced = new Set<string>();
    for (;;) {
      const pending = [...this.books.entries()].filter(([, b]) => b.writing || b.retry || b.dirty.size > 0);
      if (pending.length === 0 || Date.now() >= deadline) return;
      for (const [n, b] of pending) {
        if (forced.has(n) || b.writing) continue;
        forced.add(n);
        if (b.retry) clearTimeout(b.retry);
        b.retry = null;
        this.flush(n, true);
      }
      await Promise.race([Promise.allSettled(pending.map(([, b]) => b.writing)), pause(deadline - Date.now())]);
      await pause(10);
    }
  }

  private flush(notification: string, now = false): void {
    const book = this.books.get(notification);
    if (!book || book.writing || book.retry || book.dirty.size === 0) return;
    const wait = book.nextAt - this.options.now();
    if (wait > 0 && !now) {
      book.retry = setTimeout(() => {
        book.retry = null;
        this.flush(notification);
      }, wait);
      book.retry.unref();
      return;
    }
    book.nextAt = this.options.now() + (this.options.spacingMs ?? WRITE_SPACING_MS);
    const cutoff = new Date(this.options.now() - this.options.horizonMs).toISOString();
    const entries: Record<string, DeliveredEntry | null> = {};
    for (const runner of book.dirty) entries[runner] = book.entries.get(runner) ?? null;
    for (const [runner, entry] of book.entries) {
      if (entry.at < cutoff) {
        book.entries.delete(runner);
        entries[runner] = null;
      }
    }
    book.dirty.clear();
    book.writing = this.options
      .write(notification, entries)
      .then(() => {
        this.writes += 1;
        book.failures = 0;
      })
      .catch((err: unknown) => {
        if (this.books.get(notification) !== book) return;
        if ((err as { code?: number }).code === 404) return void this.books.delete(notification); // the Notification is gone
        // What failed is written again with what changed since (a removal stays a removal).
        for (const [runner, entry] of Object.entries(entries)) if (entry || !book.entries.has(runner)) book.dirty.add(runner);
        const delay = backoffDelay(WRITE_BACKOFF, book.failures++);
        this.options.log.warn({ notification, err: errorText(err), retryInMs: delay }, 'could not record delivered notifications; retrying');
        book.retry = setTimeout(() => {
          book.retry = null;
          this.flush(notification);
        }, delay);
        book.retry.unref();
      })
      .finally(() => {
        book.writing = null;
        this.flush(notification);
      });
  }
}

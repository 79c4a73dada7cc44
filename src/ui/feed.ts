// The watch of Runners, fanned out to every open page as Server-Sent Events (GET /api/events): one subscription to the
// source, however many pages listen. A page gets the whole list first (`snapshot`), then each change (`upsert`,
// `delete`, `health`); EventSource reconnects by itself after a lost connection and gets a new snapshot.
import type { ServerResponse } from 'node:http';
import { runnerRow, runnerRows } from './views.ts';
import { scopeWords, type SourceChange, type UiSource } from './source.ts';

/** One event in the text/event-stream format. JSON.stringify writes no line breaks, so the data is one line. */
export const sseFrame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** The frame a change of the source becomes. */
export function changeFrame(change: SourceChange): string {
  switch (change.kind) {
    case 'upsert':
      return sseFrame('upsert', runnerRow(change.runner));
    case 'delete': {
      const { key, namespace, name } = runnerRow(change.runner);
      return sseFrame('delete', { key, namespace, name });
    }
    case 'health':
      return sseFrame('health', change.health);
  }
}

export const snapshotFrame = (source: UiSource): string =>
  sseFrame('snapshot', { scope: scopeWords(source.scope), allNamespaces: !('namespace' in source.scope), rows: runnerRows(source.runners()), health: source.health() });

/** A comment line every so often keeps proxies and the browser from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** What one client's stream may hold unread before it is dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export class Feed {
  private readonly clients = new Set<ServerResponse>();
  private readonly unsubscribe: () => void;
  private readonly keepalive: NodeJS.Timeout;
  private readonly source: UiSource;

  constructor(source: UiSource) {
    this.source = source;
    this.unsubscribe = source.subscribe((change) => this.broadcast(changeFrame(change)));
    this.keepalive = setInterval(() => this.broadcast(': keepalive\n\n'), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** Turns a response into a stream of events until the page goes away. */
  attach(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    // How long EventSource waits before reconnecting after the stream broke.
    res.write('retry: 2000\n\n');
    res.write(snapshotFrame(this.source));
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  private broadcast(frame: string): void {
    for (const res of this.clients) {
      // A reader that stopped reading (a suspended tab) is dropped rather than buffered without end; its
      // EventSource reconnects when it reads again and gets a fresh snapshot.
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(frame);
    }
  }

  /** Ends every stream (the server is stopping). */
  close(): void {
    clearInterval(this.keepalive);
    this.unsubscribe();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

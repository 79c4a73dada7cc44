// A LIST read a page at a time, as the API server hands it out with `limit` and `continue`.
import type { KubeClient, Query } from './client.ts';

/** One page of a LIST: its items, and the list's metadata (resourceVersion, continue, shardInfo). */
export interface ListPage<T> {
  metadata?: { resourceVersion?: string; continue?: string; shardInfo?: { selector?: string } };
  items?: T[];
}

/** The pages of a LIST of `path`, `limit` items each, in order; stopping early (break) asks for no more. */
export async function* listPages<T>(client: Pick<KubeClient, 'get'>, path: string, query: Query, limit: number): AsyncGenerator<ListPage<T>> {
  let continueToken: string | undefined;
  do {
    const page = await client.get<ListPage<T>>(path, { ...query, limit, continue: continueToken });
    yield page;
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);
}

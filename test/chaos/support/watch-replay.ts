// Evidence that a watch got 410 Gone: the operator's own watch requests, from the audit log, and
// what the API server answers when the same watch is asked again.
import { Watch } from '@kubernetes/client-node';
import { requestsBy } from '../../integration/support/audit.ts';
import { OPERATOR_USER } from '../../integration/support/identity.ts';
import { kc } from '../../integration/support/kube.ts';

export interface WatchRequest {
  path: string;
  resourceVersion: number;
  at: number;
}

/** The operator's watch requests received at or after `since` that resumed from a resourceVersion. */
export function operatorWatchesSince(since: number): WatchRequest[] {
  return requestsBy(OPERATOR_USER, new Date(since))
    .filter((e) => e.verb === 'watch')
    .map((e) => {
      const url = new URL(e.requestURI, 'https://api');
      return { path: url.pathname, resourceVersion: Number(url.searchParams.get('resourceVersion') ?? 0), at: Date.parse(e.requestReceivedTimestamp) };
    })
    .filter((w) => w.resourceVersion > 0);
}

/** The first thing the API server says to a watch of `path` from `resourceVersion`: an event type, or ERROR with its code. */
export async function firstWatchAnswer(path: string, resourceVersion: number): Promise<{ type: string; code?: number }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    let controller: AbortController | undefined;
    const answer = (a: { type: string; code?: number }) => {
      if (answered) return;
      answered = true;
      controller?.abort();
      resolve(a);
    };
    new Watch(kc)
      .watch(path, { resourceVersion: String(resourceVersion) }, (type, object: { code?: number }) => answer(type === 'ERROR' ? { type, code: object.code! } : { type }), (err) => {
        if (!answered) (err ? reject(err) : answer({ type: 'CLOSED' }));
      })
      .then((c) => {
        controller = c;
        if (answered) c.abort();
      }, reject);
  });
}

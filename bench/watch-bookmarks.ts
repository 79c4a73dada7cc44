// How often the API server sends a bookmark on a quiet watch that asked for them: the figure the
// operator's watch-silence limit (WATCH_SILENCE_MS, src/k8s/informer.ts) rests on. Prints the
// seconds since the watch opened at each event; stop it with Ctrl-C or `timeout`.
//   test/cluster/with-cluster.sh timeout 330 node bench/watch-bookmarks.ts [/apis/apps/v1/daemonsets]
import { KubeClient } from '../src/k8s/client.ts';
import { loadConnection } from '../src/k8s/kubeconfig.ts';

const client = new KubeClient(await loadConnection());
const path = process.argv[2] ?? '/apis/apps/v1/daemonsets';
const list = await client.get<{ metadata: { resourceVersion: string } }>(path, { limit: 1 });
const opened = Date.now();
await client.watch<{ metadata?: { resourceVersion?: string } }>(
  path,
  { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 600 },
  {
    onEvent: (e) => console.log(`${((Date.now() - opened) / 1000).toFixed(1)} s ${e.type} ${e.object?.metadata?.resourceVersion ?? ''}`),
    signal: new AbortController().signal,
    idleMs: 700_000,
  },
);

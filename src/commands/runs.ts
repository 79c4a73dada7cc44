// `hestia runs RUNNER`: fetches the Runner, its kept Jobs and its Events, and prints the history.
import type { CoreV1Event, V1Job } from '@kubernetes/client-node';
import { apiErrorText, connect } from './kube.ts';
import { formatRunHistory, runHistory } from './run-history.ts';

export async function runsCommand(flags: { namespace?: string; kubeconfig?: string; context?: string; json: boolean }, name: string): Promise<number> {
  const conn = connect(flags);
  const id = `Runner ${conn.namespace}/${name}`;
  const runner = await conn.getRunner(name).catch((err: unknown) => {
    throw new Error(apiErrorText(err, id));
  });
  // Jobs and Events are extra detail: without the right to read them, the status still tells the latest run.
  const [jobs, events] = await Promise.all([
    conn
      .jobsOf(runner)
      .catch((err: unknown) => warn(`jobs of ${id}`, err, [] as V1Job[])),
    conn.core
      .listNamespacedEvent({ namespace: conn.namespace, fieldSelector: `involvedObject.uid=${runner.metadata.uid}` })
      .then((l) => l.items)
      .catch((err: unknown) => warn(`Events of ${id}`, err, [] as CoreV1Event[])),
  ]);
  const history = runHistory(runner, jobs, events);
  process.stdout.write(flags.json ? JSON.stringify({ runner: `${conn.namespace}/${name}`, runs: history }, null, 2) + '\n' : formatRunHistory(runner, history));
  return 0;
}

function warn<T>(what: string, err: unknown, fallback: T): T {
  const e = err as { code?: number; message?: string };
  process.stderr.write(`hestia runs: could not list the ${what} (${e.code ? `HTTP ${e.code}` : (e.message ?? String(err))}); showing the rest\n`);
  return fallback;
}

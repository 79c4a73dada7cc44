// The operator process: load the kubeconfig (in-cluster or KUBECONFIG), start the operator,
// serve /healthz, /readyz and /metrics, and stop cleanly on SIGINT/SIGTERM. With `inspectUrl`
// (`hestia run --inspect`, HESTIA_INSPECT) the Runner actors are inspectable live (src/inspect.ts).
import { createServer, type RequestListener } from 'node:http';
import { hostname } from 'node:os';
import { createRunnerInspector, inspectUrlFrom } from './inspect.ts';
import { KubeClient } from './k8s/client.ts';
import { loadConnection } from './k8s/kubeconfig.ts';
import { watchScopeFrom } from './k8s/watch-scope.ts';
import { LeaderElector, type LeaseSettings } from './leader.ts';
import { createLogger } from './log.ts';
import { tuneHeap } from './memory.ts';
import { Operator } from './operator/operator.ts';

export interface RunOperatorOptions {
  /** Send the Runner actors' inspection events to this WebSocket (Stately inspector protocol). */
  inspectUrl?: string;
}

export async function runOperator(options: RunOperatorOptions = {}): Promise<void> {
  const heapSettings = tuneHeap();
  const log = createLogger();
  log.info({ heapSettings }, 'starting');
  const client = new KubeClient(await loadConnection());
  const inspector = options.inspectUrl ? await createRunnerInspector(options.inspectUrl) : undefined;
  if (inspector) log.info({ url: options.inspectUrl }, 'sending Runner actor inspection events (Stately inspector protocol)');
  const writeConcurrency = Number(process.env.HESTIA_WRITE_CONCURRENCY) || undefined;
  const scope = watchScopeFrom(process.env);
  const operator = new Operator({ client, log, scope, ...(writeConcurrency ? { writeConcurrency } : {}), ...(inspector ? { inspect: inspector.inspect } : {}) });

  const healthPort = Number(process.env.HESTIA_HEALTH_PORT ?? 8081);
  const metricsPort = Number(process.env.HESTIA_METRICS_PORT ?? 8080);
  const handler: RequestListener = (req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200).end('ok');
    if (req.url === '/readyz') return void res.writeHead(operator.ready ? 200 : 503).end(operator.ready ? 'ok' : 'watch caches not in sync');
    if (req.url === '/metrics') {
      const s = operator.stats;
      const lines = [
        `hestia_runners ${s.runners}`,
        `hestia_status_writes_total ${s.statusWrites}`,
        `hestia_status_writes_skipped_total ${s.statusWritesSkipped}`,
        `hestia_watch_restarts_total ${s.watchRestarts}`,
        `hestia_ready ${operator.ready ? 1 : 0}`,
      ];
      return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(lines.join('\n') + '\n');
    }
    res.writeHead(404).end();
  };
  // Probes on the health port, Prometheus on the metrics port (0 turns either off); both answer every path.
  const servers = [healthPort, metricsPort].filter((p) => p > 0).map((p) => createServer(handler).listen(p, '0.0.0.0'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    for (const server of servers) server.close();
    await operator.stop();
    inspector?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const lease = leaseSettingsFrom(process.env);
  if (lease) {
    const elector = new LeaderElector(client, lease, log);
    log.info({ lease: `${lease.namespace}/${lease.name}` }, 'waiting to become leader');
    await elector.acquire();
    // Losing the Lease means another replica may act: stop at once, as controller-runtime does.
    elector.keepRenewing(() => process.exit(1));
  }
  await operator.start();
}

/** Leader election is on with HESTIA_LEADER_ELECTION=true (deploy/manager sets it); off for `make dev` and tests. */
export function leaseSettingsFrom(env: NodeJS.ProcessEnv): LeaseSettings | null {
  if (env.HESTIA_LEADER_ELECTION !== 'true') return null;
  const durationSeconds = Number(env.HESTIA_LEASE_SECONDS ?? 15);
  return {
    namespace: env.POD_NAMESPACE ?? 'hestia-system',
    name: env.HESTIA_LEASE_NAME ?? 'hestia-operator',
    identity: env.POD_NAME ?? `${hostname()}-${process.pid}`,
    durationSeconds,
    retrySeconds: Math.max(1, Math.floor(durationSeconds / 3)),
  };
}

if (import.meta.main) {
  runOperator({ inspectUrl: inspectUrlFrom(process.argv.slice(2), process.env) }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

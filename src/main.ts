// The operator process: load the kubeconfig (in-cluster or KUBECONFIG), start the operator,
// serve /healthz, /readyz and /metrics, and stop cleanly on SIGINT/SIGTERM. With `inspectUrl`
// (`hestia run --inspect`, HESTIA_INSPECT) the Runner actors are inspectable live (src/inspect.ts).
import { createServer, type RequestListener } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { clockFromEnvironment } from './clock.ts';
import { createRunnerInspector, inspectUrlFrom } from './inspect.ts';
import { LeaderElector, leaseSettingsFrom } from './leader.ts';
import { createLogger } from './log.ts';
import { Operator } from './operator.ts';

export interface RunOperatorOptions {
  /** Send the Runner actors' inspection events to this WebSocket (Stately inspector protocol). */
  inspectUrl?: string;
}

export async function runOperator(options: RunOperatorOptions = {}): Promise<void> {
  const log = createLogger();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const inspector = options.inspectUrl ? createRunnerInspector(options.inspectUrl) : undefined;
  if (inspector) log.info({ url: options.inspectUrl }, 'sending Runner actor inspection events (Stately inspector protocol)');
  const operator = new Operator({ kubeConfig, log, clock: clockFromEnvironment(process.env), ...(inspector ? { inspect: inspector.inspect } : {}) });

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
    const elector = new LeaderElector(kubeConfig, lease, log);
    log.info({ lease: `${lease.namespace}/${lease.name}` }, 'waiting to become leader');
    await elector.acquire();
    // Losing the Lease means another replica may act: stop at once, as controller-runtime does.
    elector.keepRenewing(() => process.exit(1));
  }
  await operator.start();
}

if (import.meta.main) {
  runOperator({ inspectUrl: inspectUrlFrom(process.argv.slice(2), process.env) }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

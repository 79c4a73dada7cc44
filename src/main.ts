// The operator process: load the kubeconfig (in-cluster or KUBECONFIG), start the operator,
// serve /healthz, /readyz and /metrics, and stop cleanly on SIGINT/SIGTERM. With `inspectUrl`
// (`hestia run --inspect`, HESTIA_INSPECT) the Runner actors are inspectable live (src/process/inspect.ts).
import { clockFromEnvironment } from './time/clock.ts';
import { serveEndpoints } from './process/endpoints.ts';
import { createRunnerInspector, inspectUrlFrom } from './process/inspect.ts';
import { KubeClient } from './k8s/client.ts';
import { loadConnection } from './k8s/kubeconfig.ts';
import { watchScopeFrom } from './k8s/watch-scope.ts';
import { LeaderElector, leaseSettingsFrom } from './k8s/leader.ts';
import { Membership, shardingSettingsFrom } from './shard/membership.ts';
import { createLogger } from './process/log.ts';
import { tuneHeap } from './process/memory.ts';
import { createMetrics } from './process/metrics.ts';
import { Operator } from './operator/operator.ts';
import { probeOptionsFrom, type ProbeOptions } from './operator/prober.ts';
import { notifyOptionsFrom, type NotifyOptions } from './notify/notifier.ts';

/** Within the pod's grace period (terminationGracePeriodSeconds: 10 in deploy/manager/manager.yaml). */
const STOP_GRACE_MS = 9_500;

export interface RunOperatorOptions {
  /** Send the Runner actors' inspection events to this WebSocket (Stately inspector protocol). */
  inspectUrl?: string;
  /** Whether probes may reach loopback and link-local addresses (HESTIA_PROBE_ALLOW_LOCAL, --allow-local-probes). */
  probes?: ProbeOptions;
  /** Destinations on local addresses (HESTIA_NOTIFY_ALLOW_LOCAL, --allow-local-destinations), across namespaces (HESTIA_NOTIFY_CROSS_NAMESPACE). */
  notify?: NotifyOptions;
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
  const metrics = createMetrics();
  let leading = false;
  // Replicas that share the Runners (HESTIA_SHARDING=true) each act on their own; otherwise one leads, the rest wait.
  const sharding = shardingSettingsFrom(process.env);
  const probes = options.probes ?? probeOptionsFrom([], process.env);
  if (probes.allowLocal) log.warn('probes may reach loopback and link-local addresses (HESTIA_PROBE_ALLOW_LOCAL)');
  const notify = options.notify ?? notifyOptionsFrom([], process.env);
  if (notify.allowLocal) log.warn('notifications may go to loopback and link-local addresses (HESTIA_NOTIFY_ALLOW_LOCAL)');
  const operator = new Operator({ client, log, scope, probes, notify, notifyMetrics: metrics.notify, clock: clockFromEnvironment(process.env), metrics: metrics.runs, ...(writeConcurrency ? { writeConcurrency } : {}), ...(inspector ? { inspect: inspector.inspect } : {}), sharded: sharding !== null });

  const servers = serveEndpoints({
    ports: [Number(process.env.HESTIA_HEALTH_PORT ?? 8081), Number(process.env.HESTIA_METRICS_PORT ?? 8080)],
    ready: () => operator.ready,
    registry: metrics.registry,
  });

  const lease = sharding ? null : leaseSettingsFrom(process.env);
  const elector = lease ? new LeaderElector(client, lease, log) : undefined;
  const membership = sharding
    ? new Membership(client, sharding, log, {
        gain: (slots, readFrom) => {
          const from = performance.now();
          operator.adoptSlots(slots, readFrom).then(
            () => metrics.shard.adopted(slots.length, (performance.now() - from) / 1000),
            (err: unknown) => log.error({ err: String(err) }, 'adopting Runners failed'),
          );
        },
        release: async (slots) => {
          const from = performance.now();
          await operator.releaseSlots(slots);
          metrics.shard.released(slots.length, (performance.now() - from) / 1000);
        },
        // As a leader that lost its Lease: another replica may take these Runners at any moment, so stop at once.
        lost: () => process.exit(1),
      })
    : undefined;
  metrics.observe({ operator, isLeader: () => leading, ...(membership ? { slots: () => membership.slots.size } : {}) });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    for (const server of servers) server.close();
    // A stop that hangs would keep a replica acting past its pod's grace period (and hold a rolling update):
    // say what it waits for and go, before the kubelet's SIGKILL says nothing.
    setTimeout(() => {
      log.error({ signal, waitingFor: operator.stopping, graceMs: STOP_GRACE_MS }, 'did not stop in time; exiting');
      process.exit(1);
    }, STOP_GRACE_MS).unref();
    // No slot taken or given back while the actors stop; the member Lease goes once nothing acts.
    await membership?.halt();
    await operator.stop();
    // Only once nothing acts: give the Lease up, so that the next leader (a rolling update's new
    // pod) takes over at its next retry instead of waiting out the lease duration.
    await elector?.release();
    await membership?.leave();
    inspector?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  if (lease && elector) {
    log.info({ lease: `${lease.namespace}/${lease.name}` }, 'waiting to become leader');
    // False: stopped (a signal) before becoming leader; `stop` exits the process.
    if (!(await elector.acquire())) return;
    // Losing the Lease means another replica may act: stop at once, as controller-runtime does.
    elector.keepRenewing(() => process.exit(1));
  }
  leading = true;
  await operator.start();
  // Only once the caches hold every Runner: the slots this replica takes are the Runners it finds in them.
  if (membership) {
    log.info({ ring: `${sharding!.namespace}/${sharding!.name}`, identity: sharding!.identity }, 'sharing Runners with the other replicas');
    membership.start();
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  runOperator({ inspectUrl: inspectUrlFrom(args, process.env), probes: probeOptionsFrom(args, process.env), notify: notifyOptionsFrom(args, process.env) }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

// The operator's Prometheus metrics (prom-client), on /metrics of the metrics port: Node.js and
// process metrics, runs by namespace, reason and result, the time from "due" to "Job created",
// skipped ticks, Runners by state, status writes, the write queue, watch caches, readiness and
// leadership. docs/operate.md lists them with example queries.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunMetrics } from '../operator/run-metrics.ts';
import type { Operator } from '../operator/operator.ts';
import type { NotifyMetrics } from '../notify/notifier.ts';

export interface OperatorView {
  operator: Operator;
  isLeader(): boolean;
  /** The slots this replica holds, when replicas share the Runners (src/shard/membership.ts). */
  slots?: () => number;
}

/** What a replica that shares the Runners tells of its hand-overs. */
export interface ShardMetrics {
  /** Slots taken; their Runners adopted in `seconds` (read afresh and resumed). */
  adopted(slots: number, seconds: number): void;
  /** Slots given back; their Runners stopped and their statuses written in `seconds`. */
  released(slots: number, seconds: number): void;
}

/** A counter whose value the operator already keeps: read at scrape time. */
function readCounter(registry: Registry, name: string, help: string, labelNames: string[], read: () => [Record<string, string>, number][]): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) if (value > 0) this.inc(labels, value);
    },
  });
}

export function createMetrics(): { registry: Registry; runs: RunMetrics; notify: NotifyMetrics; shard: ShardMetrics; observe(view: OperatorView): void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const started = new Counter({ name: 'hestia_runs_started_total', help: 'Runs started (a Job to create)', labelNames: ['namespace', 'reason'], registers: [registry] });
  const finished = new Counter({
    name: 'hestia_runs_finished_total',
    help: 'Runs finished, by result (Succeeded, Failed, Error: ended by the infrastructure); flaky="true": succeeded after a failed attempt; advisory="true": of an advisory Runner',
    labelNames: ['namespace', 'reason', 'result', 'flaky', 'advisory'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'hestia_trigger_latency_seconds',
    help: 'From the moment a run was due (its inputs satisfied, its tick, its trigger) to its Job created',
    labelNames: ['reason'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const skipped = new Counter({ name: 'hestia_ticks_skipped_total', help: 'Scheduled ticks skipped because the inputs were not satisfied', labelNames: ['namespace'], registers: [registry] });

  const sent = new Counter({ name: 'hestia_notifications_sent_total', help: 'Notices a Destination accepted (2xx), by Destination (namespace/name) and type', labelNames: ['destination', 'type'], registers: [registry] });
  const failedAttempts = new Counter({ name: 'hestia_notification_attempts_failed_total', help: 'Delivery attempts that failed (each retried with backoff unless refused)', labelNames: ['destination', 'type'], registers: [registry] });
  const dropped = new Counter({
    name: 'hestia_notifications_dropped_total',
    help: 'Notices given up on: queue-full (more than 1,000 waiting for the Destination), expired (not delivered within an hour), refused (a 4xx or a forbidden address), cancelled (Notification or Destination deleted or suspended), stopped (left to the next operator)',
    labelNames: ['destination', 'reason'],
    registers: [registry],
  });
  const deliveryLatency = new Histogram({
    name: 'hestia_notification_delivery_seconds',
    help: 'From the moment a happening happened (the run started or ended, the Runner stalled) to its notice accepted by the Destination',
    labelNames: ['type'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const notify: NotifyMetrics = {
    sent: (destination, type, seconds) => {
      sent.inc({ destination, type });
      deliveryLatency.observe({ type }, seconds);
    },
    failed: (destination, type) => failedAttempts.inc({ destination, type }),
    dropped: (destination, reason) => dropped.inc({ destination, reason }),
  };

  const moved = new Counter({ name: 'hestia_shard_slots_moved_total', help: 'Slots of Runners this replica took (direction="in") or gave back (direction="out") as replicas came and went', labelNames: ['direction'], registers: [registry] });
  const handOver = new Histogram({
    name: 'hestia_shard_handover_seconds',
    help: 'How long a hand-over of slots took this replica: step="out", stopping their Runners and writing their statuses; step="in", reading them afresh and resuming their actors',
    labelNames: ['step'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const shard: ShardMetrics = {
    adopted: (slots, seconds) => {
      moved.inc({ direction: 'in' }, slots);
      handOver.observe({ step: 'in' }, seconds);
    },
    released: (slots, seconds) => {
      moved.inc({ direction: 'out' }, slots);
      handOver.observe({ step: 'out' }, seconds);
    },
  };

  const runs: RunMetrics = {
    runStarted: (namespace, reason) => started.inc({ namespace, reason }),
    runFinished: (namespace, reason, result, { flaky, advisory }) => finished.inc({ namespace, reason, result, flaky: String(flaky), advisory: String(advisory) }),
    jobCreated: (_namespace, reason, seconds) => latency.observe({ reason }, Math.max(0, seconds)),
    tickSkipped: (namespace) => skipped.inc({ namespace }),
  };

  const observe = ({ operator, isLeader, slots }: OperatorView) => {
    new Gauge({ name: 'hestia_owned_runners', help: 'Runners this replica acts on (all of them without sharding, while it leads)', registers: [registry], collect() { this.set(operator.ownedRunners); } });
    if (slots) new Gauge({ name: 'hestia_shard_slots', help: 'Slots of the 1,024 this replica holds (replicas sharing the Runners)', registers: [registry], collect() { this.set(slots()); } });
    new Gauge({
      name: 'hestia_runners',
      help: 'Runners by the state of their machine',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [state, count] of operator.runnersByState()) this.set({ state }, count);
      },
    });
    readCounter(registry, 'hestia_status_writes_total', 'Status writes sent', [], () => [[{}, operator.stats.statusWrites]]);
    readCounter(registry, 'hestia_status_writes_skipped_total', 'Status writes not sent because nothing would change', [], () => [[{}, operator.stats.statusWritesSkipped]]);
    readCounter(registry, 'hestia_status_write_errors_total', 'Status writes that failed (each retried with backoff)', [], () => [[{}, operator.stats.statusWriteErrors]]);
    readCounter(registry, 'hestia_status_write_conflicts_total', 'Status writes answered 409: the Runner had changed since this replica saw it (each written again over the newer version)', [], () => [[{}, operator.stats.statusWriteConflicts]]);
    readCounter(registry, 'hestia_actor_failures_total', 'Runner actors stopped by an action that threw (each restarted from its last snapshot, with backoff)', [], () => [[{}, operator.stats.actorFailures]]);
    readCounter(registry, 'hestia_writes_throttled_total', 'Writes the API server refused with 429 (API Priority and Fairness); sent again after Retry-After', [], () => [[{}, operator.stats.writesThrottled]]);
    readCounter(registry, 'hestia_watch_restarts_total', 'Watches re-established after an error, by kind', ['kind'], () => operator.watchCaches.map((c) => [{ kind: c.source.kind }, c.restarts]));
    readCounter(registry, 'hestia_watch_lists_total', 'LISTs made by the watch caches (at start, and after 410 Gone), by kind', ['kind'], () => operator.watchCaches.map((c) => [{ kind: c.source.kind }, c.lists]));
    new Gauge({
      name: 'hestia_write_queue_backlog',
      help: 'Writes waiting for a slot, by lane',
      labelNames: ['lane'],
      registers: [registry],
      collect() {
        for (const [lane, n] of Object.entries(operator.stats.writeBacklog)) this.set({ lane }, n);
      },
    });
    new Gauge({
      name: 'hestia_notification_backlog',
      help: 'Notices waiting for delivery, by Destination',
      labelNames: ['destination'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [destination, n] of operator.notificationBacklog()) this.set({ destination }, n);
      },
    });
    new Gauge({ name: 'hestia_ready', help: '1 when every watch cache is in sync', registers: [registry], collect() { this.set(operator.ready ? 1 : 0); } });
    new Gauge({ name: 'hestia_leader', help: '1 while this process holds the Lease (or runs without leader election)', registers: [registry], collect() { this.set(isLeader() ? 1 : 0); } });
  };

  return { registry, runs, notify, shard, observe };
}

// The operator: watch caches in, actor events out. Each watch event is turned into INPUTS for
// exactly the Runners it concerns (found through indexes, never by listing the cluster), and each
// change of a Runner actor is rendered to its status and written once, coalesced. This file only
// wires the rooms together; each concern lives in its own module beside it.
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import type { RunnerContext, RunnerEvent } from '../../machines/runner.ts';
import { API_VERSION, PLURAL, runnerReference, type Runner } from '../api/runner.ts';
import { sameJson } from '../runner/canonical-json.ts';
import { systemClock, type Clock } from '../time/clock.ts';
import type { KubeClient } from '../k8s/client.ts';
import { eventRecorder, type Recorder } from '../k8s/events.ts';
import type { CacheHealth } from '../k8s/informer.ts';
import { WriteQueue } from '../k8s/write-queue.ts';
import type { WorkloadKind, WorkloadView } from '../runner/readiness/readiness.ts';
import { CLUSTER_WIDE, collectionsIn, type WatchScope } from '../k8s/watch-scope.ts';
import { RunnerActors } from './actors.ts';
import { keptInFull, type CachedRunner } from './cached-objects.ts';
import { Caches } from './caches.ts';
import { runEndReporter } from './run-end.ts';
import { HeldEvents } from './held-events.ts';
import { JobHistory } from './job-history.ts';
import { JobPruner, jobToDelete } from './job-pruner.ts';
import { recoverRun, type RecoveryDeps } from './recovery.ts';
import { historyFromJobs } from '../runner/runs-from-jobs.ts';
import { lastRunStatus } from '../runner/status.ts';
import { runnerEffects } from './runner-effects.ts';
import { NO_RUN_METRICS, type RunMetrics } from './run-metrics.ts';
import { ProbeGates } from './probe-gates.ts';
import { httpProber, type ProbeOptions } from './prober.ts';
import { ResourceInputs } from './resource-inputs.ts';
import { RunnerWork } from './runner-work.ts';
import { assessRunner, verifiedObjects, type InputSources } from './runner-inputs.ts';
import { announceStall } from './stall-notice.ts';
import { parseWorkloadKey, runnerKey, Selections } from './selections.ts';
import { statusFor } from './status-render.ts';
import { StatusWriter } from './status-writer.ts';
import { WorkloadKinds, type WorkloadCache } from './workload-kinds.ts';
import { NO_NOTIFY_METRICS, Notifier, type NotifyMetrics, type NotifyOptions } from '../notify/notifier.ts';
import { Handover } from './handover.ts';

export interface OperatorOptions {
  client: KubeClient;
  log: Logger;
  clock?: Clock;
  /** How long status changes of one Runner whose run started or ended are gathered into one write. */
  statusCoalesceMs?: number;
  /** How long its other status changes are gathered (a rollout, then the run it starts: one write). */
  statusSettleMs?: number;
  /** How long the history limits' Job deletes of one namespace are gathered into one request (default 1 s). */
  jobPruneWindowMs?: number;
  /** Writes in flight at most (status writes, Job creates, Events); the write queue's default if absent. */
  writeConcurrency?: number;
  recorder?: Recorder;
  /** Receives XState inspection events of every Runner actor (`hestia run --inspect`). */
  inspect?: (event: InspectionEvent) => void;
  /** Every namespace (default), or only some (HESTIA_NAMESPACES). */
  scope?: WatchScope;
  /** Told of runs as they start, create their Job and finish (src/process/metrics.ts). */
  metrics?: RunMetrics;
  /** Whether probes may reach loopback and link-local addresses (default: no; SECURITY.md). */
  probes?: ProbeOptions;
  /** Destinations on local addresses, Notifications across namespaces (default: neither; README "Notifications"). */
  notify?: NotifyOptions;
  /** Told of deliveries, failures and drops of notifications (src/process/metrics.ts). */
  notifyMetrics?: NotifyMetrics;
  /**
   * Replicas share the Runners (src/shard/): this one acts on none until given slots (`adoptSlots`), and stops acting
   * on those it gives back (`releaseSlots`). Without it, one replica acts on every Runner.
   */
  sharded?: boolean;
}

/** How long a status change that is not a run's start or end waits for more (src/operator/status-writer.ts). */
const STATUS_SETTLE_MS = 1_000;

/** How long the history limits' deletes in one namespace are gathered: not urgent, and Runners often finish together. */
const JOB_PRUNE_WINDOW_MS = 1_000;

/** How long a stopping operator waits for the statuses it still has to write, and for its Job deletes. */
const STOP_DRAIN_MS = 5_000;

export class Operator {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly recorder: Recorder;
  private readonly queue: WriteQueue;
  private readonly caches: Caches;
  private readonly kinds: WorkloadKinds;
  private readonly selections: Selections;
  private readonly actors: RunnerActors;
  private readonly jobHistory: JobHistory;
  private readonly pruner: JobPruner;
  private readonly statusWriter: StatusWriter;
  private readonly effects: ReturnType<typeof runnerEffects>;
  private readonly scope: WatchScope;
  private readonly resources: ResourceInputs;
  private readonly probes: ProbeGates;
  private readonly notifier: Notifier;
  private readonly work: RunnerWork;
  /** Runners whose own spec, labels or annotations changed since their last reconcile. */
  private readonly changedItself = new Set<string>();
  /** The latest run (key and result) each Runner's status was asked to show. */
  private readonly runMarks = new Map<string, string>();
  private started = false;
  /** Which Runners this replica acts on, when replicas share them; none: every Runner. */
  private readonly handover: Handover | undefined;

  constructor(options: OperatorOptions) {
    const { client, log } = options;
    this.log = log;
    this.clock = options.clock ?? systemClock;
    this.queue = new WriteQueue(log, options.writeConcurrency ? { concurrency: options.writeConcurrency } : {});
    this.recorder = options.recorder ?? eventRecorder(client, this.queue, log, () => this.clock.now());
    this.scope = options.scope ?? CLUSTER_WIDE;
    // Sharing the Runners, a replica caches all of its own Runners and their Jobs, and only what its Runners read of others'.
    this.caches = new Caches(client, log, this.scope, options.sharded ? (uid) => this.handover!.holds(uid) : undefined);
    this.kinds = new WorkloadKinds(client, log, this.scope);
    this.work = new RunnerWork({
      reconcile: (key) => this.reconcile(key),
      deliver: (uid, event) => {
        if (this.owns(uid)) this.actors.deliver(uid, event);
      },
      keyOf: (uid) => this.caches.runnerKeyOfUid(uid),
    });
    const send = (uid: string, event: RunnerEvent) => this.work.send(uid, event);
    this.selections = new Selections({
      runner: (key) => this.caches.upstream(key),
      workloadLabels: (wkey) => {
        const { kind, namespace, name } = parseWorkloadKey(wkey);
        return this.kinds.get(kind, namespace, name)?.metadata.labels;
      },
      namespaceLabels: (ns) => this.caches.namespaceLabels(ns),
    });
    const reassess = (keys: Iterable<string>) => this.reassess(keys);
    this.resources = new ResourceInputs({ client, log, scope: this.scope, now: () => this.clock.now(), namespaceLabels: (ns) => this.caches.namespaceLabels(ns), reassess });
    this.probes = new ProbeGates({ prober: httpProber(options.probes ?? { allowLocal: false }), clock: this.clock, log, changed: (key) => reassess([key]) });
    const isActiveRun = (uid: string, runKey: string) => {
      const run = this.actors.view(uid)?.context.run;
      return run?.key === runKey && run.result === null;
    };
    const runEnd = runEndReporter({
      client,
      log,
      now: () => this.clock.now(),
      runnerByUid: (uid) => this.caches.runnerByUid(uid),
      isActiveRun,
      send,
    });
    this.pruner = new JobPruner({ client, queue: this.queue, log, windowMs: options.jobPruneWindowMs ?? JOB_PRUNE_WINDOW_MS });
    this.effects = runnerEffects({
      client,
      queue: this.queue,
      log,
      recorder: this.recorder,
      now: () => this.clock.now(),
      // Effects of a Runner another replica acts on (an actor given back while a restart of it replayed its events)
      // find no Runner: no Job, no Event.
      runnerByUid: (uid) => (this.owns(uid) ? this.caches.runnerByUid(uid) : undefined),
      cachedJob: (ns, name) => this.caches.jobs.get(ns, name),
      jobOfRun: (uid, runKey) => this.jobHistory.jobOfRun(uid, runKey),
      isActiveRun,
      jobEnded: runEnd.jobEnded,
      deleteJobNow: (namespace, name) => this.pruner.deleteNow(namespace, name),
      verifiedObjects: (uid) => verifiedObjects(this.caches.runnerByUid(uid), this.inputSources),
      blockedMessage: (uid) => this.actors.runtime(this.caches.runnerKeyOfUid(uid) ?? '')?.assessment.blockedMessage ?? null,
      send,
      metrics: options.metrics ?? NO_RUN_METRICS,
      runHappened: (runner, run) => this.notifier.runHappened(runner, run),
    });
    this.actors = new RunnerActors({
      machine: this.effects.machine,
      clock: this.clock,
      log,
      inspect: options.inspect,
      runner: (key) => this.caches.runner(key),
      changed: (key) => {
        this.actors.armTimers(key);
        this.statusWriter.schedule(key, this.runMoved(key));
      },
      stableStateTimedOut: (key) => this.statusWriter.schedule(key),
      historyOf: (uid) => historyFromJobs(this.jobHistory.jobsOf(uid)),
      beforeTick: (key, tick) => this.probes.beforeTick(key, tick, this.actors.runtime(key)?.assessment.satisfiedButProbes === true),
      failed: (key, message) => this.actorFailed(key, message),
      keyOfUid: (uid) => this.caches.runnerKeyOfUid(uid),
      enqueue: send,
    });
    this.jobHistory = new JobHistory({
      log,
      job: (key) => this.caches.job(key),
      runnerByUid: (uid) => this.caches.runnerByUid(uid),
      send,
      jobEnded: runEnd.jobEnded,
      jobFailing: runEnd.jobFailing,
      deleteJob: (job) => this.pruner.delete(jobToDelete(job)),
      owns: (uid) => this.owns(uid),
      now: () => this.now(),
    });
    this.statusWriter = new StatusWriter({
      client,
      queue: this.queue,
      log,
      coalesceMs: options.statusCoalesceMs ?? 100,
      settleMs: options.statusSettleMs ?? STATUS_SETTLE_MS,
      source: { render: (key) => statusFor(key, { runner: this.caches.runner(key), actors: this.actors, jobHistory: this.jobHistory, clock: this.clock }) },
      onResult: (key, error) => this.setReconcileError(key, error),
    });
    this.notifier = new Notifier({
      client,
      log: log.child({ component: 'notifier' }),
      queue: this.queue,
      recorder: this.recorder,
      scope: this.scope,
      now: () => this.clock.now(),
      options: options.notify ?? { allowLocal: false, crossNamespace: false },
      metrics: options.notifyMetrics ?? NO_NOTIFY_METRICS,
      runners: () => [...this.caches.runners.list()].filter((r) => this.owns(r.metadata.uid ?? '') && keptInFull(r)),
      owns: (uid) => this.owns(uid),
    });
    if (options.sharded) {
      this.handover = new Handover({
        client,
        log,
        runners: () => this.caches.runners.list(),
        runnerCollections: collectionsIn(this.scope, API_VERSION, PLURAL),
        actors: this.actors,
        statusWriter: this.statusWriter,
        notifier: this.notifier,
        jobs: this.caches.jobs,
        cache: this.caches,
        resourcesSettled: () => this.resources.settled(),
        keyOfUid: (uid) => this.caches.runnerKeyOfUid(uid),
        adopt: (runners) => this.adopt(runners),
        forget: (key, uid) => this.forgetActor(key, uid),
      });
    }
  }

  /** What the actor of the Runner with this uid holds, for its assessment; null while it has none. */
  private contextOf(uid: string): RunnerContext | null {
    return this.actors.view(uid)?.context ?? null;
  }

  private get inputSources(): InputSources {
    const { caches, kinds, selections, resources, probes, jobHistory, scope } = this;
    const lastRunKnown = (uid: string, shown: Runner) => {
      const context = this.contextOf(uid);
      if (!context) return null;
      return lastRunStatus(shown, context, context.run ? jobHistory.jobOfRun(uid, context.run.key)?.metadata?.name : undefined);
    };
    return { caches, kinds, selections, resources, probes, lastRunKnown, scope, now: () => this.now() };
  }

  private get informers(): CacheHealth[] {
    return [...this.caches.health, ...this.kinds.health];
  }

  /** True once every watch cache is in sync; false while one is being re-established. */
  get ready(): boolean {
    return this.started && this.informers.every((i) => i.synced);
  }

  get stats() {
    return {
      runners: this.caches.runners.size,
      statusWrites: this.statusWriter.writes,
      statusWritesSkipped: this.statusWriter.skipped,
      statusWriteErrors: this.statusWriter.errors,
      statusWriteConflicts: this.statusWriter.conflicts,
      watchRestarts: this.informers.reduce((n, i) => n + i.restarts, 0),
      writesInFlightMax: this.queue.maxInFlight,
      writesThrottled: this.queue.throttled,
      writeBacklog: this.queue.backlog,
      actorFailures: this.actors.failureCount,
    };
  }

  /** How each watch cache is doing (for metrics), those of spec.resources' kinds included. */
  get watchCaches(): CacheHealth[] {
    return [...this.informers, ...this.resources.health];
  }

  /** Notices waiting per Destination (for metrics). */
  notificationBacklog(): Map<string, number> {
    return this.notifier.stats.backlog;
  }

  /** How many Runners are in each state right now (for metrics). */
  runnersByState(): Map<string, number> {
    return this.actors.countByState();
  }

  async start(): Promise<void> {
    // Attached before any wait: what changes while the operator starts is held, and handled once the actors are.
    const held = new HeldEvents();
    this.caches.runners.onChange((prev, cur) => held.handle(() => this.runnerChanged(prev, cur)));
    this.caches.runners.onDelete((r) => held.handle(() => this.runnerDeleted(r)));
    this.caches.jobs.onChange((_, job) => held.handle(() => this.jobHistory.changed(job)));
    this.caches.jobs.onDelete((job) => held.handle(() => this.jobHistory.deleted(job)));
    // A new namespace holds nothing yet; only a label change can change what selectors see.
    this.caches.namespaces?.onChange((prev, cur) => held.handle(() => {
      if (prev && !sameJson(prev.metadata?.labels, cur.metadata?.labels)) this.reassess(new Set([...this.selections.namespaceLabelsChanged(), ...this.resources.namespaceLabelsChanged()]));
    }));
    await Promise.all([this.caches.start(), this.kinds.start()]);
    // Indexes first, from the synced caches; then the actors, restored from status.snapshot;
    // only then fresh inputs, so that a restart by itself changes nothing.
    const runners = [...this.caches.runners.list()];
    held.forget(); // the first LISTs, told as changes: they are these lists
    for (const runner of runners) this.selections.runnerAdded(runner);
    // The kinds Runners name in spec.resources are listed (or found unserved or forbidden) before any actor acts.
    for (const runner of runners) this.resources.runnerChanged(runner);
    await this.resources.settled();
    this.kinds.whenStarted((kind, cache) => this.watchWorkloads(kind, cache));
    for (const job of this.caches.jobs.list()) this.jobHistory.index(job);
    const restored = this.adopt(runners.filter((r) => this.owns(r.metadata.uid ?? '')));
    this.caches.forgetSnapshots();
    const heldEvents = held.release();
    this.started = true;
    this.log.info({ runners: runners.length, restored, heldEvents, namespaces: this.scope.namespaces ?? 'all' }, 'operator started');
    // Notifications follow statuses the API server holds; they never hold up the operator's start or its runs.
    void this.notifier.start().catch((err: unknown) => this.log.error({ err: String(err) }, 'notifications could not start'));
  }

  async stop(): Promise<void> {
    this.started = false;
    this.handover?.stop();
    // No new Job from here on; what the actors did so far is written before the writes stop (5 s at most).
    this.effects.stop();
    // Nothing more reaches the actors (a run started now would have no Job); the next leader reads what it missed.
    this.work.stop();
    this.stopping = 'status writes and Job deletes';
    await Promise.all([this.statusWriter.drain(STOP_DRAIN_MS), this.pruner.drain(STOP_DRAIN_MS)]);
    this.pruner.stop();
    this.stopping = 'notifications';
    await this.notifier.stop();
    this.statusWriter.stop();
    this.queue.stop();
    this.actors.stop();
    this.probes.stop();
    this.stopping = 'watches';
    await Promise.all([this.caches.stop(), this.kinds.stop(), this.resources.stop()]);
    this.stopping = undefined;
  }

  /** What a stop that has not finished is waiting for: a process that must exit says so in its last line. */
  stopping: string | undefined;

  private now(): string {
    return this.clock.now().toISOString();
  }

  // ---- Runners -----------------------------------------------------------------------------

  /** Whether this replica acts on the Runner with this uid. */
  private owns(uid: string): boolean {
    return this.handover?.owns(uid) ?? true;
  }

  /** Runners' actors restored from their snapshots, given their inputs, their runs recovered; returns how many resumed. */
  private adopt(runners: Runner[]): number {
    const restored = this.actors.restore(runners);
    for (const runner of runners) this.addActor(runner);
    for (const runner of runners) recoverRun(runner, this.recoveryDeps());
    // A run that ended while no one acted on it is told before a missed tick may start the next.
    this.work.drainNow();
    for (const runner of runners) this.actors.catchUpMissedTick(runner);
    // Taken over from another replica: news its previous owner may not have sent (before start-up, the notifier is not
    // active yet, and its start considers every Runner).
    this.notifier.adopted(runners);
    return restored;
  }

  /** How many Runners this replica acts on. */
  get ownedRunners(): number {
    return this.actors.size;
  }

  /**
   * This replica now acts on the Runners of these slots (src/operator/handover.ts); `readFrom`, a resourceVersion
   * after all their previous owner wrote (the member Leases' list that gave them).
   */
  adoptSlots(slots: Iterable<number>, readFrom?: string): Promise<void> {
    return this.handover?.adopt(slots, readFrom) ?? Promise.resolve();
  }

  /** This replica stops acting on the Runners of these slots, their statuses written (src/operator/handover.ts). */
  releaseSlots(slots: Iterable<number>): Promise<void> {
    return this.handover?.release(slots) ?? Promise.resolve();
  }

  private addActor(runner: Runner): void {
    const key = runnerKey(runner);
    // A restored actor (start-up) already holds a context; a new Runner's has none yet.
    const rt = this.actors.add(runner, assessRunner(runner, this.contextOf(runner.metadata.uid ?? ''), this.inputSources));
    announceStall(rt, runner, rt.assessment, this.log, this.recorder);
    this.actors.armTimers(key);
    this.statusWriter.schedule(key);
    this.reassess([key]); // its actor is told its inputs by its first reconcile
  }

  private runnerChanged(prev: CachedRunner | undefined, cur: CachedRunner): void {
    if (prev && prev.metadata.uid !== cur.metadata.uid) this.runnerDeleted(prev);
    if (!prev || prev.metadata.uid !== cur.metadata.uid) {
      const concerned = this.selections.runnerAdded(cur);
      this.resources.runnerChanged(cur);
      if (this.owns(cur.metadata.uid ?? '')) {
        this.addActor(cur);
        this.notifier.observe(cur);
      }
      return this.reassess(concerned);
    }
    const key = runnerKey(cur);
    const affected = new Set<string>();
    if (prev.metadata.generation !== cur.metadata.generation || !sameJson(prev.spec, cur.spec)) {
      for (const k of this.selections.selectorsChanged(cur)) affected.add(k);
      this.resources.runnerChanged(cur);
    }
    if (!sameJson(prev.metadata.labels, cur.metadata.labels)) for (const k of this.selections.runnerLabelsChanged(cur)) affected.add(k);
    if (!sameJson(prev.metadata.annotations, cur.metadata.annotations)) affected.add(key);
    // Its status and timers follow its spec and generation too (observedGeneration, advisory, the stable-state timeout).
    if (affected.has(key) || prev.metadata.generation !== cur.metadata.generation) {
      this.changedItself.add(key);
      affected.add(key);
    }
    // Our own status writes come back here: they concern downstream Runners only when the
    // latest run's identity or result moved, and never this Runner itself.
    if (prev.statusDigest !== cur.statusDigest && this.actors.runtime(key)) {
      this.statusWriter.statusChanged(key, cur.metadata.resourceVersion);
      this.notifier.observe(cur);
    }
    const runOf = (r: Runner) => [r.status?.lastRun?.jobName, r.status?.lastRun?.result];
    if (!sameJson(runOf(prev), runOf(cur))) for (const d of this.selections.downstreamOf(key)) affected.add(d);
    this.reassess(affected);
  }

  /** The Runner's actor and all that this replica keeps for it while it acts on it, gone. */
  private forgetActor(key: string, uid: string): void {
    this.actors.remove(key, uid);
    this.effects.forget(uid);
    this.work.forget(key);
    this.changedItself.delete(key);
    this.runMarks.delete(key);
    this.statusWriter.forget(key);
    this.probes.forget(key);
  }

  private runnerDeleted(runner: Runner): void {
    const key = runnerKey(runner);
    this.forgetActor(key, runner.metadata.uid!);
    this.notifier.forget(runner);
    this.resources.runnerRemoved(key);
    this.reassess(this.selections.runnerRemoved(key));
  }

  /** These Runners' inputs may have changed: each is assessed once in the next drain of the work queue. */
  private reassess(keys: Iterable<string>): void {
    this.work.markDirty(keys);
  }

  /** Whether this Runner's latest run started or ended since its actor last changed: news its status tells at once. */
  private runMoved(key: string): boolean {
    const rt = this.actors.runtime(key);
    const run = rt ? this.actors.view(rt.uid)?.context.run : undefined;
    const mark = run ? `${run.key}/${run.result ?? ''}` : '';
    if (this.runMarks.get(key) === mark) return false;
    this.runMarks.set(key, mark);
    return true;
  }

  /** One Runner's reconcile: its inputs assessed from the caches, told to its actor, its stall announced. */
  private reconcile(key: string): void {
    const runner = this.caches.runner(key);
    const rt = this.actors.runtime(key);
    if (!runner || !rt || !this.owns(rt.uid)) return;
    const assessment = assessRunner(runner, this.contextOf(rt.uid), this.inputSources);
    // A change of the actor's snapshot arms its timers and schedules its status by itself (`changed`); here only
    // what else the status shows: the assessment's own part, and the Runner's spec.
    const shownChanged = this.actors.assessed(key, assessment);
    if (this.changedItself.delete(key) || shownChanged) {
      this.actors.armTimers(key);
      this.statusWriter.schedule(key);
    }
    announceStall(rt, runner, assessment, this.log, this.recorder);
  }

  /** A Runner's actor failed (it is restarted by itself): its Runner says so with an Event and in its status. */
  private actorFailed(key: string, message: string): void {
    const runner = this.caches.runner(key);
    if (runner) this.recorder.record(runnerReference(runner), 'Warning', 'ActorFailed', message);
    this.statusWriter.schedule(key);
  }

  private setReconcileError(key: string, error: string | null): void {
    const rt = this.actors.runtime(key);
    if (!rt || rt.reconcileError === error) return;
    rt.reconcileError = error;
    this.statusWriter.schedule(key); // ReconcileSuccess follows, both ways
  }

  // ---- Workloads ---------------------------------------------------------------------------

  /** A workload kind's cache is in sync: index what it holds (it may appear after start-up), then follow it. */
  private watchWorkloads(kind: WorkloadKind, cache: WorkloadCache): void {
    const ref = (o: WorkloadView) => ({ kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' });
    for (const w of cache.list()) this.reassess(this.selections.workloadChanged(ref(w), w.metadata.labels ?? {}, true));
    cache.onChange((prev, cur) => this.reassess(this.selections.workloadChanged(ref(cur), cur.metadata.labels ?? {}, !prev || !sameJson(prev.metadata.labels, cur.metadata.labels))));
    cache.onDelete((w) => this.reassess(this.selections.workloadRemoved(ref(w))));
  }

  private recoveryDeps(): RecoveryDeps {
    const { log, clock, actors, jobHistory, effects, work } = this;
    return {
      log,
      clock,
      view: (uid) => actors.view(uid),
      jobOfRun: (uid, runKey) => jobHistory.jobOfRun(uid, runKey),
      jobChanged: (job) => jobHistory.changed(job),
      ensureJob: (uid, run) => void effects.ensureJob(uid, run),
      send: (uid, event) => work.send(uid, event),
    };
  }
}

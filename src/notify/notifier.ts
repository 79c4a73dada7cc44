// Notifications (README "Notifications"): what happened to Runners in, notices out. The operator tells the notifier
// of each run as it starts and ends (from the Runner actor's actions: a run that ends while the next starts at once is
// told even though no status ever shows its end) and of every Runner whose status the API server now holds changed;
// the notifier reads from them what happened (src/notify/happenings.ts), finds the Notifications that hear that
// Runner (an index by namespace, never a LIST), and queues one notice per Notification on the Destination's own line
// (src/notify/delivery-queue.ts). Runs and status writes never wait on it. What was delivered is recorded in each
// Notification's status (src/notify/ledger.ts), so an operator that starts — a restart, a new leader — sends what the
// statuses say is due and not yet delivered, and nothing twice.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { LastRunStatus, Runner } from '../api/runner.ts';
import { groupVersionPath, objectPath } from '../k8s/api-paths.ts';
import type { KubeClient } from '../k8s/client.ts';
import type { Recorder } from '../k8s/events.ts';
import { errorText } from '../k8s/informer.ts';
import { keyOf, objectKey, parseKey } from '../k8s/object-key.ts';
import type { WriteQueue } from '../k8s/write-queue.ts';
import { watchCache, type WatchCache, type WatchScope } from '../k8s/watch-scope.ts';
import { keepTransitionTime } from '../runner/status.ts';
import type { Condition } from '../runner/kstatus-conditions.ts';
import {
  DELIVERY_HORIZON_MS,
  DESTINATION_KIND,
  DESTINATION_PLURAL,
  NOTIFICATION_KIND,
  NOTIFICATION_PLURAL,
  NOTIFY_API_VERSION,
  type DeliveredEntry,
  type Destination,
  type DestinationType,
  type Notification,
} from './api.ts';
import { DeliveryQueue, type Delivery, type DropReason, type Withheld } from './delivery-queue.ts';
import { DestinationStates } from './destination-states.ts';
import { conditionsSay, destinationReady, FAILING_AFTER } from './destinations.ts';
import { deliveredDigest, happeningFor, noticeOf, occurrencesOf, type Notice, type Occurrence } from './happenings.ts';
import { Ledger } from './ledger.ts';
import { payloadFor } from './payloads.ts';
import { agentFor, post, type Answer } from './sender.ts';
import { hears, notificationReady, sendingCondition, sendingSince, subscriptionOf, usable, type Subscription } from './subscriptions.ts';

export interface NotifyMetrics {
  sent(destination: string, type: DestinationType, seconds: number): void;
  failed(destination: string, type: DestinationType): void;
  dropped(destination: string, reason: DropReason): void;
}

export const NO_NOTIFY_METRICS: NotifyMetrics = { sent: () => {}, failed: () => {}, dropped: () => {} };

export interface NotifyOptions {
  /** Destinations on loopback and link-local addresses (HESTIA_NOTIFY_ALLOW_LOCAL; tests, `make dev`). */
  allowLocal: boolean;
  /** Notifications may hear Runners of other namespaces (HESTIA_NOTIFY_CROSS_NAMESPACE=true; default: only their own). */
  crossNamespace: boolean;
}

export interface NotifierDeps {
  client: KubeClient;
  log: Logger;
  queue: WriteQueue;
  recorder: Recorder;
  scope: WatchScope;
  now: () => Date;
  options: NotifyOptions;
  metrics: NotifyMetrics;
  /** Every Runner in the operator's cache that this replica acts on (read once, when notifications start). */
  runners(): Iterable<Runner>;
  /**
   * Whether this replica acts on the object of this uid (replicas sharing the Runners, src/shard/): it sends only its
   * own Runners' notices, and writes the conditions of only its own Destinations and Notifications. Default: all.
   */
  owns?(uid: string): boolean;
}

/** How often the notifier looks again for its resources when the API server does not serve them yet. */
const SERVED_RECHECK_MS = 60_000;
/** A Destination's Warning Event about dropped notices, at most this often. */
const DROP_EVENT_EVERY_MS = 5 * 60_000;
/**
 * How long a stopping operator waits for deliveries in flight, and then for the ledger's last writes: with the
 * status writes' 5 s, within the process's stop grace (src/main.ts) and the pod's 10 s.
 */
const STOP_DELIVERIES_MS = 2_000;
const STOP_LEDGER_MS = 2_000;
/** Occurrence keys remembered per Runner: a run's start and end, a stall, and those of the run before. */
const SEEN_KEPT = 6;

interface Queued extends Delivery {
  notice: Notice;
  notification: string;
  /** The Notification's uid: one deleted and created again under its name does not send what the old one queued. */
  notificationUid: string;
  runnerUid: string;
}

const stripManaged = <T extends KubernetesObject>(o: KubernetesObject): T => {
  const { managedFields: _m, ...metadata } = o.metadata ?? {};
  return { ...o, metadata } as T;
};

export function notifyOptionsFrom(argv: readonly string[], env: NodeJS.ProcessEnv): NotifyOptions {
  return { allowLocal: env.HESTIA_NOTIFY_ALLOW_LOCAL === 'true' || argv.includes('--allow-local-destinations'), crossNamespace: env.HESTIA_NOTIFY_CROSS_NAMESPACE === 'true' || argv.includes('--allow-cross-namespace-notifications') };
}

export class Notifier {
  private readonly deps: NotifierDeps;
  private readonly destinations: WatchCache<Destination>;
  private readonly notifications: WatchCache<Notification>;
  private readonly subscriptions = new Map<string, Subscription>();
  /** Notification keys by the namespace of the Runners they hear. */
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly states: DestinationStates;
  /** Occurrence keys last read of each Runner (by uid), for Runners some Notification may hear. */
  private readonly seen = new Map<string, readonly string[]>();
  private readonly ledger: Ledger;
  private readonly deliveries: DeliveryQueue<Queued>;
  private active = false;
  private stopped = false;
  private recheck: NodeJS.Timeout | null = null;
  private toldUnserved = false;

  constructor(deps: NotifierDeps) {
    this.deps = deps;
    const { client, log, scope } = deps;
    this.destinations = watchCache<Destination>(client, { apiVersion: NOTIFY_API_VERSION, kind: DESTINATION_KIND, plural: DESTINATION_PLURAL, slim: stripManaged }, log, scope);
    this.notifications = watchCache<Notification>(client, { apiVersion: NOTIFY_API_VERSION, kind: NOTIFICATION_KIND, plural: NOTIFICATION_PLURAL, slim: stripManaged }, log, scope);
    const now = () => deps.now().getTime();
    this.states = new DestinationStates({
      client,
      now,
      allowLocal: deps.options.allowLocal,
      destination: (key) => this.destinations.get(parseKey(key).namespace, parseKey(key).name),
      resolved: (key, canDeliverAgain) => {
        if (canDeliverAgain) this.deliveries.resume(key);
        this.destinationStatus(key);
      },
    });
    this.ledger = new Ledger({ log, now, horizonMs: DELIVERY_HORIZON_MS, write: (n, entries) => this.writeStatus(NOTIFICATION_PLURAL, n, { delivered: entries }) });
    this.deliveries = new DeliveryQueue<Queued>(
      { send: (d) => this.send(d), delivered: (d) => this.delivered(d), failed: (d, reason, streak, retrying) => this.failed(d, reason, streak, retrying), dropped: (d, reason, detail) => this.dropped(d, reason, detail) },
      { now, horizonMs: DELIVERY_HORIZON_MS },
    );
  }

  /** Starts once the API server serves Destinations and Notifications (looking again every minute until it does). */
  async start(): Promise<void> {
    if (this.stopped) return;
    if (!(await this.served())) {
      if (!this.toldUnserved) this.deps.log.info('notifications are off until the Destination and Notification CRDs are installed (looking again every minute)');
      this.toldUnserved = true;
      this.recheck = setTimeout(() => void this.start().catch((err: unknown) => this.deps.log.error({ err: errorText(err) }, 'notifications could not start')), SERVED_RECHECK_MS);
      this.recheck.unref();
      return;
    }
    this.destinations.onChange((_, d) => this.guarded('Destination', () => this.destinationChanged(d)));
    this.destinations.onDelete((d) => this.guarded('Destination', () => this.destinationDeleted(d)));
    this.notifications.onChange((prev, n) => this.guarded('Notification', () => this.notificationChanged(prev, n)));
    this.notifications.onDelete((n) => this.guarded('Notification', () => this.notificationDeleted(n)));
    // Destinations first: a Notification judged before its Destination is known would say DestinationNotFound.
    await this.destinations.start();
    if (this.stopped) return;
    await this.notifications.start();
    if (this.stopped) return;
    this.active = true;
    // What the statuses say happened and the ledgers do not say was delivered, within the horizon, is due now.
    for (const runner of this.deps.runners()) this.guarded('Runner', () => this.consider(runner, occurrencesOf(runner), false));
    this.deps.log.info({ notifications: this.subscriptions.size, destinations: this.destinations.size, due: this.deliveries.size }, 'notifications started');
  }

  /** A mistake in the notifier is logged; it never reaches the watch that called it, nor the Runner it was told of. */
  private guarded(what: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.deps.log.error({ err: errorText(err), what }, 'notifications: could not handle a change');
    }
  }

  private async served(): Promise<boolean> {
    try {
      const list = await this.deps.client.get<{ resources?: { name: string }[] }>(groupVersionPath(NOTIFY_API_VERSION));
      const names = new Set((list.resources ?? []).map((r) => r.name));
      return names.has(DESTINATION_PLURAL) && names.has(NOTIFICATION_PLURAL);
    } catch (err) {
      this.deps.log.warn({ err: errorText(err) }, 'could not learn whether notifications are installed');
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.active = false;
    if (this.recheck) clearTimeout(this.recheck);
    this.states.stop();
    await this.deliveries.stop(STOP_DELIVERIES_MS);
    await this.ledger.drain(STOP_LEDGER_MS);
    this.states.close();
    await Promise.all([this.destinations.stop(), this.notifications.stop()]);
  }

  get stats() {
    return { backlog: this.deliveries.backlog(), ledgerWrites: this.ledger.writes };
  }

  // ---- Runners ----------------------------------------------------------------------------------

  /** A Runner's status (as the API server holds it) may say something new. */
  observe(runner: Runner): void {
    this.guarded('Runner', () => this.consider(runner, occurrencesOf(runner), true));
  }

  /**
   * Runners this replica now acts on (taken over from another): the Notifications that hear them are read afresh
   * first — the watch may not yet have brought what their previous owner recorded as delivered just before it let
   * them go — and then what they did lately is considered, as at start-up.
   */
  adopted(runners: readonly Runner[]): void {
    if (!this.active || runners.length === 0) return;
    const hearing = new Set<string>();
    for (const r of runners) for (const key of this.byNamespace.get(r.metadata.namespace ?? '') ?? []) hearing.add(key);
    void Promise.all([...hearing].map((key) => this.readRecords(key))).then(() => {
      for (const runner of runners) if (this.owned(runner.metadata.uid)) this.guarded('Runner', () => this.consider(runner, occurrencesOf(runner), false));
    });
  }

  /** What the Notification's status says was delivered, read from the API server, not the watch. */
  private async readRecords(key: string): Promise<void> {
    const { namespace, name } = parseKey(key);
    try {
      const n = await this.deps.client.get<Notification>(objectPath(NOTIFY_API_VERSION, NOTIFICATION_PLURAL, namespace, name));
      if (n.metadata.uid === this.subscriptions.get(key)?.uid) this.ledger.merge(key, n.status?.delivered);
    } catch (err) {
      this.deps.log.warn({ notification: key, err: errorText(err) }, 'could not read what a Notification delivered; its watch tells it');
    }
  }

  /** Writes at once what was recorded as delivered (a replica handing Runners over leaves that behind it). */
  writeRecords(ms: number): Promise<void> {
    return this.ledger.drain(ms);
  }

  private owned(uid: string | undefined): boolean {
    return this.deps.owns?.(uid ?? '') ?? true;
  }

  /** A run started or ended (told by the Runner's actor, before any status shows it). */
  runHappened(runner: Runner, run: LastRunStatus): void {
    const view: Runner = { ...runner, status: { ...runner.status, lastRun: run } };
    this.guarded('Runner', () => this.consider(view, occurrencesOf(view).filter((o) => o.kind !== 'stalled'), true));
  }

  /** `live`: seen as it happens (not read back at start-up). */
  private consider(runner: Runner, occurrences: Occurrence[], live: boolean): void {
    if (!this.active) return;
    const namespace = runner.metadata.namespace ?? '';
    const keys = this.byNamespace.get(namespace);
    const uid = runner.metadata.uid ?? '';
    if (!keys || keys.size === 0) return void this.seen.delete(uid);
    const before = this.seen.get(uid) ?? [];
    const fresh = occurrences.filter((o) => !before.includes(o.key));
    if (fresh.length === 0) return;
    this.markSeen(runner, fresh);
    for (const key of keys) {
      const s = this.subscriptions.get(key);
      if (s && usable(s) && hears(s, runner)) this.offer(s, runner, fresh, live);
    }
  }

  private markSeen(runner: Runner, occurrences: readonly Occurrence[]): void {
    const uid = runner.metadata.uid ?? '';
    const before = this.seen.get(uid) ?? [];
    this.seen.set(uid, [...before, ...occurrences.map((o) => o.key).filter((k) => !before.includes(k))].slice(-SEEN_KEPT));
  }

  /** Queues what these occurrences tell the Notification, unless it is too old, from before it could hear, or delivered. */
  private offer(s: Subscription, runner: Runner, occurrences: readonly Occurrence[], live: boolean): void {
    const now = this.deps.now().getTime();
    const runnerKey = keyOf(runner.metadata.namespace ?? '', runner.metadata.name ?? '');
    for (const o of occurrences) {
      const happening = happeningFor(o, s.events);
      // A stall's time is its condition's, which a new reason does not move (Stalled stays True): one seen as it
      // happens happened now.
      const at = live && o.kind === 'stalled' ? now : Date.parse(o.time);
      if (!happening || !(at >= s.usableSince) || now - at > DELIVERY_HORIZON_MS) continue;
      const notice = noticeOf(runner, o, happening);
      if (this.ledger.has(s.key, runnerKey, deliveredDigest(notice.id))) continue;
      const delivery: Queued = { key: `${s.key}|${notice.id}`, destination: s.destination, runner: runnerKey, runnerUid: runner.metadata.uid ?? '', happenedAt: at, attempts: 0, notice, notification: s.key, notificationUid: s.uid };
      const { namespace, name } = parseKey(s.destination);
      if (this.destinations.get(namespace, name)?.spec?.suspend) this.dropped(delivery, 'cancelled', 'its Destination is suspended');
      else this.deliveries.enqueue(delivery);
    }
  }

  /** A Notification that just became able to send: what its Runners' statuses say happened since then is due. */
  private rescan(s: Subscription): void {
    if (!this.active) return;
    for (const runner of this.deps.runners()) {
      if (!hears(s, runner)) continue;
      const occurrences = occurrencesOf(runner);
      // Seen now, so that the Runner's next status does not tell them again as news.
      this.markSeen(runner, occurrences);
      this.offer(s, runner, occurrences, false);
    }
  }

  forget(runner: Runner): void {
    this.seen.delete(runner.metadata.uid ?? '');
  }

  // ---- Deliveries -------------------------------------------------------------------------------

  private async send(d: Queued): Promise<Answer | Withheld> {
    const s = this.subscriptions.get(d.notification);
    if (!s || s.uid !== d.notificationUid || !usable(s) || s.destination !== d.destination) return 'cancelled';
    // Its Runner moved to another replica, which sends it: not recorded as done here.
    if (!this.owned(d.runnerUid)) return 'handed-over';
    const { namespace, name } = parseKey(d.destination);
    const destination = this.destinations.get(namespace, name);
    const state = this.states.get(d.destination);
    if (!destination || destination.spec?.suspend || !state) return 'cancelled';
    const resolution = await this.states.resolution(d.destination, state);
    if (!resolution.ok) return { ok: false, retry: true, reason: resolution.message };
    const { resolved } = resolution;
    const payload = await payloadFor(d.notice, resolved.type, { cloudEventsMode: resolved.mode });
    state.agent ??= agentFor(resolved.target, 2);
    const answer = await post(resolved.target, payload, state.agent);
    // A token rotated in the Secret is read again before the next attempt.
    if (!answer.ok && /^answered 40[13]\b/.test(answer.reason)) state.resolvedAt = 0;
    return answer;
  }

  private delivered(d: Queued): void {
    this.ledger.record(d.notification, d.runner, deliveredDigest(d.notice.id), d.notice.time);
    const state = this.states.get(d.destination);
    this.deps.metrics.sent(d.destination, this.typeOf(d.destination), Math.max(0, this.deps.now().getTime() - d.happenedAt) / 1000);
    this.deps.log.info({ notification: d.notification, destination: d.destination, id: d.notice.id, happening: d.notice.happening, attempts: d.attempts }, 'notification delivered');
    if (state && state.streak >= FAILING_AFTER) this.event(d.destination, 'Normal', 'DeliveryRecovered', `delivering again after ${state.streak} failed attempts`);
    if (state) {
      const wasFailing = state.streak >= FAILING_AFTER;
      state.streak = 0;
      if (wasFailing) this.destinationStatus(d.destination);
    }
  }

  private failed(d: Queued, reason: string, streak: number, retrying: boolean): void {
    this.deps.metrics.failed(d.destination, this.typeOf(d.destination));
    const state = this.states.get(d.destination);
    this.deps.log.warn({ notification: d.notification, destination: d.destination, id: d.notice.id, attempt: d.attempts, reason, retrying }, 'notification not delivered');
    if (!state || !retrying) return;
    state.streak = streak;
    state.lastFailure = reason;
    if (streak === FAILING_AFTER) {
      this.event(d.destination, 'Warning', 'DeliveryFailing', `${streak} deliveries in a row failed, the last: ${reason}; retrying with backoff`);
      this.destinationStatus(d.destination);
    }
  }

  private dropped(d: Queued, reason: DropReason, detail: string): void {
    this.deps.metrics.dropped(d.destination, reason);
    // Each at debug: a receiver that is down drops one per notice; the Warning Event below (and its log) sums them up.
    this.deps.log.debug({ notification: d.notification, destination: d.destination, id: d.notice.id, reason, detail }, 'notification dropped');
    // A notice its Destination's suspension cancelled is recorded as done: it is not sent after a restart either. Others
    // are not: a dead receiver would cost the API server a write per notice dropped; an operator that starts offers
    // such a notice once more, if it is still due (within the hour, its Notification still able).
    if (reason === 'cancelled' && this.subscriptions.get(d.notification)?.uid === d.notificationUid) this.ledger.record(d.notification, d.runner, deliveredDigest(d.notice.id), d.notice.time);
    const state = this.states.get(d.destination);
    if (!state || reason === 'stopped' || reason === 'cancelled') return;
    state.dropped += 1;
    state.lastDrop = `${d.notice.happening} of ${d.runner}): ${reason}: ${detail}`;
    const wait = state.dropEventAt + DROP_EVENT_EVERY_MS - this.deps.now().getTime();
    if (wait <= 0) return this.tellDrops(d.destination);
    // Drops after an Event are told by the next one, even if none follows.
    state.dropTimer ??= setTimeout(() => {
      state.dropTimer = null;
      this.tellDrops(d.destination);
    }, wait);
    state.dropTimer.unref();
  }

  /** The Warning Event (and log line) that sums up the notices dropped since the last one. */
  private tellDrops(destination: string): void {
    const state = this.states.get(destination);
    if (!state || state.dropped === 0) return;
    const words = `${state.dropped} notice${state.dropped === 1 ? '' : 's'} dropped, the last (${state.lastDrop}`;
    this.deps.log.warn({ destination, dropped: state.dropped, last: state.lastDrop }, 'notifications dropped');
    this.event(destination, 'Warning', 'NotificationsDropped', words);
    state.dropEventAt = this.deps.now().getTime();
    state.dropped = 0;
  }

  private typeOf(destination: string): DestinationType {
    const { namespace, name } = parseKey(destination);
    return this.destinations.get(namespace, name)?.spec?.type ?? 'Webhook';
  }

  // ---- Destinations -----------------------------------------------------------------------------

  private destinationChanged(d: Destination): void {
    const key = objectKey(d);
    const state = this.states.stateOf(key);
    if (state.generation !== d.metadata.generation) void this.states.resolution(key, state);
    if (d.spec?.suspend) this.deliveries.forget(key, 'cancelled', 'its Destination is suspended');
    for (const s of this.subscriptions.values()) if (s.destination === key) this.notificationStatus(s.key);
  }

  private destinationDeleted(d: Destination): void {
    const key = objectKey(d);
    this.deliveries.forget(key, 'cancelled', 'its Destination was deleted');
    this.states.delete(key);
    for (const s of this.subscriptions.values()) if (s.destination === key) this.notificationStatus(s.key);
  }

  private destinationStatus(key: string): void {
    const d = this.destinations.get(parseKey(key).namespace, parseKey(key).name);
    const state = this.states.get(key);
    if (!d || !state) return;
    const ready = destinationReady(state.resolution, { streak: state.streak, reason: state.lastFailure });
    this.writeConditions(DESTINATION_PLURAL, key, d, [ready]);
    for (const s of this.subscriptions.values()) if (s.destination === key) this.notificationStatus(s.key);
  }

  // ---- Notifications ----------------------------------------------------------------------------

  private notificationChanged(prev: Notification | undefined, n: Notification): void {
    const key = objectKey(n);
    const old = this.subscriptions.get(key);
    // Our own status writes come back here (and other replicas' records of their deliveries): besides those, only a
    // new spec, a new object under the name, or a first sight count.
    if (prev && old && old.uid === n.metadata.uid && old.generation === n.metadata.generation) return void this.ledger.merge(key, n.status?.delivered);
    if (old && old.uid !== n.metadata.uid) this.notificationDeleted(prev ?? n);
    this.ledger.merge(key, n.status?.delivered);
    const s = subscriptionOf(n, this.deps.options.crossNamespace);
    const current = old && old.uid === n.metadata.uid ? old : undefined;
    const now = this.deps.now().getTime();
    s.usableSince = current ? (usable(current) ? current.usableSince : now) : sendingSince(n, s.createdAt, now);
    if (old) for (const ns of old.namespaces) this.byNamespace.get(ns)?.delete(key);
    this.subscriptions.set(key, s);
    for (const ns of s.namespaces) {
      const keys = this.byNamespace.get(ns) ?? new Set<string>();
      keys.add(key);
      this.byNamespace.set(ns, keys);
    }
    this.states.stateOf(s.destination);
    this.notificationStatus(key);
    // A Notification created (or made able to send) while the operator runs may have missed what its Runners did since.
    if (usable(s) && (!current || !usable(current))) this.rescan(s);
  }

  private notificationDeleted(n: Notification): void {
    const key = objectKey(n);
    const s = this.subscriptions.get(key);
    if (s) for (const ns of s.namespaces) this.byNamespace.get(ns)?.delete(key);
    this.subscriptions.delete(key);
    this.ledger.forget(key);
  }

  private notificationStatus(key: string): void {
    const s = this.subscriptions.get(key);
    const n = this.notifications.get(parseKey(key).namespace, parseKey(key).name);
    if (!s || !n) return;
    const { namespace, name } = parseKey(s.destination);
    const state = this.states.get(s.destination);
    const exists = this.destinations.get(namespace, name) !== undefined;
    // Judged once its Destination has been read (this runs again then), so a start does not flap its Ready condition.
    if (exists && state && !state.resolution) return void this.states.resolution(s.destination, state);
    const sending = sendingCondition(s);
    this.writeConditions(NOTIFICATION_PLURAL, key, n, [notificationReady(s, { exists, resolution: state?.resolution ?? null }), sending], usable(s) ? { Sending: new Date(s.usableSince).toISOString() } : {});
  }

  // ---- Writes -----------------------------------------------------------------------------------

  /** `since`: the transition time a condition that moves gets, by type, when it is not now. */
  private writeConditions(plural: string, key: string, o: Destination | Notification, next: Condition[], since: Record<string, string> = {}): void {
    // One replica writes each object's conditions (the owner of its uid's slot), so they do not flap between views.
    if (!this.owned(o.metadata.uid)) return;
    if (next.every((c) => conditionsSay(o.status?.conditions, c, o.metadata.generation, o.status?.observedGeneration))) return;
    const now = this.deps.now().toISOString();
    const conditions = next.map((c) => keepTransitionTime(c, o.status?.conditions ?? [], since[c.type] ?? now));
    // The cache holds what we wrote until the watch says otherwise, so the same condition is not written twice; a
    // write that failed puts back what was there, so the next change writes it again.
    const before = o.status;
    o.status = { ...o.status, observedGeneration: o.metadata.generation, conditions };
    void this.writeStatus(plural, key, { observedGeneration: o.metadata.generation, conditions }).catch((err: unknown) => {
      if (o.status?.conditions === conditions) o.status = before;
      if ((err as { code?: number }).code !== 404) this.deps.log.warn({ [plural]: key, err: errorText(err) }, 'could not write status');
    });
  }

  private writeStatus(plural: string, key: string, status: Record<string, unknown>): Promise<void> {
    const { namespace, name } = parseKey(key);
    return this.deps.queue.run('status', () => this.deps.client.send('PATCH', objectPath(NOTIFY_API_VERSION, plural, namespace, name, 'status'), { body: { status }, contentType: 'application/merge-patch+json' }));
  }

  private event(destination: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const d = this.destinations.get(parseKey(destination).namespace, parseKey(destination).name);
    if (!d) return;
    this.deps.recorder.record({ apiVersion: NOTIFY_API_VERSION, kind: DESTINATION_KIND, namespace: d.metadata.namespace, name: d.metadata.name, uid: d.metadata.uid }, type, reason, message);
  }
}

export type { DeliveredEntry };

// Notifications (README "Notifications"): Runner status in, notices out. The operator tells the notifier of every
// Runner whose status the API server now holds changed; the notifier reads from it what happened
// (src/notify/happenings.ts), finds the Notifications that hear that Runner (an index by namespace, never a LIST),
// and queues one notice per Notification on the Destination's own line (src/notify/delivery-queue.ts). Runs and status
// writes never wait on it. What was delivered is recorded in each Notification's status (src/notify/ledger.ts), so an
// operator that starts — a restart, a new leader — sends what is due and not yet delivered, and nothing twice.
import type { Agent } from 'node:http';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Runner } from '../api/runner.ts';
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
import { DeliveryQueue, type Delivery, type DropReason } from './delivery-queue.ts';
import { conditionsSay, decodeSecretData, destinationReady, FAILING_AFTER, RESOLVE_EVERY_MS, resolveDestination, type Resolution } from './destinations.ts';
import { deliveredDigest, happeningFor, noticeOf, occurrencesOf, type Notice } from './happenings.ts';
import { Ledger } from './ledger.ts';
import { payloadFor } from './payloads.ts';
import { agentFor, post, type Answer } from './sender.ts';
import { hears, notificationReady, subscriptionOf, type Subscription } from './subscriptions.ts';

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
  /** Every Runner in the operator's cache (read once, when notifications start). */
  runners(): Iterable<Runner>;
}

/** How often the notifier looks again for its resources when the API server does not serve them yet. */
const SERVED_RECHECK_MS = 60_000;
/** A Destination's Warning Event about dropped notices, at most this often. */
const DROP_EVENT_EVERY_MS = 5 * 60_000;
/** How long a stopping operator waits for deliveries in flight and the ledger's last writes. */
const STOP_DRAIN_MS = 3_000;

interface Queued extends Delivery {
  notice: Notice;
  notification: string;
}

interface DestinationState {
  resolution: Resolution | null;
  resolvedAt: number;
  generation: number | undefined;
  resolving: Promise<Resolution> | null;
  agent: Agent | null;
  streak: number;
  lastFailure: string;
  dropped: number;
  dropEventAt: number;
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
  private readonly states = new Map<string, DestinationState>();
  /** Occurrence keys last read of each Runner (by uid), for Runners some Notification may hear. */
  private readonly seen = new Map<string, readonly string[]>();
  private readonly ledger: Ledger;
  private readonly deliveries: DeliveryQueue<Queued>;
  private active = false;
  private stopped = false;
  private recheck: NodeJS.Timeout | null = null;

  constructor(deps: NotifierDeps) {
    this.deps = deps;
    const { client, log, scope } = deps;
    this.destinations = watchCache<Destination>(client, { apiVersion: NOTIFY_API_VERSION, kind: DESTINATION_KIND, plural: DESTINATION_PLURAL, slim: stripManaged }, log, scope);
    this.notifications = watchCache<Notification>(client, { apiVersion: NOTIFY_API_VERSION, kind: NOTIFICATION_KIND, plural: NOTIFICATION_PLURAL, slim: stripManaged }, log, scope);
    const now = () => deps.now().getTime();
    this.ledger = new Ledger({ log, now, horizonMs: DELIVERY_HORIZON_MS, write: (n, entries) => this.writeStatus(NOTIFICATION_PLURAL, n, { delivered: entries }) });
    this.deliveries = new DeliveryQueue<Queued>(
      { send: (d) => this.send(d), delivered: (d) => this.delivered(d), failed: (d, reason, streak) => this.failed(d, reason, streak), dropped: (d, reason, detail) => this.dropped(d, reason, detail) },
      { now, horizonMs: DELIVERY_HORIZON_MS },
    );
  }

  /** Starts once the API server serves Destinations and Notifications (looking again every minute until it does). */
  async start(): Promise<void> {
    if (this.stopped) return;
    if (!(await this.served())) {
      this.deps.log.info('notifications are off until the Destination and Notification CRDs are installed');
      this.recheck = setTimeout(() => void this.start(), SERVED_RECHECK_MS);
      this.recheck.unref();
      return;
    }
    this.destinations.onChange((_, d) => this.destinationChanged(d));
    this.destinations.onDelete((d) => this.destinationDeleted(d));
    this.notifications.onChange((prev, n) => this.notificationChanged(prev, n));
    this.notifications.onDelete((n) => this.notificationDeleted(n));
    await Promise.all([this.destinations.start(), this.notifications.start()]);
    if (this.stopped) return;
    for (const n of this.notifications.list()) this.ledger.load(objectKey(n), n.status?.delivered);
    this.active = true;
    // What the statuses say happened and the ledgers do not say was delivered, within the horizon, is due now.
    for (const runner of this.deps.runners()) this.observe(runner);
    this.deps.log.info({ notifications: this.subscriptions.size, destinations: this.states.size, due: this.deliveries.size }, 'notifications started');
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
    await this.deliveries.stop(STOP_DRAIN_MS);
    await this.ledger.drain(STOP_DRAIN_MS);
    for (const s of this.states.values()) s.agent?.destroy();
    await Promise.all([this.destinations.stop(), this.notifications.stop()]);
  }

  get stats() {
    return { backlog: this.deliveries.backlog(), ledgerWrites: this.ledger.writes };
  }

  // ---- Runners ----------------------------------------------------------------------------------

  /** A Runner's status (as the API server holds it) may say something new. */
  observe(runner: Runner): void {
    if (!this.active) return;
    const namespace = runner.metadata.namespace ?? '';
    const keys = this.byNamespace.get(namespace);
    const uid = runner.metadata.uid ?? '';
    if (!keys || keys.size === 0) return void this.seen.delete(uid);
    const occurrences = occurrencesOf(runner);
    const before = this.seen.get(uid);
    const fresh = occurrences.filter((o) => !before?.includes(o.key));
    this.seen.set(uid, occurrences.map((o) => o.key));
    if (fresh.length === 0) return;
    const now = this.deps.now().getTime();
    const runnerKey = keyOf(namespace, runner.metadata.name ?? '');
    for (const key of keys) {
      const s = this.subscriptions.get(key);
      if (!s || s.problem || s.suspended || !hears(s, runner)) continue;
      for (const o of fresh) {
        const happening = happeningFor(o, s.events);
        const at = Date.parse(o.time);
        if (!happening || !(at >= s.createdAt) || now - at > DELIVERY_HORIZON_MS) continue;
        const notice = noticeOf(runner, o, happening);
        if (this.ledger.has(key, runnerKey, deliveredDigest(notice.id))) continue;
        if (this.destinations.get(parseKey(s.destination).namespace, parseKey(s.destination).name)?.spec?.suspend) {
          this.dropped({ key: `${key}|${notice.id}`, destination: s.destination, runner: runnerKey, happenedAt: at, attempts: 0, notice, notification: key }, 'cancelled', 'its Destination is suspended');
          continue;
        }
        this.deliveries.enqueue({ key: `${key}|${notice.id}`, destination: s.destination, runner: runnerKey, happenedAt: at, attempts: 0, notice, notification: key });
      }
    }
  }

  forget(runner: Runner): void {
    this.seen.delete(runner.metadata.uid ?? '');
  }

  // ---- Deliveries -------------------------------------------------------------------------------

  private async send(d: Queued): Promise<Answer | 'cancelled'> {
    const s = this.subscriptions.get(d.notification);
    if (!s || s.problem || s.suspended || s.destination !== d.destination) return 'cancelled';
    const state = this.states.get(d.destination);
    if (!state) return { ok: false, retry: true, reason: `no Destination ${d.destination}` };
    const resolution = await this.resolution(d.destination, state);
    if (!resolution.ok) return { ok: false, retry: true, reason: resolution.message };
    const { resolved } = resolution;
    state.agent ??= agentFor(resolved.target, 2);
    const payload = await payloadFor(d.notice, resolved.type, { cloudEventsMode: resolved.mode });
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

  private failed(d: Queued, reason: string, streak: number): void {
    this.deps.metrics.failed(d.destination, this.typeOf(d.destination));
    const state = this.states.get(d.destination);
    this.deps.log.warn({ notification: d.notification, destination: d.destination, id: d.notice.id, attempt: d.attempts, reason }, 'notification not delivered');
    if (!state) return;
    state.streak = streak;
    state.lastFailure = reason;
    if (streak === FAILING_AFTER) {
      this.event(d.destination, 'Warning', 'DeliveryFailing', `${streak} deliveries in a row failed, the last: ${reason}; retrying with backoff`);
      this.destinationStatus(d.destination);
    }
  }

  private dropped(d: Queued, reason: DropReason, detail: string): void {
    this.deps.metrics.dropped(d.destination, reason);
    this.deps.log.warn({ notification: d.notification, destination: d.destination, id: d.notice.id, reason, detail }, 'notification dropped');
    // Given up on is done with: a restart does not try it again. Not so for one the stopping operator leaves to the next.
    if (reason !== 'stopped') this.ledger.record(d.notification, d.runner, deliveredDigest(d.notice.id), d.notice.time);
    const state = this.states.get(d.destination);
    if (!state || reason === 'stopped' || reason === 'cancelled') return;
    state.dropped += 1;
    const now = this.deps.now().getTime();
    if (now - state.dropEventAt >= DROP_EVENT_EVERY_MS) {
      this.event(d.destination, 'Warning', 'NotificationsDropped', `${state.dropped} notice${state.dropped === 1 ? '' : 's'} dropped, the last (${d.notice.happening} of ${d.runner}): ${reason}: ${detail}`);
      state.dropEventAt = now;
      state.dropped = 0;
    }
  }

  private typeOf(destination: string): DestinationType {
    const { namespace, name } = parseKey(destination);
    return this.destinations.get(namespace, name)?.spec?.type ?? 'Webhook';
  }

  // ---- Destinations -----------------------------------------------------------------------------

  private stateOf(key: string): DestinationState {
    let state = this.states.get(key);
    if (!state) {
      state = { resolution: null, resolvedAt: 0, generation: undefined, resolving: null, agent: null, streak: 0, lastFailure: '', dropped: 0, dropEventAt: 0 };
      this.states.set(key, state);
    }
    return state;
  }

  /** The Destination resolved (read again when it changed, when its Secret may have, or after a 401/403). */
  private resolution(key: string, state: DestinationState): Promise<Resolution> {
    const d = this.destinations.get(parseKey(key).namespace, parseKey(key).name);
    if (!d) return Promise.resolve({ ok: false, reason: 'InvalidSpec', message: `no Destination ${key}` });
    const fresh = state.resolution && state.generation === d.metadata.generation && this.deps.now().getTime() - state.resolvedAt < RESOLVE_EVERY_MS;
    if (fresh) return Promise.resolve(state.resolution!);
    state.resolving ??= resolveDestination(d, (ns, name) => this.readSecret(ns, name), this.deps.options.allowLocal).then((r) => {
      const changed = JSON.stringify(r.ok ? { ...r.resolved.target, url: r.resolved.target.url.href } : r) !== JSON.stringify(state.resolution?.ok ? { ...state.resolution.resolved.target, url: state.resolution.resolved.target.url.href } : state.resolution);
      if (changed) {
        state.agent?.destroy();
        state.agent = null;
      }
      state.resolution = r;
      state.resolvedAt = this.deps.now().getTime();
      state.generation = d.metadata.generation;
      state.resolving = null;
      this.destinationStatus(key);
      return r;
    });
    return state.resolving;
  }

  private async readSecret(namespace: string, name: string): Promise<{ type?: string; data: Record<string, string> } | null> {
    try {
      const secret = await this.deps.client.get<V1Secret>(objectPath('v1', 'secrets', namespace, name));
      return { ...(secret.type ? { type: secret.type } : {}), data: decodeSecretData(secret.data) };
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw err;
    }
  }

  private destinationChanged(d: Destination): void {
    const key = objectKey(d);
    const state = this.stateOf(key);
    if (state.generation !== d.metadata.generation) void this.resolution(key, state).catch((err: unknown) => this.deps.log.warn({ destination: key, err: errorText(err) }, 'could not read the Destination'));
    if (d.spec?.suspend) this.deliveries.forget(key, 'cancelled', 'its Destination is suspended');
    for (const s of this.subscriptions.values()) if (s.destination === key) this.notificationStatus(s.key);
  }

  private destinationDeleted(d: Destination): void {
    const key = objectKey(d);
    this.deliveries.forget(key, 'cancelled', 'its Destination was deleted');
    this.states.get(key)?.agent?.destroy();
    this.states.delete(key);
    for (const s of this.subscriptions.values()) if (s.destination === key) this.notificationStatus(s.key);
  }

  private destinationStatus(key: string): void {
    const d = this.destinations.get(parseKey(key).namespace, parseKey(key).name);
    const state = this.states.get(key);
    if (!d || !state) return;
    const ready = destinationReady(state.resolution, { streak: state.streak, reason: state.lastFailure });
    this.writeConditions(DESTINATION_PLURAL, key, d, ready);
    for (const s of this.subscriptions.values()) if (s.destination === key) this.notificationStatus(s.key);
  }

  // ---- Notifications ----------------------------------------------------------------------------

  private notificationChanged(prev: Notification | undefined, n: Notification): void {
    const key = objectKey(n);
    // Our own status writes come back here: only a new spec (or a first sight) changes what it hears.
    if (prev && prev.metadata.generation === n.metadata.generation && this.subscriptions.has(key)) return;
    this.ledger.load(key, n.status?.delivered);
    const old = this.subscriptions.get(key);
    if (old) for (const ns of old.namespaces) this.byNamespace.get(ns)?.delete(key);
    const s = subscriptionOf(n, this.deps.options.crossNamespace);
    this.subscriptions.set(key, s);
    for (const ns of s.namespaces) {
      const keys = this.byNamespace.get(ns) ?? new Set<string>();
      keys.add(key);
      this.byNamespace.set(ns, keys);
    }
    this.stateOf(s.destination);
    this.notificationStatus(key);
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
    if (exists && state && !state.resolution && !state.resolving) void this.resolution(s.destination, state).catch(() => {});
    this.writeConditions(NOTIFICATION_PLURAL, key, n, notificationReady(s, { exists, resolution: state?.resolution ?? null }));
  }

  // ---- Writes -----------------------------------------------------------------------------------

  private writeConditions(plural: string, key: string, o: Destination | Notification, ready: Condition): void {
    if (conditionsSay(o.status?.conditions, ready, o.metadata.generation, o.status?.observedGeneration)) return;
    const now = this.deps.now().toISOString();
    const conditions = [keepTransitionTime(ready, o.status?.conditions ?? [], now)];
    // The cache holds what we wrote until the watch says otherwise, so the same condition is not written twice.
    o.status = { ...o.status, observedGeneration: o.metadata.generation, conditions };
    void this.writeStatus(plural, key, { observedGeneration: o.metadata.generation, conditions }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 404) this.deps.log.warn({ [plural]: key, err: errorText(err) }, 'could not write status');
    });
  }

  private writeStatus(plural: string, key: string, status: Record<string, unknown>): Promise<void> {
    const { namespace, name } = parseKey(key);
    return this.deps.queue.run('event', () => this.deps.client.patch(objectPath(NOTIFY_API_VERSION, plural, namespace, name, 'status'), { status }, 'application/merge-patch+json')).then(() => undefined);
  }

  private event(destination: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const d = this.destinations.get(parseKey(destination).namespace, parseKey(destination).name);
    if (!d) return;
    this.deps.recorder.record({ apiVersion: NOTIFY_API_VERSION, kind: DESTINATION_KIND, namespace: d.metadata.namespace, name: d.metadata.name, uid: d.metadata.uid }, type, reason, message);
  }
}

export type { DeliveredEntry };

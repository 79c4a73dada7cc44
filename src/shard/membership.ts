// The replicas that share the Runners: each holds a member Lease in the operator's namespace and publishes in it
// the view (the live members) it acts on; the slots it acts on follow from the ring (src/shard/ring.ts) and the
// fence (src/shard/fence.ts). One loop per replica, every retry period, on the timing of leader election
// (src/k8s/leader.ts): read every member Lease (a LIST, never a cache, as the fence requires), stop the slots the
// new view takes away, renew the Lease with the view it now acts on, read again, and take the slots no live peer
// still claims. A replica that cannot renew within its renew deadline is told `lost` and must stop acting at once;
// peers count its Lease live until its whole duration has passed unrenewed, on their own monotonic clocks.
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectionPath, objectPath } from '../k8s/api-paths.ts';
import type { KubeClient } from '../k8s/client.ts';
import { errorText } from '../k8s/informer.ts';
import { leaseSettingsFrom, leaseState, observeLease, releasedLeaseSpec, type LeaseObservation, type LeaseSettings } from '../k8s/leader.ts';
import { liveView, slotsToActOn, slotsToRelease, type MemberClaim } from './fence.ts';
import { MEMBER_OF_LABEL, VIEW_ANNOTATION } from './labels.ts';
import { assignmentCache, fnv1a64, viewKey, viewOf } from './ring.ts';


/** A member Lease left unrenewed this long is deleted by any member (a pod gone for good, with its name). */
const FORGET_AFTER_MS = 60 * 60_000;

/** Requests of the rounds remembered for the log of a missed renew deadline. */
const RECENT_REQUESTS = 6;

export interface MembershipHooks {
  /** Stop acting on the Runners of these slots; resolve once nothing of theirs is in flight. */
  release(slots: number[]): Promise<void>;
  /**
   * Start acting on the Runners of these slots. `readFrom`: the resourceVersion of the read of member Leases that
   * gave them, after everything their previous owner wrote, so a read of their Runners no older than it sees it all.
   */
  gain(slots: number[], readFrom: string | undefined): void;
  /** The member Lease was not renewed within the renew deadline: stop acting on everything, at once. */
  lost(why: string): void;
}

/**
 * Sharing is on with HESTIA_SHARDING=true (the chart sets it with more than one replica): then there is no leader,
 * and the leader-election timing (HESTIA_LEASE_SECONDS, …_RENEW_DEADLINE_SECONDS, …_RETRY_SECONDS) is the member
 * Leases', HESTIA_LEASE_NAME the ring's name (every replica's must be the same).
 */
export function shardingSettingsFrom(env: NodeJS.ProcessEnv): LeaseSettings | null {
  if (env.HESTIA_SHARDING !== 'true') return null;
  return leaseSettingsFrom({ ...env, HESTIA_LEADER_ELECTION: 'true' });
}

/**
 * The name of a member's Lease: the ring's name and the member's, made a valid object name, and a hash of the member's
 * name as given, so that two names that read alike once made valid ("Pod_A", "pod-a"), or that are cut short alike,
 * never share a Lease.
 */
export function memberLeaseName(ring: string, identity: string): string {
  const readable = `${ring}-member-${identity}`.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').slice(0, 240).replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `${readable}-${fnv1a64(identity)[0].toString(16).padStart(8, '0')}`;
}

/** Lease times are MicroTime: RFC 3339 with microseconds. */
const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const monotonicNow = (): number => performance.now();

/** What one member Lease claims, as this reader observed it. */
export function claimOf(lease: V1Lease, observation: LeaseObservation, me: string, now: number): MemberClaim {
  const identity = lease.spec?.holderIdentity ?? '';
  return {
    identity,
    view: viewOf(lease.metadata?.annotations?.[VIEW_ANNOTATION] ?? ''),
    live: identity === me || leaseState(observation, me, now) === 'held',
  };
}

export class Membership {
  private readonly client: KubeClient;
  private readonly settings: LeaseSettings;
  private readonly log: Logger;
  private readonly hooks: MembershipHooks;
  private readonly assign = assignmentCache();
  private readonly ownName: string;
  private readonly acting = new Set<number>();
  private published: string[] = [];
  /** Every member Lease as last observed, by name: liveness is measured from when its record last changed. */
  private observed = new Map<string, LeaseObservation>();
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private renewedAt: number | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Stopping: renewing only (halt). */
  private halted = false;
  private isLost = false;
  /** The Lease of a leader of the same name, as last observed (a switch from leader election). */
  private leader: LeaseObservation | undefined;
  private waitingForLeader = false;
  /** The resourceVersion of the last list of member Leases. */
  private listedAt: string | undefined;
  /** The rounds' last requests and how long each took, and the one in flight (`timed`). */
  private readonly recent: { what: string; ms: number }[] = [];
  private inFlight: { what: string; from: number } | undefined;

  constructor(client: KubeClient, settings: LeaseSettings, log: Logger, hooks: MembershipHooks) {
    this.client = client;
    this.settings = settings;
    this.hooks = hooks;
    this.ownName = memberLeaseName(settings.name, settings.identity);
    this.log = log.child({ memberLease: `${settings.namespace}/${this.ownName}` });
  }

  /** A request that hangs (a partition) is given up within the renew deadline, so that the rounds go on. */
  private get requestLimitMs(): number {
    return this.settings.renewDeadlineSeconds * 1000;
  }

  /** The slots this replica acts on now. */
  get slots(): ReadonlySet<number> {
    return this.acting;
  }

  /** The members of the view it last published. */
  get view(): readonly string[] {
    return this.published;
  }

  start(): void {
    this.timer = setTimeout(() => void this.loop(), 0);
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    this.running = this.round().catch((err: unknown) => this.log.warn({ err: errorText(err) }, 'membership round failed; trying again'));
    await this.running;
    if (!this.stopped) this.timer = setTimeout(() => void this.loop(), this.settings.retrySeconds * 1000);
  }

  /** One round: read, release, publish, read again, gain. */
  private async round(): Promise<void> {
    const me = this.settings.identity;
    let leases = await this.list();
    const claims = this.claims(leases);
    const own = leases.find((l) => l.metadata?.name === this.ownName);
    // Deleted once we held it (by hand, or by a peer that saw it unrenewed for an hour): peers may act on our slots now.
    if (!own && this.renewedAt !== undefined) return this.lose('the member Lease was deleted by someone else');
    const holder = own?.spec?.holderIdentity;
    if (holder && holder !== me && claims.some((c) => c.identity === holder && c.live)) {
      this.log.error({ holder }, 'another replica holds a member Lease of this name; acting on nothing until it is gone');
      return;
    }
    if (this.halted) {
      await this.renew(own, viewKey(this.published));
      return;
    }
    const view = viewKey([...liveView(claims), me]);
    if (view !== viewKey(this.published)) {
      const lost = slotsToRelease(this.assign, this.acting, viewOf(view), me);
      if (lost.length > 0) {
        try {
          await this.hooks.release(lost);
        } finally {
          // Given back even if the hook failed part-way: the operator stopped acting on them before anything else.
          for (const slot of lost) this.acting.delete(slot);
        }
        this.log.info({ slots: lost.length, view }, 'released slots to a new view');
      }
    }
    if (!(await this.renew(own, view)) || this.stopped || this.halted) return;
    if (view !== viewKey(this.published)) {
      this.published = viewOf(view);
      this.log.info({ view, acting: this.acting.size }, 'acting on a new view');
      leases = await this.list(); // the fence: what peers publish, read after our own view was written
    }
    const allowed = slotsToActOn(this.assign, me, this.published, this.claims(leases));
    const gained = [...allowed].filter((slot) => !this.acting.has(slot));
    if (gained.length > 0 && (await this.leaderActs())) return;
    if (gained.length > 0 && !this.stopped && !this.halted && !this.isLost) {
      for (const slot of gained) this.acting.add(slot);
      this.log.info({ slots: gained.length, acting: this.acting.size }, 'took slots');
      this.hooks.gain(gained, this.listedAt);
    }
    await this.forgetLongGone(leases);
  }

  private claims(leases: V1Lease[]): MemberClaim[] {
    const now = monotonicNow();
    const seen = new Map<string, LeaseObservation>();
    const claims: MemberClaim[] = [];
    for (const lease of leases) {
      const name = lease.metadata?.name ?? '';
      const observation = observeLease(this.observed.get(name), lease, now);
      if (!observation) continue;
      seen.set(name, observation);
      if (observation.holder) claims.push(claimOf(lease, observation, this.settings.identity, now));
    }
    this.observed = seen;
    return claims;
  }

  private async list(): Promise<V1Lease[]> {
    const { namespace, name } = this.settings;
    const list = await this.timed('list', () => this.client.request<{ metadata?: { resourceVersion?: string }; items?: V1Lease[] }>('GET', collectionPath('coordination.k8s.io/v1', 'leases', namespace), { query: { labelSelector: `${MEMBER_OF_LABEL}=${name}` }, timeoutMs: this.requestLimitMs }));
    this.listedAt = list.metadata?.resourceVersion;
    return list.items ?? [];
  }

  /** Renews (or creates) this member's Lease with `view` published; false when the write failed. */
  private async renew(own: V1Lease | undefined, view: string): Promise<boolean> {
    const { namespace, name, identity, durationSeconds } = this.settings;
    const sentAt = monotonicNow();
    const now = microTime(new Date());
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...(own?.metadata ?? {}),
        name: this.ownName,
        namespace,
        labels: { ...(own?.metadata?.labels ?? {}), [MEMBER_OF_LABEL]: name },
        annotations: { ...(own?.metadata?.annotations ?? {}), [VIEW_ANNOTATION]: view },
      },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: own?.spec?.holderIdentity === identity && own.spec.acquireTime ? own.spec.acquireTime : now,
        renewTime: now,
      },
    };
    try {
      const timeoutMs = this.requestLimitMs;
      await this.timed('renew', () =>
        own
          ? this.client.send('PUT', objectPath('coordination.k8s.io/v1', 'leases', namespace, this.ownName), { body, timeoutMs })
          : this.client.send('POST', collectionPath('coordination.k8s.io/v1', 'leases', namespace), { body, timeoutMs }),
      );
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'member Lease not renewed');
      return false;
    }
    this.renewedAt = Math.max(this.renewedAt ?? 0, sentAt);
    this.armWatchdog();
    return true;
  }

  /** The renew deadline, counted from when the last renewal that succeeded was sent, on a timer of its own. */
  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    const left = (this.renewedAt ?? 0) + this.settings.renewDeadlineSeconds * 1000 - monotonicNow();
    // Armed while the process may still act, rounds halted or not: only leaving (nothing acts) disarms it.
    this.watchdog = setTimeout(() => this.lose(`member Lease not renewed for ${this.settings.renewDeadlineSeconds} s (renew deadline)`), Math.max(0, left));
  }

  /**
   * Runs one request of the rounds, remembering how long the last few took and which one is in flight: when the renew
   * deadline passes, the log says whether the API server was slow to answer, or the rounds did not ask.
   */
  private async timed<T>(what: string, request: () => Promise<T>): Promise<T> {
    const from = monotonicNow();
    this.inFlight = { what, from };
    try {
      return await request();
    } finally {
      this.inFlight = undefined;
      this.recent.push({ what, ms: Math.round(monotonicNow() - from) });
      if (this.recent.length > RECENT_REQUESTS) this.recent.shift();
    }
  }

  /** Others may act on our slots from now on: stop everything, at once, and say why. */
  private lose(why: string): void {
    if (this.isLost) return;
    this.isLost = true;
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    this.acting.clear();
    const inFlight = this.inFlight ? { what: this.inFlight.what, forMs: Math.round(monotonicNow() - this.inFlight.from) } : null;
    this.log.error({ why, recentRequests: this.recent, inFlight }, 'lost the member Lease; stopping');
    this.hooks.lost(why);
  }

  /**
   * Whether a leader of the same name still acts (its Lease held, and renewed within its duration as we observed it):
   * replicas switched from leader election to sharding by a rolling update take no slot while the old leader acts
   * on every Runner.
   */
  private async leaderActs(): Promise<boolean> {
    const { namespace, name, identity } = this.settings;
    const lease = await this.client.get<V1Lease>(objectPath('coordination.k8s.io/v1', 'leases', namespace, name), {}).catch((err: unknown) => {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    });
    this.leader = observeLease(this.leader, lease, monotonicNow());
    const acts = leaseState(this.leader, identity, monotonicNow()) === 'held';
    // Expired as we saw it, yet still naming a holder (a leader killed, not stopped): given up here, so that the next
    // replica to start need not wait out its duration again. Only the Lease as read: one renewed meanwhile stays.
    if (!acts && lease?.spec?.holderIdentity) {
      const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: lease.metadata, spec: releasedLeaseSpec(lease.spec, new Date()) };
      await this.client.send('PUT', objectPath('coordination.k8s.io/v1', 'leases', namespace, name), { body }).catch(() => undefined);
    }
    if (acts && !this.waitingForLeader) this.log.warn({ leader: this.leader?.holder }, 'a leader of the same name still acts on every Runner; taking no slot until its Lease is released or expires');
    this.waitingForLeader = acts;
    return acts;
  }

  /** Deletes member Leases unrenewed for an hour: a pod gone with its name leaves one behind. */
  private async forgetLongGone(leases: V1Lease[]): Promise<void> {
    const now = monotonicNow();
    for (const lease of leases) {
      const name = lease.metadata?.name ?? '';
      const seen = this.observed.get(name);
      if (name === this.ownName || !seen || now - seen.observedAt < Math.max(FORGET_AFTER_MS, seen.durationSeconds * 1000)) continue;
      const path = objectPath('coordination.k8s.io/v1', 'leases', this.settings.namespace, name);
      // Only the Lease as read: one renewed meanwhile is kept.
      await this.client
        .send('DELETE', path, { body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: lease.metadata?.resourceVersion } } })
        .then(() => this.log.info({ lease: name }, 'deleted a member Lease unrenewed for an hour'))
        .catch((err: unknown) => this.log.debug({ lease: name, err: errorText(err) }, 'member Lease not deleted'));
    }
  }

  /**
   * No slot is taken or given back from here on (a stopping replica, before it stops its actors); the rounds go on
   * renewing the member Lease with the view it acts on, so that it stays fenced while the actors stop. Resolves once a
   * round under way has ended (5 s at most); never throws.
   */
  async halt(limitMs = 5_000): Promise<void> {
    this.halted = true;
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((r) => (timeout = setTimeout(r, limitMs)))]);
    clearTimeout(timeout);
  }

  /**
   * Ends the rounds and gives the member Lease up, so that peers take its slots at their next round instead of waiting
   * out its duration. Call it once nothing acts any more. Bounded in time; never throws.
   */
  async leave(limitMs = 5_000): Promise<void> {
    this.halted = true;
    this.stopped = true;
    clearTimeout(this.timer);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((r) => (timeout = setTimeout(r, limitMs)))]);
    clearTimeout(timeout);
    clearTimeout(this.watchdog);
    this.acting.clear();
    if (this.isLost) return;
    const path = objectPath('coordination.k8s.io/v1', 'leases', this.settings.namespace, this.ownName);
    const deleted = this.client.send('DELETE', path, { timeoutMs: limitMs }).then(
      () => this.log.info('left the ring: member Lease deleted'),
      (err: unknown) => this.log.warn({ err: errorText(err) }, 'member Lease not deleted; peers take its slots when it expires'),
    );
    await deleted;
  }
}

// Leader election with a coordination.k8s.io Lease, so that of several operator replicas one
// acts at a time. Writes use the Lease's resourceVersion: two candidates can never both win.
//
// Timing follows client-go: the holder renews every `retrySeconds`; if it has not renewed for
// `renewDeadlineSeconds` it stops acting, and only `durationSeconds` after another candidate last
// *saw the Lease record change* may it take the Lease. Both are measured on each process's own
// monotonic clock, never by comparing one machine's wall clock with the renewTime another wrote:
// replicas whose clocks disagree by seconds still never lead together. The deadline is shorter
// than the duration, so a leader that cannot reach the API server has stopped before anyone else
// can start. A leader that stops (SIGTERM) releases the Lease, so the next one need not wait.
import { hostname } from 'node:os';
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectionPath, objectPath } from './api-paths.ts';
import type { KubeClient } from './client.ts';
import { errorText } from './informer.ts';

export interface LeaseSettings {
  namespace: string;
  name: string;
  identity: string;
  /** How long a Lease not renewed stays held (default 15 s). */
  durationSeconds: number;
  /** How long the holder keeps acting without a successful renewal (default 10 s, less than the duration). */
  renewDeadlineSeconds: number;
  /** How often the holder renews, and candidates retry (default 2 s). */
  retrySeconds: number;
}

export const LEASE_DEFAULTS = { durationSeconds: 15, renewDeadlineSeconds: 10, retrySeconds: 2 } as const;

/** A leader-election setting that cannot work; `variable` names the environment variable at fault. */
export class LeaseSettingsError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'LeaseSettingsError';
    this.variable = variable;
  }
}

function seconds(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const text = env[variable];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new LeaseSettingsError(variable, `"${text}" is not a positive number of seconds`);
  return value;
}

/**
 * Leader election is on with HESTIA_LEADER_ELECTION=true (deploy/manager sets it); off for `make dev`
 * and most tests. HESTIA_LEASE_SECONDS, HESTIA_LEASE_RENEW_DEADLINE_SECONDS and
 * HESTIA_LEASE_RETRY_SECONDS tune it; they must keep retry < renew deadline < duration. With only a
 * duration given, the other two keep the defaults' proportions (15 : 10 : 2).
 */
export function leaseSettingsFrom(env: NodeJS.ProcessEnv): LeaseSettings | null {
  if (env.HESTIA_LEADER_ELECTION !== 'true') return null;
  const { durationSeconds: d, renewDeadlineSeconds: r, retrySeconds: p } = LEASE_DEFAULTS;
  const durationSeconds = seconds(env, 'HESTIA_LEASE_SECONDS', d);
  const renewDeadlineSeconds = seconds(env, 'HESTIA_LEASE_RENEW_DEADLINE_SECONDS', (durationSeconds * r) / d);
  const retrySeconds = seconds(env, 'HESTIA_LEASE_RETRY_SECONDS', (durationSeconds * p) / d);
  if (renewDeadlineSeconds >= durationSeconds) {
    throw new LeaseSettingsError('HESTIA_LEASE_RENEW_DEADLINE_SECONDS', `${renewDeadlineSeconds} must be less than the lease duration (HESTIA_LEASE_SECONDS, ${durationSeconds}), or two replicas could act at once`);
  }
  if (retrySeconds >= renewDeadlineSeconds) {
    throw new LeaseSettingsError('HESTIA_LEASE_RETRY_SECONDS', `${retrySeconds} must be less than the renew deadline (HESTIA_LEASE_RENEW_DEADLINE_SECONDS, ${renewDeadlineSeconds}), or one failed renewal would end the leadership`);
  }
  return {
    namespace: env.POD_NAMESPACE || 'hestia-system',
    name: env.HESTIA_LEASE_NAME || 'hestia-operator',
    identity: env.POD_NAME || `${hostname()}-${process.pid}`,
    durationSeconds,
    renewDeadlineSeconds,
    retrySeconds,
  };
}

/**
 * What a candidate last saw of the Lease record, and when it first saw it — on its own monotonic
 * clock (milliseconds, as `performance.now()`), as client-go's observedRecord and observedTime.
 */
export interface LeaseObservation {
  /** The record as read; any change (a renewal, a new holder, a release) makes a new observation. */
  record: string;
  /** '' when no one holds the Lease (never taken, or released). */
  holder: string;
  durationSeconds: number;
  observedAt: number;
}

/** The observation after reading `lease` at monotonic time `now`: the previous one while the record is unchanged. Pure. */
export function observeLease(previous: LeaseObservation | undefined, lease: V1Lease | undefined, now: number): LeaseObservation | undefined {
  if (!lease) return undefined;
  const spec = lease.spec ?? {};
  const record = JSON.stringify([lease.metadata?.resourceVersion, spec.holderIdentity, spec.leaseDurationSeconds, spec.acquireTime, spec.renewTime, spec.leaseTransitions]);
  if (previous?.record === record) return previous;
  return { record, holder: spec.holderIdentity ?? '', durationSeconds: spec.leaseDurationSeconds ?? LEASE_DEFAULTS.durationSeconds, observedAt: now };
}

/**
 * Whether the Lease is ours, free to take (absent, released, or unchanged for its whole duration
 * since we first saw its record), or held by someone else. `now` is our monotonic clock: the
 * renewTime the holder wrote is never compared with our wall clock, which may be off. Pure.
 */
export function leaseState(observation: LeaseObservation | undefined, identity: string, now: number): 'ours' | 'free' | 'held' {
  if (!observation?.holder) return 'free';
  if (observation.holder === identity) return 'ours';
  return now - observation.observedAt < observation.durationSeconds * 1000 ? 'held' : 'free';
}

/** Lease times are MicroTime: RFC 3339 with microseconds. */
const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * The spec that gives a Lease up, as client-go's ReleaseOnCancel writes it: no holder, a duration
 * of 1 s and renewTime now (for readers that still compare times), transitions unchanged. Pure.
 */
export function releasedLeaseSpec(spec: NonNullable<V1Lease['spec']>, now: Date): Record<string, unknown> {
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: spec.leaseTransitions ?? 0 };
}

/** The local monotonic clock, in milliseconds: what leases and deadlines are measured on. */
const monotonicNow = (): number => performance.now();

/** How long a release may take at most: stopping must not wait on an API server that does not answer. */
const RELEASE_LIMIT_MS = 5_000;

/** The outcome of one attempt: held (with the monotonic time the write was sent), taken by another, or unknown. */
type Attempt = { held: true; sentAt: number } | { held: false; takenByOther: boolean };

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly settings: LeaseSettings;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Whether our last write made us the holder: what a release gives up. */
  private holding = false;
  private observed: LeaseObservation | undefined;
  /** The attempt under way, if any: a release waits for it, so that nothing renews after it. */
  private inFlight: Promise<Attempt> | undefined;
  private released: Promise<void> | undefined;
  /** Monotonic time of the last renewal sent that succeeded: the renew deadline counts from it. */
  private renewedAt = 0;

  constructor(client: KubeClient, settings: LeaseSettings, log: Logger) {
    this.client = client;
    this.settings = settings;
    this.log = log.child({ lease: `${settings.namespace}/${settings.name}`, identity: settings.identity });
  }

  /** Resolves true once this process holds the Lease (the renew deadline counts from then), false if stopped first. */
  async acquire(): Promise<boolean> {
    while (!this.stopped) {
      const attempt = await this.attempt();
      if (attempt.held && !this.stopped) {
        this.renewedAt = attempt.sentAt;
        this.log.info('became leader');
        return true;
      }
      await new Promise((r) => setTimeout(r, this.settings.retrySeconds * 1000));
    }
    return false;
  }

  /**
   * Renews the Lease every `retrySeconds`. `onLost` is called once, and renewing ends, when the
   * Lease was taken by another or could not be renewed for `renewDeadlineSeconds` since the last
   * renewal — counted on the monotonic clock from when that renewal was sent (before anyone can
   * have seen it), by a timer of its own, so a request that hangs cannot delay it.
   */
  keepRenewing(onLost: () => void): void {
    let lost = false;
    const lose = (why: string) => {
      if (lost || this.stopped) return;
      lost = true;
      this.holding = false;
      this.stop();
      this.log.error({ why }, 'lost the Lease; stopping');
      onLost();
    };
    const armWatchdog = () => {
      clearTimeout(this.watchdog);
      const left = this.renewedAt + this.settings.renewDeadlineSeconds * 1000 - monotonicNow();
      this.watchdog = setTimeout(() => lose(`not renewed for ${this.settings.renewDeadlineSeconds} s (renew deadline)`), Math.max(0, left));
    };
    const renew = async () => {
      if (lost || this.stopped) return;
      const attempt = await this.attempt();
      if (this.stopped) return;
      if (attempt.held) {
        this.renewedAt = Math.max(this.renewedAt, attempt.sentAt);
        armWatchdog();
      } else if (attempt.takenByOther) {
        return lose('another replica holds the Lease');
      }
      this.timer = setTimeout(() => void renew(), this.settings.retrySeconds * 1000);
    };
    armWatchdog();
    this.timer = setTimeout(() => void renew(), this.settings.retrySeconds * 1000);
  }

  /** Stops trying to acquire or renew; the Lease, if held, stays held until it expires (`release` gives it up). */
  private stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
  }

  /**
   * Stops, and gives the Lease up if this process leads, as client-go's ReleaseOnCancel: a candidate
   * takes it at its next retry instead of waiting out the duration. Call it once nothing acts any
   * more. The write carries the resourceVersion just read with this process as the holder, so it
   * can never clear another's hold. Idempotent; bounded in time; never throws.
   */
  release(): Promise<void> {
    this.released ??= this.giveUp();
    return this.released;
  }

  private async giveUp(): Promise<void> {
    this.stop();
    if (!this.holding) return;
    this.holding = false;
    let timeout: NodeJS.Timeout | undefined;
    const limit = new Promise<string>((resolve) => {
      timeout = setTimeout(() => resolve(`no answer within ${RELEASE_LIMIT_MS} ms`), RELEASE_LIMIT_MS);
    });
    const write = async (): Promise<string> => {
      // A renewal already sent lands first: the release then reads the newest resourceVersion.
      await this.inFlight;
      const lease = await this.readLease();
      if (lease?.spec?.holderIdentity !== this.settings.identity) return 'held by another';
      await this.client.request('PUT', this.leasePath(), {
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: lease.metadata, spec: releasedLeaseSpec(lease.spec, new Date()) },
        timeoutMs: RELEASE_LIMIT_MS,
      });
      return 'released';
    };
    try {
      const outcome = await Promise.race([write(), limit]);
      if (outcome === 'released') this.log.info('released the Lease');
      else this.log.warn({ why: outcome }, 'did not release the Lease; it expires after its duration');
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'could not release the Lease; it expires after its duration');
    } finally {
      clearTimeout(timeout);
    }
  }

  private leasePath(): string {
    return objectPath('coordination.k8s.io/v1', 'leases', this.settings.namespace, this.settings.name);
  }

  private readLease(): Promise<V1Lease | undefined> {
    return this.client.get<V1Lease>(this.leasePath()).catch((err: unknown) => {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    });
  }

  /**
   * One attempt to hold the Lease. A request that hangs (a network partition) is given up after
   * the renew deadline, so that the loop goes on; a slow one that answers within it still counts.
   */
  private async attempt(): Promise<Attempt> {
    let timeout: NodeJS.Timeout | undefined;
    const giveUp = new Promise<Attempt>((resolve) => {
      timeout = setTimeout(() => resolve({ held: false, takenByOther: false }), this.settings.renewDeadlineSeconds * 1000);
    });
    const attempt = this.tryToHold();
    this.inFlight = attempt;
    try {
      return await Promise.race([attempt, giveUp]);
    } finally {
      clearTimeout(timeout);
    }
  }

  private async tryToHold(): Promise<Attempt> {
    const { namespace, name, identity, durationSeconds } = this.settings;
    try {
      const lease = await this.readLease();
      this.observed = observeLease(this.observed, lease, monotonicNow());
      const state = leaseState(this.observed, identity, monotonicNow());
      if (state === 'held') return { held: false, takenByOther: true };
      // Stopped while reading (a release has begun): write nothing more.
      if (this.stopped) return { held: false, takenByOther: false };
      // The renew deadline counts from here, before the write can have been seen by anyone; the
      // times written are wall-clock times, for people and tools reading the Lease.
      const sentAt = monotonicNow();
      const now = new Date();
      const spec = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: state === 'ours' && lease?.spec?.acquireTime ? lease.spec.acquireTime : microTime(now),
        leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (state === 'free' && lease ? 1 : 0),
      };
      const kind = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
      if (!lease) await this.client.create(collectionPath('coordination.k8s.io/v1', 'leases', namespace), { ...kind, metadata: { name, namespace }, spec });
      else await this.client.replace(this.leasePath(), { ...kind, metadata: lease.metadata, spec });
      this.holding = true;
      return { held: true, sentAt };
    } catch (err) {
      // 409: another candidate wrote first. Anything else: try again at the next period.
      const code = (err as { code?: number }).code;
      if (code !== 409) this.log.warn({ err: errorText(err) }, 'Lease update failed');
      return { held: false, takenByOther: false };
    }
  }
}

// Leader election with a coordination.k8s.io Lease, so that of several operator replicas one
// acts at a time. Writes use the Lease's resourceVersion: two candidates can never both win.
//
// Timing follows client-go: the holder renews every `retrySeconds`; if it has not renewed for
// `renewDeadlineSeconds` it stops acting, and only `durationSeconds` after its last renewal may
// another candidate take the Lease. The deadline is shorter than the duration, so a leader that
// cannot reach the API server has stopped before anyone else can start: never two leaders at once.
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

/** Whether a Lease is ours, free to take (absent or expired), or held by someone else. Pure. */
export function leaseState(lease: V1Lease | undefined, identity: string, now: Date): 'ours' | 'free' | 'held' {
  const spec = lease?.spec;
  if (!spec?.holderIdentity) return 'free';
  if (spec.holderIdentity === identity) return 'ours';
  const renewed = spec.renewTime ?? spec.acquireTime;
  if (!renewed) return 'free';
  const expires = new Date(renewed).getTime() + (spec.leaseDurationSeconds ?? LEASE_DEFAULTS.durationSeconds) * 1000;
  return now.getTime() > expires ? 'free' : 'held';
}

/** Lease times are MicroTime: RFC 3339 with microseconds. */
const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** The outcome of one attempt: held (with the time written as renewTime), taken by another, or unknown. */
type Attempt = { held: true; renewedAt: number } | { held: false; takenByOther: boolean };

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly settings: LeaseSettings;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(client: KubeClient, settings: LeaseSettings, log: Logger) {
    this.client = client;
    this.settings = settings;
    this.log = log.child({ lease: `${settings.namespace}/${settings.name}`, identity: settings.identity });
  }

  /** Resolves once this process holds the Lease; the renew deadline counts from that moment. */
  async acquire(): Promise<void> {
    while (!this.stopped) {
      const attempt = await this.attempt();
      if (attempt.held) {
        this.renewedAt = attempt.renewedAt;
        this.log.info('became leader');
        return;
      }
      await new Promise((r) => setTimeout(r, this.settings.retrySeconds * 1000));
    }
  }

  private renewedAt = 0;

  /**
   * Renews the Lease every `retrySeconds`. `onLost` is called once, and renewing ends, when the
   * Lease was taken by another or could not be renewed for `renewDeadlineSeconds` since the last
   * renewal — counted from the renewTime written, by a timer of its own, so a request that hangs
   * cannot delay it.
   */
  keepRenewing(onLost: () => void): void {
    let lost = false;
    const lose = (why: string) => {
      if (lost || this.stopped) return;
      lost = true;
      this.stop();
      this.log.error({ why }, 'lost the Lease; stopping');
      onLost();
    };
    const armWatchdog = () => {
      clearTimeout(this.watchdog);
      const left = this.renewedAt + this.settings.renewDeadlineSeconds * 1000 - Date.now();
      this.watchdog = setTimeout(() => lose(`not renewed for ${this.settings.renewDeadlineSeconds} s (renew deadline)`), Math.max(0, left));
    };
    const renew = async () => {
      if (lost || this.stopped) return;
      const attempt = await this.attempt();
      if (attempt.held) {
        this.renewedAt = Math.max(this.renewedAt, attempt.renewedAt);
        armWatchdog();
      } else if (attempt.takenByOther) {
        return lose('another replica holds the Lease');
      }
      this.timer = setTimeout(() => void renew(), this.settings.retrySeconds * 1000);
    };
    armWatchdog();
    this.timer = setTimeout(() => void renew(), this.settings.retrySeconds * 1000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
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
    try {
      return await Promise.race([this.tryToHold(), giveUp]);
    } finally {
      clearTimeout(timeout);
    }
  }

  private async tryToHold(): Promise<Attempt> {
    const { namespace, name, identity, durationSeconds } = this.settings;
    const now = new Date();
    try {
      const leases = collectionPath('coordination.k8s.io/v1', 'leases', namespace);
      const lease = await this.client.get<V1Lease>(objectPath('coordination.k8s.io/v1', 'leases', namespace, name)).catch((err: unknown) => {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      });
      const state = leaseState(lease, identity, now);
      if (state === 'held') return { held: false, takenByOther: true };
      const spec = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: state === 'ours' && lease?.spec?.acquireTime ? lease.spec.acquireTime : microTime(now),
        leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (state === 'free' && lease ? 1 : 0),
      };
      const kind = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
      if (!lease) await this.client.create(leases, { ...kind, metadata: { name, namespace }, spec });
      else await this.client.replace(objectPath('coordination.k8s.io/v1', 'leases', namespace, name), { ...kind, metadata: lease.metadata, spec });
      // Others count the Lease's expiry from this renewTime, not from when the answer arrived.
      return { held: true, renewedAt: now.getTime() };
    } catch (err) {
      // 409: another candidate wrote first. Anything else: try again at the next period.
      const code = (err as { code?: number }).code;
      if (code !== 409) this.log.warn({ err: errorText(err) }, 'Lease update failed');
      return { held: false, takenByOther: false };
    }
  }
}

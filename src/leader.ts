// Leader election with a coordination.k8s.io Lease, so that of several operator replicas one
// acts at a time. Writes use the Lease's resourceVersion: two candidates can never both win.
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClient } from './k8s/client.ts';
import { errorText } from './k8s/informer.ts';

export interface LeaseSettings {
  namespace: string;
  name: string;
  identity: string;
  /** How long a Lease not renewed stays held (default 15 s). */
  durationSeconds: number;
  /** How often the holder renews, and candidates retry (default 5 s). */
  retrySeconds: number;
}

/** Whether a Lease is ours, free to take (absent or expired), or held by someone else. Pure. */
export function leaseState(lease: V1Lease | undefined, identity: string, now: Date): 'ours' | 'free' | 'held' {
  const spec = lease?.spec;
  if (!spec?.holderIdentity) return 'free';
  if (spec.holderIdentity === identity) return 'ours';
  const renewed = spec.renewTime ?? spec.acquireTime;
  if (!renewed) return 'free';
  const expires = new Date(renewed).getTime() + (spec.leaseDurationSeconds ?? 15) * 1000;
  return now.getTime() > expires ? 'free' : 'held';
}

/** Lease times are MicroTime: RFC 3339 with microseconds. */
const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly settings: LeaseSettings;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(client: KubeClient, settings: LeaseSettings, log: Logger) {
    this.client = client;
    this.settings = settings;
    this.log = log.child({ lease: `${settings.namespace}/${settings.name}`, identity: settings.identity });
  }

  /** Resolves once this process holds the Lease. */
  async acquire(): Promise<void> {
    while (!this.stopped) {
      if (await this.tryToHold()) {
        this.log.info('became leader');
        return;
      }
      await new Promise((r) => setTimeout(r, this.settings.retrySeconds * 1000));
    }
  }

  /** Renews the Lease; `onLost` is called once if it cannot be renewed before it would expire. */
  keepRenewing(onLost: () => void): void {
    let lastRenewed = Date.now();
    const renew = async () => {
      if (this.stopped) return;
      if (await this.tryToHold()) lastRenewed = Date.now();
      else if (Date.now() - lastRenewed > this.settings.durationSeconds * 1000) {
        this.log.error('lost the Lease');
        onLost();
        return;
      }
      this.timer = setTimeout(() => void renew(), this.settings.retrySeconds * 1000);
    };
    this.timer = setTimeout(() => void renew(), this.settings.retrySeconds * 1000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async tryToHold(): Promise<boolean> {
    const { namespace, name, identity, durationSeconds } = this.settings;
    const now = new Date();
    try {
      const leases = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
      const lease = await this.client.get<V1Lease>(`${leases}/${encodeURIComponent(name)}`).catch((err: unknown) => {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      });
      const state = leaseState(lease, identity, now);
      if (state === 'held') return false;
      const spec = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: state === 'ours' && lease?.spec?.acquireTime ? lease.spec.acquireTime : microTime(now),
        leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (state === 'free' && lease ? 1 : 0),
      };
      const kind = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
      if (!lease) await this.client.create(leases, { ...kind, metadata: { name, namespace }, spec });
      else await this.client.replace(`${leases}/${encodeURIComponent(name)}`, { ...kind, metadata: lease.metadata, spec });
      return true;
    } catch (err) {
      // 409: another candidate wrote first. Anything else: try again at the next period.
      if ((err as { code?: number }).code !== 409) this.log.warn({ err: errorText(err) }, 'Lease update failed');
      return false;
    }
  }
}

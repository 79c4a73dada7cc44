// Runners handed between replicas that share them (src/shard/): which ones this replica acts on, and how it takes a
// slot's Runners up and gives them back. The slots come from the member Leases (src/shard/membership.ts), whose fence
// ensures no other replica acts on a slot this one is told to adopt.
import type { Logger } from 'pino';
import { API_VERSION, PLURAL, type Runner } from '../api/runner.ts';
import { objectPath } from '../k8s/api-paths.ts';
import type { KubeClient } from '../k8s/client.ts';
import { errorText } from '../k8s/informer.ts';
import { slotOf } from '../shard/ring.ts';
import type { RunnerActors } from './actors.ts';
import { runnerKey } from './selections.ts';
import type { StatusWriter } from './status-writer.ts';

/** Reads of adopted Runners in flight at most: a replica taking a quarter of 20,000 Runners reads 5,000. */
const ADOPT_READS = 32;

/** How long giving Runners back waits for their statuses to be written. */
const RELEASE_DRAIN_MS = 5_000;

export interface HandoverDeps {
  client: KubeClient;
  log: Logger;
  /** Every Runner of the cache, whoever acts on it. */
  runners(): Iterable<Runner>;
  actors: Pick<RunnerActors, 'view' | 'runtime' | 'pause' | 'size'>;
  statusWriter: Pick<StatusWriter, 'drainKeys'>;
  /** Resumes these Runners' actors from their snapshots, as at start-up; returns how many resumed. */
  adopt(runners: Runner[]): number;
  /** Removes the Runner's actor and what is kept for it. */
  forget(key: string, uid: string): void;
}

export class Handover {
  private readonly deps: HandoverDeps;
  private readonly slots = new Set<number>();

  constructor(deps: HandoverDeps) {
    this.deps = deps;
  }

  owns(uid: string): boolean {
    return this.slots.has(slotOf(uid));
  }

  /**
   * This replica now acts on the Runners of these slots. Each is read afresh, not taken from the cache: the watch may
   * not yet have brought the last status its previous owner wrote, and its actor resumes from that status's snapshot.
   */
  async adopt(slots: Iterable<number>): Promise<void> {
    const gained = new Set(slots);
    for (const slot of gained) this.slots.add(slot);
    const { actors, client, log } = this.deps;
    const wanted = [...this.deps.runners()].filter((r) => gained.has(slotOf(r.metadata.uid ?? '')) && !actors.view(r.metadata.uid ?? ''));
    const fresh: Runner[] = [];
    const read = async (cached: Runner) => {
      const runner = await client.get<Runner>(objectPath(API_VERSION, PLURAL, cached.metadata.namespace, cached.metadata.name!)).catch((err: unknown) => {
        if ((err as { code?: number }).code !== 404) log.warn({ runner: runnerKey(cached), err: errorText(err) }, 'adopted Runner not read; it is taken up when it next changes');
        return undefined;
      });
      if (runner && runner.metadata.uid === cached.metadata.uid) fresh.push(runner);
    };
    for (let i = 0; i < wanted.length; i += ADOPT_READS) await Promise.all(wanted.slice(i, i + ADOPT_READS).map(read));
    // Given back meanwhile (a quick second change of members), taken up already, or deleted since it was read: not adopted.
    const present = new Set([...this.deps.runners()].map((r) => r.metadata.uid));
    const still = fresh.filter((r) => this.owns(r.metadata.uid!) && present.has(r.metadata.uid) && !actors.runtime(runnerKey(r)));
    const restored = this.deps.adopt(still);
    log.info({ slots: gained.size, runners: still.length, restored, owned: actors.size }, 'adopted Runners');
  }

  /**
   * This replica stops acting on the Runners of these slots: no event reaches their actors from here on, their timers
   * stop, what their statuses still have to say is written (5 s at most), then their actors are removed.
   */
  async release(slots: Iterable<number>): Promise<void> {
    const lost = new Set(slots);
    for (const slot of lost) this.slots.delete(slot);
    const { actors } = this.deps;
    const keys = new Map<string, string>();
    for (const runner of this.deps.runners()) {
      const uid = runner.metadata.uid ?? '';
      const key = runnerKey(runner);
      if (lost.has(slotOf(uid)) && actors.runtime(key)?.uid === uid) keys.set(key, uid);
    }
    for (const key of keys.keys()) actors.pause(key);
    await this.deps.statusWriter.drainKeys(new Set(keys.keys()), RELEASE_DRAIN_MS);
    for (const [key, uid] of keys) this.deps.forget(key, uid);
    this.deps.log.info({ slots: lost.size, runners: keys.size, owned: actors.size }, 'released Runners');
  }
}

// Runners handed between replicas that share them (src/shard/): which ones this replica acts on, and how it takes a
// slot's Runners up and gives them back. The slots come from the member Leases (src/shard/membership.ts), whose fence
// ensures no other replica acts on a slot this one is told to adopt.
import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION, PLURAL, type Runner } from '../api/runner.ts';
import { objectPath } from '../k8s/api-paths.ts';
import { codeOf, type KubeClient } from '../k8s/client.ts';
import { listPages } from '../k8s/list-pages.ts';
import { errorText } from '../k8s/informer.ts';
import type { WatchCache } from '../k8s/watch-scope.ts';
import { slotOf, uidShardSelectors } from '../shard/ring.ts';
import { backoffDelay, type BackoffPolicy } from '../time/backoff.ts';
import type { RunnerActors } from './actors.ts';
import { slotJobsSelectors } from '../runner/job.ts';
import { runnerKey } from './selections.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { Caches } from './caches.ts';
import type { StatusWriter } from './status-writer.ts';

/** Reads of adopted Runners in flight at most: a replica taking a quarter of 20,000 Runners reads 5,000. */
const ADOPT_READS = 32;

/** From this many Runners to read, a server that narrows a LIST by shard is asked for a few LISTs instead of GETs. */
const LIST_READS_FROM = 50;

/** Runners per page of such a LIST. */
const LIST_PAGE = 500;

/** About this many Runners to each LIST of adopted Runners, so that a few go side by side rather than page after page. */
const RUNNERS_PER_LIST = 250;

/** LISTs of an adoption in flight at most, of its Runners and of its Jobs each. */
const LISTS_IN_FLIGHT = 8;

/** Runners resumed in one turn of the event loop when taken up. */
const RESUME_BATCH = 100;

/** How long giving Runners back waits for their statuses to be written. */
const RELEASE_DRAIN_MS = 5_000;

/** A Runner whose fresh read failed (a timeout, a 5xx), or a list of their Jobs, is made again: after 0.5 s, doubling to 30 s. */
const READ_RETRY_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

/** What the slots of one adoption were, and the resourceVersion reads of their Runners must be no older than. */
interface Adoption {
  epochs: ReadonlyMap<number, number>;
  readFrom?: string;
}

/** `each` of `items`, `size` at a time: a pool, not batches, so one slow item does not hold back the others of its batch. */
async function inPool<T>(items: readonly T[], size: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await each(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

/** Sorted slots cut into `count` runs (at least one) of about the same length, each kept in order. */
export function slotGroups(slots: readonly number[], count: number): number[][] {
  const groups = Math.max(1, Math.min(count, slots.length));
  return Array.from({ length: groups }, (_, i) => slots.slice(Math.floor((i * slots.length) / groups), Math.floor(((i + 1) * slots.length) / groups)));
}

/** What reading Runners afresh came to: those read, and those to read again. */
interface Reads {
  fresh: Runner[];
  unread: Runner[];
}

export interface HandoverDeps {
  client: KubeClient;
  log: Logger;
  /** Every Runner of the cache, whoever acts on it. */
  runners(): Iterable<Runner>;
  /** The collections the Runners are listed from: across namespaces, or one per namespace watched. */
  runnerCollections: readonly string[];
  actors: Pick<RunnerActors, 'view' | 'runtime' | 'pause' | 'size'>;
  statusWriter: Pick<StatusWriter, 'drainKeys'>;
  notifier: Pick<Notifier, 'writeRecords'>;
  /** The Jobs cache, which keeps only the Jobs of the Runners this replica acts on. */
  jobs: Pick<WatchCache<V1Job>, 'listIn' | 'dropUnkept'>;
  /** What the Runners cache keeps of a Runner follows who acts on it. */
  cache: Pick<Caches, 'takenUp' | 'givenUp'>;
  /** The key of the Runner with this uid (the Runner cache's index). */
  keyOfUid(uid: string): string | undefined;
  /** Resolves once every kind that Runners' spec.resources name has had a first answer (src/operator/resource-inputs.ts). */
  resourcesSettled(): Promise<void>;
  /** Resumes these Runners' actors from their snapshots, as at start-up; returns how many resumed. */
  adopt(runners: Runner[]): number;
  /** Removes the Runner's actor and what is kept for it. */
  forget(key: string, uid: string): void;
}

export class Handover {
  private readonly deps: HandoverDeps;
  private readonly slots = new Set<number>();

  /** Each slot's hand-overs so far: a read made for one adoption is not used after the slot moved again. */
  private readonly epochs = new Map<number, number>();
  private stopped = false;
  /** Whether the API server narrows a LIST by shard (KEP-5866); undefined until a LIST asked it. */
  private shardedLists: boolean | undefined;
  private readonly retries = new Set<NodeJS.Timeout>();

  constructor(deps: HandoverDeps) {
    this.deps = deps;
  }

  owns(uid: string): boolean {
    return this.slots.has(slotOf(uid));
  }

  /**
   * Whether this replica caches all of a Runner and its Jobs: it acts on it, or holds its actor still while it gives
   * it back (its last status is rendered from them).
   */
  holds(uid: string): boolean {
    if (this.owns(uid)) return true;
    const key = this.deps.keyOfUid(uid);
    return key !== undefined && this.deps.actors.runtime(key)?.uid === uid;
  }

  private moved(slot: number): void {
    this.epochs.set(slot, (this.epochs.get(slot) ?? 0) + 1);
  }

  /**
   * This replica now acts on the Runners of these slots. Each is read afresh, not taken from the cache: the watch may
   * not yet have brought the last status its previous owner wrote, and its actor resumes from that status's snapshot.
   */
  async adopt(slots: Iterable<number>, readFrom?: string): Promise<void> {
    const gained = new Set(slots);
    for (const slot of gained) {
      this.slots.add(slot);
      this.moved(slot);
    }
    const epochs = new Map([...gained].map((slot) => [slot, this.epochs.get(slot)!]));
    const adoption: Adoption = { epochs, ...(readFrom ? { readFrom } : {}) };
    const wanted = [...this.deps.runners()].filter((r) => gained.has(slotOf(r.metadata.uid ?? '')) && !this.deps.actors.view(r.metadata.uid ?? ''));
    // Their Jobs, which this replica did not cache while they were another's, are listed while they are read — by
    // their slots' label, not every Job of the cluster: none of them resumes before both, its run is recovered from them.
    const current = () => [...epochs].some(([slot, epoch]) => this.epochs.get(slot) === epoch && this.slots.has(slot));
    const jobsListed = inPool(slotJobsSelectors(gained), LISTS_IN_FLIGHT, (selector) => this.listJobs(selector, current));
    await this.take(wanted, adoption, 0, jobsListed);
  }

  /** Lists in the Jobs `selector` matches; a failed list is made again, with backoff, while any of its slots is ours. */
  private async listJobs(selector: string, current: () => boolean): Promise<void> {
    for (let attempt = 0; !this.stopped && current(); attempt++) {
      try {
        return await this.deps.jobs.listIn(selector);
      } catch (err) {
        this.deps.log.warn({ selector, err: errorText(err), attempt }, 'Jobs of adopted Runners not listed; trying again');
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(READ_RETRY_BACKOFF, attempt)).unref());
      }
    }
  }

  /**
   * Reads `wanted` afresh and resumes their actors once `before` has resolved too; those not read are tried again,
   * with backoff, while still ours.
   */
  private async take(wanted: Runner[], adoption: Adoption, attempt: number, before?: Promise<void>): Promise<void> {
    const { epochs } = adoption;
    const { actors, log } = this.deps;
    const began = performance.now();
    const since = () => Math.round(performance.now() - began);
    // Still this adoption's: the slot has not been given back (or given back and taken again) since it began.
    const current = (uid: string) => !this.stopped && epochs.get(slotOf(uid)) === this.epochs.get(slotOf(uid)) && this.owns(uid);
    const ms: Record<string, number> = {};
    const [{ fresh, unread }] = await Promise.all([
      this.readAfresh(wanted, current, attempt, adoption.readFrom).finally(() => (ms.read = since())),
      before?.finally(() => (ms.jobs = since())),
    ]);
    // Given back meanwhile, taken up already, or deleted since it was read: not adopted.
    const adoptable = (runners: Runner[]) =>
      runners.filter((r) => current(r.metadata.uid!) && this.deps.keyOfUid(r.metadata.uid!) === runnerKey(r) && !actors.runtime(runnerKey(r)));
    this.deps.cache.takenUp(adoptable(fresh));
    // The kinds their spec.resources name, not watched while they were another's, are listed (or found unserved)
    // before any of them acts, as at start-up.
    await this.deps.resourcesSettled();
    ms.settled = since();
    // A batch at a time, each turn of the event loop: the Jobs the first ones are due are created while the rest resume.
    let runners = 0;
    let restored = 0;
    for (let i = 0; i < fresh.length; i += RESUME_BATCH) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      const batch = adoptable(fresh.slice(i, i + RESUME_BATCH));
      restored += this.deps.adopt(batch);
      runners += batch.length;
    }
    ms.resumed = since();
    log.info({ slots: epochs.size, runners, restored, owned: actors.size, ms }, 'adopted Runners');
    if (unread.length > 0 && !this.stopped) {
      const timer = setTimeout(() => {
        this.retries.delete(timer);
        void this.take(unread, adoption, attempt + 1);
      }, backoffDelay(READ_RETRY_BACKOFF, attempt));
      this.retries.add(timer);
    }
  }

  /**
   * Each of `wanted` still current read from the API server: listed by its slot where the server offers sharded lists
   * and there are enough of them to be worth it, else one GET each, ADOPT_READS at a time. Those read, and those to
   * read again.
   */
  private async readAfresh(wanted: Runner[], current: (uid: string) => boolean, attempt: number, readFrom: string | undefined): Promise<Reads> {
    if (this.shardedLists !== false && wanted.length >= LIST_READS_FROM) {
      const listed = await this.listAfresh(wanted, current, attempt);
      if (listed) return listed;
    }
    return this.getAfresh(wanted, current, attempt, readFrom);
  }

  /**
   * `wanted` read in a few LISTs narrowed to their slots by the server (KEP-5866's shardSelector over the uid),
   * rather than one GET each; undefined when the server does not narrow a LIST so, and it is not asked again. A
   * server that ignores the selector answers with every Runner; whether it narrowed shows in the answer's
   * `shardInfo` for built-in kinds, not for a custom resource's list (Kubernetes 1.36), so by a Runner of another
   * slot in it.
   */
  private async listAfresh(wanted: Runner[], current: (uid: string) => boolean, attempt: number): Promise<Reads | undefined> {
    const { client, log } = this.deps;
    const byUid = new Map(wanted.map((r) => [r.metadata.uid ?? '', r]));
    const slots = [...new Set([...byUid.keys()].map(slotOf))].sort((a, b) => a - b);
    const fresh: Runner[] = [];
    /** Lists the Runners of these slots; false if the server answered with others too (it does not narrow). */
    const listGroup = async (group: readonly number[]): Promise<boolean> => {
      const ours = new Set(group);
      for (const path of this.deps.runnerCollections) {
        for (const shardSelector of uidShardSelectors(group)) {
          for await (const page of listPages<Runner>(client, path, { shardSelector }, LIST_PAGE)) {
            if (page.metadata?.shardInfo === undefined && !(page.items ?? []).every((r) => ours.has(slotOf(r.metadata.uid ?? '')))) return false;
            for (const runner of page.items ?? []) {
              const uid = runner.metadata.uid ?? '';
              if (byUid.has(uid) && current(uid)) fresh.push(runner);
            }
          }
        }
      }
      return true;
    };
    const groups = slotGroups(slots, Math.min(LISTS_IN_FLIGHT, Math.ceil(wanted.length / RUNNERS_PER_LIST)));
    try {
      // Until the server has shown that it narrows, one group alone: one that does not answers each with every Runner.
      const probing = this.shardedLists === undefined;
      const rest = probing ? groups.slice(1) : groups;
      const narrowed = (!probing || (await listGroup(groups[0]!))) && (await Promise.all(rest.map(listGroup))).every(Boolean);
      if (!narrowed) {
        this.shardedLists = false;
        log.info('the API server does not narrow a list by shard (KEP-5866): adopted Runners are read one by one');
        return undefined;
      }
      this.shardedLists = true;
    } catch (err) {
      log.warn({ err: errorText(err), attempt }, 'adopted Runners not listed; trying again');
      return { fresh: [], unread: wanted.filter((r) => current(r.metadata.uid ?? '')) };
    }
    // One wanted but not listed was deleted since it was cached, as a GET's 404 says.
    return { fresh, unread: [] };
  }

  /**
   * Each of `wanted` still current read with a GET, ADOPT_READS at a time: from the API server's watch cache, no older
   * than `readFrom`, rather than from etcd; from etcd when the cache cannot be that fresh in time (504).
   */
  private async getAfresh(wanted: Runner[], current: (uid: string) => boolean, attempt: number, readFrom: string | undefined): Promise<Reads> {
    const { client, log } = this.deps;
    const fresh: Runner[] = [];
    const unread: Runner[] = [];
    const read = async (cached: Runner) => {
      if (!current(cached.metadata.uid ?? '')) return;
      const path = objectPath(API_VERSION, PLURAL, cached.metadata.namespace, cached.metadata.name!);
      const fromEtcd = () => client.get<Runner>(path);
      const fresher = readFrom ? client.get<Runner>(path, { resourceVersion: readFrom }).catch((err: unknown) => (codeOf(err) === 504 ? fromEtcd() : Promise.reject(err))) : fromEtcd();
      const runner = await fresher.catch((err: unknown) => {
        if (codeOf(err) !== 404) {
          unread.push(cached);
          log.warn({ runner: runnerKey(cached), err: errorText(err), attempt }, 'adopted Runner not read; trying again');
        }
        return undefined;
      });
      if (runner && runner.metadata.uid === cached.metadata.uid) fresh.push(runner);
    };
    await inPool(wanted, ADOPT_READS, read);
    return { fresh, unread };
  }

  /** No adoption completes from here on (the operator stops). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
  }

  /**
   * This replica stops acting on the Runners of these slots: no event reaches their actors from here on, their timers
   * stop, what their statuses still have to say and what was delivered for them are written (5 s at most), then their
   * actors are removed.
   */
  async release(slots: Iterable<number>): Promise<void> {
    const lost = new Set(slots);
    for (const slot of lost) {
      this.slots.delete(slot);
      this.moved(slot);
    }
    const { actors } = this.deps;
    const keys = new Map<string, string>();
    for (const runner of this.deps.runners()) {
      const uid = runner.metadata.uid ?? '';
      const key = runnerKey(runner);
      if (lost.has(slotOf(uid)) && actors.runtime(key)?.uid === uid) keys.set(key, uid);
    }
    for (const key of keys.keys()) actors.pause(key);
    // Their statuses and what was delivered for them are left behind: the next owner resumes from the one and does
    // not send again what the other says was sent.
    const started = performance.now();
    await this.deps.statusWriter.drainKeys(new Set(keys.keys()), RELEASE_DRAIN_MS);
    await this.deps.notifier.writeRecords(Math.max(0, RELEASE_DRAIN_MS - (performance.now() - started)));
    for (const [key, uid] of keys) this.deps.forget(key, uid);
    // Their actors gone, the caches keep only what this replica's own Runners read of them.
    this.deps.cache.givenUp((uid) => lost.has(slotOf(uid)) && !this.owns(uid));
    this.deps.jobs.dropUnkept();
    this.deps.log.info({ slots: lost.size, runners: keys.size, owned: actors.size }, 'released Runners');
  }
}

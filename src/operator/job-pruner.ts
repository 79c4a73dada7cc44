// Finished Jobs beyond a Runner's history limits (SPEC §4), deleted in batches: the names asked for in one
// namespace within a short window go in one deletecollection whose label selector names them, so Runners that
// finish together — a rollout that several check, the Runners of one schedule — cost one request, not one each.
// Every Job the operator creates carries its own name in LABEL_JOB_NAME; a Job without it (created by an earlier
// version) is deleted by name, and so is every Job of a namespace where deletecollection is refused (an install
// whose RBAC predates it): the history limit holds either way, only the count of requests differs. The one Job
// that cannot wait — a run replaced (concurrencyPolicy Replace) — is deleted at once (deleteNow).
import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { LABEL_JOB_NAME } from '../api/runner.ts';
import { codeOf, METADATA_LIST_ONLY, type KubeClient } from '../k8s/client.ts';
import { collectionPath, objectPath } from '../k8s/api-paths.ts';
import { errorText } from '../k8s/informer.ts';
import type { WriteQueue } from '../k8s/write-queue.ts';

/** How many names one deletecollection's selector carries (a name is up to 63 characters; this keeps the URL short). */
export const NAMES_PER_REQUEST = 50;

export interface JobToDelete {
  namespace: string;
  name: string;
  /** Whether the Job carries LABEL_JOB_NAME, and so can be found by a selector. */
  labelled: boolean;
}

export interface JobPrunerDeps {
  client: KubeClient;
  queue: WriteQueue;
  log: Logger;
  /** How long names are gathered in a namespace before its deletes are sent. */
  windowMs: number;
}

/** The Job to delete, as the pruner needs it: a Job labelled with a name other than its own is deleted by name. */
export const jobToDelete = (job: V1Job): JobToDelete => ({
  namespace: job.metadata!.namespace!,
  name: job.metadata!.name!,
  labelled: job.metadata?.labels?.[LABEL_JOB_NAME] === job.metadata!.name,
});

/** The label selector of a batch: `runner.stakater.com/job in (a,b,…)`. */
export const batchSelector = (names: readonly string[]): string => `${LABEL_JOB_NAME} in (${[...names].sort().join(',')})`;

/** `names` in batches of at most `size`. */
export function batches<T>(names: readonly T[], size = NAMES_PER_REQUEST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < names.length; i += size) out.push(names.slice(i, i + size));
  return out;
}

const BACKGROUND = { propagationPolicy: 'Background' } as const;

export class JobPruner {
  private readonly deps: JobPrunerDeps;
  /** Namespace → Job names gathered for its next batch. */
  private readonly pending = new Map<string, Set<string>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** `namespace/name` of deletes sent and not yet answered: asked for again meanwhile, they are not sent twice. */
  private readonly inFlight = new Set<string>();
  /** Namespaces where deletecollection was refused (403): their Jobs are deleted by name. */
  private readonly byNameOnly = new Set<string>();
  /** Requests sent and not yet answered, for a drain to wait for. */
  private readonly sending = new Set<Promise<void>>();
  /** Stopping: nothing more is sent. */
  private closed = false;

  constructor(deps: JobPrunerDeps) {
    this.deps = deps;
  }

  /** Deletes this Job soon; asking again before it is gone changes nothing. */
  delete(job: JobToDelete): void {
    const { namespace, name } = job;
    const key = `${namespace}/${name}`;
    if (this.closed || this.inFlight.has(key) || this.pending.get(namespace)?.has(name)) return;
    this.deps.log.info({ job: key }, 'deleting Job beyond the history limit');
    if (!job.labelled || this.byNameOnly.has(namespace)) return this.track(this.deleteNow(namespace, name));
    let names = this.pending.get(namespace);
    if (!names) this.pending.set(namespace, (names = new Set()));
    names.add(name);
    // The window starts at a namespace's first name, so no delete waits longer than it however many follow.
    if (!this.timers.has(namespace)) this.timers.set(namespace, setTimeout(() => this.track(this.flush(namespace)), this.deps.windowMs));
  }

  /** Sends what is gathered for `namespace` now; resolves when its requests are answered. */
  async flush(namespace: string): Promise<void> {
    clearTimeout(this.timers.get(namespace));
    this.timers.delete(namespace);
    const names = [...(this.pending.get(namespace) ?? [])];
    this.pending.delete(namespace);
    await Promise.all(batches(names).map((batch) => this.deleteBatch(namespace, batch)));
  }

  /**
   * The operator is stopping: sends every batch gathered, takes no more, and waits for every delete still
   * unanswered, `timeoutMs` at most. A Job left over is deleted at its Runner's next prune, by whichever
   * operator runs then.
   */
  async drain(timeoutMs: number): Promise<void> {
    for (const namespace of [...this.pending.keys()]) this.track(this.flush(namespace));
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.sending]), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  private track(sent: Promise<void>): void {
    this.sending.add(sent);
    void sent.finally(() => this.sending.delete(sent));
  }

  private async deleteBatch(namespace: string, names: string[]): Promise<void> {
    if (names.length === 1 || this.byNameOnly.has(namespace)) {
      await Promise.all(names.map((name) => this.deleteNow(namespace, name)));
      return;
    }
    const keys = names.map((name) => `${namespace}/${name}`);
    for (const key of keys) this.inFlight.add(key);
    let refused = false;
    try {
      await this.deps.queue.run('job', () =>
        this.deps.client.send('DELETE', collectionPath('batch/v1', 'jobs', namespace), { query: { labelSelector: batchSelector(names), ...BACKGROUND }, accept: METADATA_LIST_ONLY }),
      );
      this.deps.log.debug({ namespace, jobs: names.length }, 'deleted Jobs beyond the history limits');
    } catch (err) {
      refused = true;
      if (codeOf(err) !== 403) {
        this.deps.log.warn({ namespace, jobs: names, err: errorText(err) }, 'could not delete Jobs beyond the history limits; deleting them one by one');
      } else if (!this.byNameOnly.has(namespace)) {
        this.byNameOnly.add(namespace);
        this.deps.log.warn({ namespace, err: errorText(err) }, 'may not delete Jobs by selector here (deletecollection on jobs): deleting them one by one');
      }
    } finally {
      for (const key of keys) this.inFlight.delete(key);
    }
    if (refused) await Promise.all(names.map((name) => this.deleteNow(namespace, name)));
  }

  /** Deletes a Job by name, at once (the history limits' fallback; a run replaced). */
  async deleteNow(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    this.inFlight.add(key);
    try {
      await this.deps.queue.run('job', () => this.deps.client.send('DELETE', objectPath('batch/v1', 'jobs', namespace, name), { query: BACKGROUND }));
    } catch (err) {
      if (codeOf(err) !== 404) this.deps.log.warn({ job: key, err: errorText(err) }, 'could not delete Job');
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Cancels the gathering windows (the operator has stopped). */
  stop(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
  }
}

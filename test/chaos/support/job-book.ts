// What the test sees of the Jobs in its namespace while faults happen: a watch of its own (re-listed
// from scratch whenever it fails, e.g. while the API server is down), so that drivers can wait for
// "the run for this trigger has started" without listing every Job again and again.
import { ListWatch, Watch, type V1Job } from '@kubernetes/client-node';
import { LABEL_RUNNER_NAME } from '../../../src/api/runner.ts';
import { batch, kc, waitFor } from '../../integration/support/kube.ts';
import { runnerOfJob } from './ledger.ts';

export class JobBook {
  private readonly namespace: string;
  private listWatch: ListWatch<V1Job> | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(namespace: string) {
    this.namespace = namespace;
  }

  async start(): Promise<void> {
    const lw = new ListWatch<V1Job>(
      `/apis/batch/v1/namespaces/${this.namespace}/jobs`,
      new Watch(kc),
      () => batch.listNamespacedJob({ namespace: this.namespace, labelSelector: LABEL_RUNNER_NAME }),
      false,
      LABEL_RUNNER_NAME,
    );
    lw.on('error', () => {
      if (this.stopped || this.listWatch !== lw) return;
      void lw.stop();
      this.retry = setTimeout(() => void this.start().catch(() => undefined), 1_000);
    });
    this.listWatch = lw;
    await lw.start();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    void this.listWatch?.stop();
  }

  all(): V1Job[] {
    return [...(this.listWatch?.list() ?? [])];
  }

  of(runner: string): V1Job[] {
    return this.all().filter((j) => runnerOfJob(j) === runner);
  }

  count(): number {
    return this.all().length;
  }

  /** Waits until `runner` has at least `n` Jobs; false (not an exception) when it times out. */
  async reach(runner: string, n: number, timeoutMs: number): Promise<boolean> {
    try {
      await waitFor(`${n} Jobs of Runner ${runner}`, () => this.of(runner).length >= n, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }
}

/** Every Job of the namespace, listed afresh (the final count does not rest on the test's watch). */
export async function listJobs(namespace: string): Promise<V1Job[]> {
  return (await batch.listNamespacedJob({ namespace, labelSelector: LABEL_RUNNER_NAME })).items;
}

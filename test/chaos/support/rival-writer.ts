// Another client writing to Runners' status while the operator works: it reads Runners and writes
// back a status it read a few seconds earlier (as a stale replica of a controller, or a restore from
// a backup, would), now and then an empty one, through the status subresource with the Runner's
// current resourceVersion — so its writes are accepted, unless the operator wrote in between (409).
import type { Runner, RunnerStatus } from '../../../src/api/runner.ts';
import { GROUP, PLURAL, VERSION } from '../../../src/api/runner.ts';
import { custom, getRunner } from '../../integration/support/kube.ts';

const STALE_MS = 2_000;

export class RivalStatusWriter {
  private readonly namespace: string;
  private readonly names: string[];
  private readonly random: () => number;
  private readonly seen = new Map<string, { at: number; status: RunnerStatus }[]>();
  private running: Promise<void> | undefined;
  private stopping = false;
  /** Writes the API server accepted, refused with 409, and that failed otherwise. */
  accepted = 0;
  conflicts = 0;
  failed = 0;

  constructor(namespace: string, names: string[], random: () => number) {
    this.namespace = namespace;
    this.names = names;
    this.random = random;
  }

  start(): void {
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const name = this.names[Math.floor(this.random() * this.names.length)]!;
      await this.disturb(name).catch(() => (this.failed += 1));
      await new Promise((r) => setTimeout(r, 50 + this.random() * 100));
    }
  }

  private async disturb(name: string): Promise<void> {
    const runner = await getRunner(this.namespace, name);
    const history = this.seen.get(name) ?? [];
    if (runner.status) history.push({ at: Date.now(), status: runner.status });
    this.seen.set(name, history.filter((h) => Date.now() - h.at < 30_000));
    const stale = history.find((h) => Date.now() - h.at >= STALE_MS);
    const status = this.random() < 0.2 ? {} : stale?.status;
    if (!status) return;
    try {
      await overwriteStatus(runner, status);
      this.accepted += 1;
    } catch (err) {
      if ((err as { code?: number }).code === 409) this.conflicts += 1;
      else throw err;
    }
  }
}

/** Replaces a Runner's status as another client would: with the resourceVersion of `runner`. */
export async function overwriteStatus(runner: Runner, status: RunnerStatus): Promise<void> {
  const { namespace, name } = runner.metadata as { namespace: string; name: string };
  await custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { ...runner, status } });
}

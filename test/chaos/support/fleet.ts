// A fleet of Runners triggered in the four ways SPEC §3 knows — rollouts, chains (runnerSelector),
// manual triggers (the runner.stakater.com/trigger annotation) and schedules — by drivers that
// each make one trigger, wait until its run has started (its Job exists), and make the next. So
// every trigger is expected to cause exactly one run, whatever happens to the operator meanwhile.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { RunnerSpec } from '../../../src/api/runner.ts';
import { ANNOTATION_TRIGGER } from '../../../src/api/runner.ts';
import { apps, createDeployment, createRunner, ENABLE, patchRunner, runnerManifest } from '../../integration/support/kube.ts';
import type { JobBook } from './job-book.ts';

export interface FleetPlan {
  /** Runners triggered by the annotation, and how many triggers each gets. */
  manual: { runners: number; triggers: number };
  /** Runners selecting a Deployment of their own, and how many rollouts each sees. */
  rollout: { runners: number; rollouts: number };
  /** Upstream (manual) → downstream (runnerSelector) pairs, and how many upstream triggers. */
  chain: { pairs: number; triggers: number };
  /** Runners on `* * * * *` (under the test's scaled clock). */
  scheduled: { runners: number };
}

/** Room for every run of a test: the count is made from the Jobs, so none may be pruned. */
export const KEEP_EVERY_JOB: Partial<RunnerSpec> = { successfulRunsHistoryLimit: 100_000, failedRunsHistoryLimit: 100_000, ttlSecondsAfterFinished: 86_400 };

/** How long one run may take to start, faults included, before it counts as missed. */
const RUN_START_TIMEOUT_MS = 300_000;

export interface DriverOutcome {
  /** Runner name → runs expected from the triggers actually made (event-triggered Runners). */
  expected: Map<string, number>;
  /** Triggers whose run did not start in time: "<runner>: trigger <n>". */
  timedOut: string[];
}

const retrying = async (what: () => Promise<unknown>): Promise<void> => {
  for (let attempt = 0; ; attempt++) {
    try {
      await what();
      return;
    } catch (err) {
      // The API server may be restarting under the test: try again for a while.
      if (attempt >= 60) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
};

async function rollOut(namespace: string, name: string, version: string): Promise<void> {
  await apps.patchNamespacedDeployment(
    { namespace, name, body: [{ op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: version }] },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
}

export class Fleet {
  readonly namespace: string;
  readonly plan: FleetPlan;
  private readonly expected = new Map<string, number>();
  private readonly timedOut: string[] = [];

  constructor(namespace: string, plan: FleetPlan) {
    this.namespace = namespace;
    this.plan = plan;
  }

  get manualRunners(): string[] {
    return range(this.plan.manual.runners).map((i) => `manual-${i}`);
  }
  get rolloutRunners(): string[] {
    return range(this.plan.rollout.runners).map((i) => `rollout-${i}`);
  }
  get chainPairs(): [string, string][] {
    return range(this.plan.chain.pairs).map((i) => [`up-${i}`, `down-${i}`]);
  }
  get scheduledRunners(): string[] {
    return range(this.plan.scheduled.runners).map((i) => `tick-${i}`);
  }

  /** Runs the drivers would cause if every trigger worked (the scheduled Runners' ticks aside). */
  get plannedEventRuns(): number {
    const { manual, rollout, chain } = this.plan;
    return manual.runners * (manual.triggers + 1) + rollout.runners * (rollout.rollouts + 1) + 2 * chain.pairs * (chain.triggers + 1);
  }

  async create(): Promise<void> {
    const ns = this.namespace;
    // Selectors look in every namespace: the label `fleet` keeps them to this fleet's objects
    // (another test's fleet, in a namespace still being deleted, has the same names).
    const fleet = { fleet: ns };
    for (const name of this.rolloutRunners) {
      await createDeployment(ns, name, { app: name, ...fleet, ...ENABLE });
      await createRunner(runnerManifest(ns, name, { ...KEEP_EVERY_JOB, workloadSelector: { matchLabels: { app: name, ...fleet } } }));
    }
    for (const name of this.manualRunners) await createRunner(runnerManifest(ns, name, KEEP_EVERY_JOB));
    for (const [up, down] of this.chainPairs) {
      await createRunner(runnerManifest(ns, up, KEEP_EVERY_JOB, { chain: up, ...fleet }));
      await createRunner(runnerManifest(ns, down, { ...KEEP_EVERY_JOB, runnerSelector: { matchLabels: { chain: up, ...fleet } } }));
    }
    for (const name of this.scheduledRunners) {
      // A tick missed while the operator was down still runs on start-up (SPEC §3.4).
      await createRunner(runnerManifest(ns, name, { ...KEEP_EVERY_JOB, schedule: '* * * * *', startingDeadlineSeconds: 3_600 }));
    }
  }

  /** Drives every event-triggered Runner through its plan; resolves when all are done. */
  async drive(book: JobBook): Promise<DriverOutcome> {
    const ns = this.namespace;
    const { manual, rollout, chain } = this.plan;
    const manualTrigger = (name: string, k: number) => retrying(() => patchRunner(ns, name, { metadata: { annotations: { [ANNOTATION_TRIGGER]: `t${k}` } } }));
    await Promise.all([
      ...this.manualRunners.map((name) => this.driveOne([name], manual.triggers, book, (k) => manualTrigger(name, k))),
      ...this.rolloutRunners.map((name) => this.driveOne([name], rollout.rollouts, book, (k) => retrying(() => rollOut(ns, name, `rollout-${k}`)))),
      ...this.chainPairs.map(([up, down]) => this.driveOne([up, down], chain.triggers, book, (k) => manualTrigger(up, k))),
    ]);
    return { expected: new Map(this.expected), timedOut: [...this.timedOut] };
  }

  /**
   * The first run of `runners` (each runs once when created), then `triggers` times: trigger, and
   * wait until each of `runners` has one more Job. A run that does not start in time ends the driver.
   */
  private async driveOne(runners: string[], triggers: number, book: JobBook, trigger: (k: number) => Promise<void>): Promise<void> {
    for (let k = 0; k <= triggers; k++) {
      if (k > 0) await trigger(k);
      for (const name of runners) this.expected.set(name, k + 1);
      for (const name of runners) {
        if (!(await book.reach(name, k + 1, RUN_START_TIMEOUT_MS))) {
          this.timedOut.push(`${name}: run ${k + 1} did not start within ${RUN_START_TIMEOUT_MS / 1000} s`);
          return;
        }
      }
    }
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

// What the operator reports as runs happen, for its metrics (src/process/metrics.ts gives the Prometheus
// implementation; tests and library users may leave it out).
import type { RunReason, RunResult } from '../../machines/runner-context.ts';

export interface RunMetrics {
  runStarted(namespace: string, reason: RunReason): void;
  /** `flaky`: succeeded after a failed attempt. `advisory`: the Runner's failures do not block (spec.advisory). */
  runFinished(namespace: string, reason: RunReason, result: RunResult, marks: { flaky: boolean; advisory: boolean }): void;
  /** A run's Job was created, `seconds` after its inputs made the run due. */
  jobCreated(namespace: string, reason: RunReason, seconds: number): void;
  tickSkipped(namespace: string): void;
}

export const NO_RUN_METRICS: RunMetrics = {
  runStarted: () => {},
  runFinished: () => {},
  jobCreated: () => {},
  tickSkipped: () => {},
};

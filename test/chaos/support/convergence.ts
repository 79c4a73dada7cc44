// After the faults: every Runner's status tells its latest run as the Jobs do — the newest Job
// (latest tick, for a scheduled Runner), finished and succeeded, and the Runner at rest.
import type { V1Job } from '@kubernetes/client-node';
import type { Runner } from '../../../src/api/runner.ts';
import { jobOutcome } from '../../../src/runner/job.ts';
import { getRunner, waitFor } from '../../integration/support/kube.ts';
import { runnerOfJob, tickOf } from './ledger.ts';

const created = (j: V1Job) => Date.parse(String(j.metadata?.creationTimestamp ?? 0));

/** Why this Runner's status does not match its Jobs, or null when it does. */
export function statusMismatch(runner: Runner, jobs: readonly V1Job[], scheduled: boolean): string | null {
  const own = jobs.filter((j) => runnerOfJob(j) === runner.metadata.name);
  const lastRun = runner.status?.lastRun;
  const restState = scheduled ? 'Scheduled' : 'Succeeded';
  if (!lastRun) return 'no status.lastRun';
  const job = own.find((j) => j.metadata?.name === lastRun.jobName);
  if (!job) return `status.lastRun.jobName ${lastRun.jobName} is none of its ${own.length} Jobs`;
  const newer = scheduled
    ? own.filter((j) => (tickOf(j) ?? '') > (tickOf(job) ?? ''))
    : own.filter((j) => created(j) > created(job));
  if (newer.length > 0) return `status.lastRun names ${lastRun.jobName}, but ${newer.map((j) => j.metadata?.name).join(', ')} is newer`;
  if (jobOutcome(job).phase !== 'Succeeded') return `Job ${lastRun.jobName} has not succeeded`;
  if (lastRun.result !== 'Succeeded') return `status.lastRun.result is ${lastRun.result}`;
  if (runner.status?.state !== restState) return `status.state is ${runner.status?.state}, not ${restState}`;
  return null;
}

/**
 * Waits (up to `timeoutMs`) until every named Runner's status matches `jobs()`; returns the
 * mismatches left, "<runner>: <why>", empty when all converged.
 */
export async function awaitConvergence(
  namespace: string,
  runners: { name: string; scheduled: boolean }[],
  jobs: () => Promise<V1Job[]>,
  timeoutMs = 120_000,
): Promise<string[]> {
  let left: string[] = [];
  try {
    await waitFor('every Runner status to match its Jobs', async () => {
      const all = await jobs();
      left = [];
      for (const { name, scheduled } of runners) {
        const why = statusMismatch(await getRunner(namespace, name), all, scheduled);
        if (why) left.push(`${name}: ${why}`);
      }
      return left.length === 0;
    }, timeoutMs);
  } catch {
    // `left` says what did not converge.
  }
  return left;
}

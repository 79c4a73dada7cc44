// `hestia wait RUNNER` and `hestia trigger RUNNER [--wait]`: the verdict a CI step gates on.
// Exit codes: 0 the run succeeded, 1 it failed, 2 timed out, 3 the Runner cannot run (invalid
// spec, dependency cycle, failed upstream, stable-state timeout, suspended), 4 could not ask,
// 5 the infrastructure ended the run (result Error: inconclusive, worth a retry).
import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNOTATION_TRIGGER, type Runner } from '../api/runner.ts';
import { parseDuration } from '../runner/duration.ts';
import { runEndHow } from '../runner/kstatus-conditions.ts';
import { failedTestLines, flakyWords, testsWords } from '../runner/run-words.ts';
import { apiErrorText, connect, UsageError, type Connection } from './kube.ts';
import { EXIT, refName, waitVerdict, watchedWorkloads, workloadsAhead, type Verdict, type WaitTarget, type WatchedWorkload } from './wait-verdict.ts';

export interface WaitOptions {
  name: string;
  timeoutMs: number;
  json: boolean;
  /** How often the Runner is read. */
  intervalMs?: number;
}

type Final = Exclude<Verdict, { outcome: 'pending' }> | { outcome: 'timeout'; why: string };

export function timeoutFrom(text: string | undefined): number {
  if (text === undefined) return 10 * 60_000;
  const parsed = parseDuration(text);
  if (!parsed.ok || parsed.milliseconds < 0) throw new UsageError(`hestia: --timeout: ${parsed.ok ? 'must not be negative' : parsed.reason} (e.g. --timeout=10m, 90s, 0 to check once)`);
  return parsed.milliseconds;
}

export const exitCodeOf = (final: Final): number => EXIT[final.outcome];

/** The words printed when waiting ends (stdout), or the JSON document with `-o json`. */
export function report(runner: Runner, final: Final, json: boolean): string {
  const id = `${runner.metadata.namespace}/${runner.metadata.name}`;
  if (json) {
    return JSON.stringify({ runner: id, exitCode: exitCodeOf(final), state: runner.status?.state ?? null, ...final }, null, 2) + '\n';
  }
  switch (final.outcome) {
    case 'succeeded':
    case 'failed':
    case 'errored': {
      const r = final.run;
      const lines = [
        `Runner ${id}: the run ${runEndHow(r)}${r.flaky ? ' (flaky)' : ''}${runner.spec?.advisory && final.outcome !== 'succeeded' ? ' (advisory: it does not block)' : ''}`,
        `  Job:      ${r.jobName}`,
        `  Trigger:  ${r.trigger}`,
        `  Started:  ${r.startTime}${r.completionTime ? `, finished ${r.completionTime}` : ''}`,
      ];
      if (r.message) lines.push(`  Message:  ${r.message}`);
      const flaky = flakyWords(r);
      if (flaky) lines.push(`  Attempts: ${flaky}`);
      if (r.tests) lines.push(`  Tests:    ${testsWords(r.tests)}`, ...failedTestLines(r.tests).map((l) => `            ${l}`));
      if (final.outcome !== 'succeeded') lines.push(`  Logs:     kubectl hestia logs ${runner.metadata.name} -n ${runner.metadata.namespace} --job ${r.jobName} (while the Job is kept)`);
      return lines.join('\n') + '\n';
    }
    case 'blocked':
      return `Runner ${id} cannot run: ${final.reason}: ${final.message}\n  To fix: ${final.fix}\n`;
    case 'timeout':
      return `Runner ${id}: timed out; still waiting: ${final.why}\n`;
  }
}

/** Reads each workload the status names, to notice a rollout the operator has not reported yet. */
async function liveWorkloads(conn: Connection, watched: readonly WatchedWorkload[]): Promise<Map<string, KubernetesObject>> {
  const live = new Map<string, KubernetesObject>();
  await Promise.all(
    watched.map(async (w) => {
      const args = { namespace: w.namespace, name: w.name };
      const read = {
        Deployment: () => conn.apps.readNamespacedDeployment(args),
        StatefulSet: () => conn.apps.readNamespacedStatefulSet(args),
        DaemonSet: () => conn.apps.readNamespacedDaemonSet(args),
        DeploymentConfig: () => conn.custom.getNamespacedCustomObject({ group: 'apps.openshift.io', version: 'v1', plural: 'deploymentconfigs', ...args }) as Promise<KubernetesObject>,
      }[w.kind];
      // A workload the user may not read (or that is gone) is left to the operator.
      const object = await read().catch(() => undefined);
      if (object) live.set(refName(w), object);
    }),
  );
  return live;
}

/** Polls the Runner until the verdict is final or the time is up; says what it waits for on stderr. */
export async function waitFor(conn: Connection, target: WaitTarget, options: WaitOptions): Promise<{ runner: Runner; final: Final }> {
  const deadline = Date.now() + options.timeoutMs;
  let runner = await conn.getRunner(options.name);
  // Only for the current revision, and only until the status has caught up with them.
  let ahead: string[] = [];
  if (target.kind === 'current') ahead = workloadsAhead(runner.status?.watchedResources ?? [], await liveWorkloads(conn, watchedWorkloads(runner.status?.watchedResources ?? [])));
  let said = '';
  for (;;) {
    const verdict = waitVerdict(runner, target, ahead);
    if (verdict.outcome !== 'pending') return { runner, final: verdict };
    if (verdict.why !== said && !options.json) process.stderr.write(`waiting: ${verdict.why}\n`);
    said = verdict.why;
    if (Date.now() >= deadline) return { runner, final: { outcome: 'timeout', why: verdict.why } };
    await new Promise((r) => setTimeout(r, Math.min(options.intervalMs ?? 1000, Math.max(0, deadline - Date.now()))));
    runner = await conn.getRunner(options.name);
    if (ahead.length > 0) {
      const pending = watchedWorkloads(runner.status?.watchedResources ?? []).filter((w) => ahead.includes(refName(w)));
      ahead = workloadsAhead(pending, await liveWorkloads(conn, pending));
    }
  }
}

export async function waitCommand(flags: { namespace?: string; kubeconfig?: string; context?: string; timeout?: string; afterNow: boolean; json: boolean }, name: string): Promise<number> {
  const timeoutMs = timeoutFrom(flags.timeout);
  const conn = connect(flags);
  const first = await conn.getRunner(name).catch((err: unknown) => {
    throw new Error(apiErrorText(err, `Runner ${conn.namespace}/${name}`));
  });
  const target: WaitTarget = flags.afterNow ? { kind: 'after', baselineJob: first.status?.lastRun?.jobName ?? null } : { kind: 'current' };
  const { runner, final } = await waitFor(conn, target, { name, timeoutMs, json: flags.json });
  process.stdout.write(report(runner, final, flags.json));
  return exitCodeOf(final);
}

/** A value for the trigger annotation that no one has used: the time, and a random tail. */
export const newTriggerValue = (now = new Date()) => `cli-${now.toISOString().replace(/[-:.]/g, '').toLowerCase()}-${Math.random().toString(36).slice(2, 6)}`;

export async function triggerCommand(
  flags: { namespace?: string; kubeconfig?: string; context?: string; timeout?: string; wait: boolean; json: boolean; value?: string },
  name: string,
): Promise<number> {
  const timeoutMs = timeoutFrom(flags.timeout);
  const conn = connect(flags);
  const value = flags.value ?? newTriggerValue();
  const before = await conn.getRunner(name).catch((err: unknown) => {
    throw new Error(apiErrorText(err, `Runner ${conn.namespace}/${name}`));
  });
  if (before.metadata.annotations?.[ANNOTATION_TRIGGER] === value) {
    throw new UsageError(`hestia trigger: ${ANNOTATION_TRIGGER} is "${value}" already, which requests nothing new: pass another --value (or none)`);
  }
  await conn
    .requestRun(conn.namespace, name, value)
    .catch((err: unknown) => {
      const e = err as { code?: number };
      throw new Error(e.code === 403 ? `not allowed to patch Runner ${conn.namespace}/${name} (403): triggering needs patch on runners` : apiErrorText(err, `Runner ${conn.namespace}/${name}`));
    });
  if (!flags.wait) {
    process.stdout.write(flags.json ? JSON.stringify({ runner: `${conn.namespace}/${name}`, trigger: value }) + '\n' : `Runner ${conn.namespace}/${name}: run requested (${ANNOTATION_TRIGGER}=${value})\n`);
    return 0;
  }
  if (!flags.json) process.stderr.write(`requested a run (${ANNOTATION_TRIGGER}=${value})\n`);
  const { runner, final } = await waitFor(conn, { kind: 'trigger', value }, { name, timeoutMs, json: flags.json });
  process.stdout.write(report(runner, final, flags.json));
  return exitCodeOf(final);
}

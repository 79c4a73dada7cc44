// The JSON the web view's pages show, as pure functions of a Runner, its Jobs, Events and pods. Every string in
// them may come from the cluster: the page puts each one in the DOM as text (src/ui/static/dom.js), never as HTML.
import type { CoreV1Event, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Runner, WatchedResource } from '../api/runner.ts';
import { unreachableText } from '../commands/kube.ts';
import { objectKey } from '../k8s/object-key.ts';
import { WORKLOAD_KINDS } from '../runner/readiness/readiness.ts';
import { runHistory, type RunEntry } from '../commands/run-history.ts';
import { explainMissing, explainNoPods, needsHeaders, sectionHeader, selectJob, type LogTarget, type Section } from '../commands/run-logs.ts';
import { failedTestLines, flakyWords, testsWords } from '../runner/run-words.ts';

export type MarkKind = 'flaky' | 'advisory' | 'tests' | 'error' | 'suspended' | 'stalled';

/** A small label beside a Runner's state; `failing` marks test counts with failures. */
export interface Mark {
  kind: MarkKind;
  text: string;
  failing?: boolean;
}

/** One line of the Runners page. */
export interface RunnerRow {
  /** `namespace/name`: the row's identity on the page and in the feed. */
  key: string;
  namespace: string;
  name: string;
  /** status.state; null before the operator has seen the Runner. */
  state: string | null;
  message: string | null;
  lastResult: 'Running' | 'Succeeded' | 'Failed' | 'Error' | null;
  /** When the latest run finished, or started while it runs. */
  lastRunAt: string | null;
  lastJob: string | null;
  /** status.nextScheduleTime: the next tick of a scheduled Runner. */
  nextRun: string | null;
  schedule: string | null;
  marks: Mark[];
}

export function runnerMarks(runner: Runner): Mark[] {
  const last = runner.status?.lastRun;
  const marks: Mark[] = [];
  if (runner.spec?.suspend) marks.push({ kind: 'suspended', text: 'suspended' });
  const stalled = runner.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
  if (stalled) marks.push({ kind: 'stalled', text: `stalled: ${stalled.reason}` });
  if (runner.spec?.advisory) marks.push({ kind: 'advisory', text: 'advisory' });
  if (last?.flaky) marks.push({ kind: 'flaky', text: 'flaky' });
  if (last?.result === 'Error') marks.push({ kind: 'error', text: `error: ${last.errorReason ?? 'infrastructure'}` });
  if (last?.tests) {
    const failing = (last.tests.failures ?? 0) + (last.tests.errors ?? 0) > 0 || last.tests.problem !== undefined;
    marks.push({ kind: 'tests', text: testsWords(last.tests), failing });
  }
  return marks;
}

export function runnerRow(runner: Runner): RunnerRow {
  const s = runner.status;
  const last = s?.lastRun;
  return {
    key: objectKey(runner),
    namespace: runner.metadata.namespace ?? '',
    name: runner.metadata.name ?? '',
    state: s?.state ?? null,
    message: s?.message ?? null,
    lastResult: last?.result ?? null,
    lastRunAt: last ? (last.completionTime ?? last.startTime ?? null) : null,
    lastJob: last?.jobName ?? null,
    nextRun: s?.nextScheduleTime ?? null,
    schedule: runner.spec?.schedule ?? null,
    marks: runnerMarks(runner),
  };
}

/** The Runners page, namespace then name. */
export const runnerRows = (runners: readonly Runner[]): RunnerRow[] =>
  runners.map(runnerRow).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));

/** What a Runner waits for: a workload, an object of spec.resources, or an upstream Runner. */
export interface InputView {
  role: 'workload' | 'resource' | 'upstream';
  kind: string;
  namespace: string;
  name: string;
  ready: boolean;
  message: string;
}

export function inputView(w: WatchedResource): InputView {
  const role = w.kind === 'Runner' ? 'upstream' : w.apiVersion !== undefined || !(WORKLOAD_KINDS as readonly string[]).includes(w.kind) ? 'resource' : 'workload';
  const kind = w.apiVersion?.includes('/') ? `${w.kind}.${w.apiVersion.split('/')[0]}` : w.kind;
  return { role, kind, namespace: w.namespace, name: w.name, ready: w.ready, message: w.message ?? '' };
}

/** A time from the status as ISO 8601, or null when there is none (or a client wrote something that is not one). */
function isoTime(t: Date | string | undefined): string | null {
  if (t === undefined) return null;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  since: string | null;
}

export interface LastRunView {
  job: string;
  result: string;
  trigger: string;
  startTime: string;
  completionTime: string | null;
  message: string;
  flaky: string | null;
  tests: string | null;
  failedTests: string[];
}

/** One Runner's page. */
export interface RunnerDetail {
  row: RunnerRow;
  revision: string | null;
  timeZone: string | null;
  conditions: ConditionView[];
  inputs: InputView[];
  /** Inputs the status does not list (it lists at most a few, those not ready first). */
  moreInputs: number;
  probes: Array<{ name: string; url: string; ready: boolean; message: string }>;
  lastRun: LastRunView | null;
  history: RunEntry[];
  /** What could not be read (Jobs, Events): the page says so and shows the rest. */
  problems: string[];
}

export function runnerDetail(runner: Runner, jobs: readonly V1Job[], events: readonly CoreV1Event[], problems: readonly string[] = []): RunnerDetail {
  const s = runner.status ?? {};
  const inputs = (s.watchedResources ?? []).map(inputView);
  const last = s.lastRun;
  return {
    row: runnerRow(runner),
    revision: s.revision ?? null,
    timeZone: runner.spec?.schedule ? (runner.spec.timeZone ?? 'UTC') : null,
    conditions: (s.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason ?? '', message: c.message ?? '', since: isoTime(c.lastTransitionTime) })),
    inputs,
    moreInputs: Math.max(0, (s.watchedResourcesCount ?? inputs.length) - inputs.length),
    probes: (s.probes ?? []).map((p) => ({ name: p.name, url: p.url, ready: p.ready, message: p.message })),
    lastRun: last
      ? {
          job: last.jobName,
          result: last.result === 'Error' ? `Error (${last.errorReason ?? 'infrastructure'})` : last.result,
          trigger: last.trigger,
          startTime: last.startTime,
          completionTime: last.completionTime ?? null,
          message: last.message ?? '',
          flaky: flakyWords(last),
          tests: last.tests ? testsWords(last.tests) : null,
          failedTests: last.tests ? failedTestLines(last.tests) : [],
        }
      : null,
    history: runHistory(runner, jobs, events),
    problems: [...problems],
  };
}

/** One pod's container's log, under the header `hestia logs` prints. */
export interface LogSectionView {
  /** `==> attempt 1 of 2: pod smoke-x7k2p (Failed: container check exited 3) <==`, or null when there is one log only. */
  header: string | null;
  pod: string;
  container: string;
  attempt: number;
  attempts: number;
  /** The container's termination message, when it wrote one. */
  terminationMessage: string | null;
  text: string;
  /** Why the log could not be read (the pod is gone, no access); text is empty then. */
  problem: string | null;
}

export type LogsView =
  | { kind: 'logs'; job: string; sections: LogSectionView[]; tailLines: number }
  /** No log to show: the words `hestia logs` says in that case. */
  | { kind: 'none'; job: string | null; message: string };

/** The last lines of each log the page shows: a run's failure is at its end. */
export const LOG_TAIL_LINES = 5000;

export const logTargetOf = (job: string | null | undefined): LogTarget => (job ? { kind: 'job', name: job } : { kind: 'latest' });

/** Which Job a logs request means, or the words for why there is none to show. */
export function logsSelection(runner: Runner, jobs: readonly V1Job[], events: readonly CoreV1Event[], job: string | null): { kind: 'found'; job: V1Job } | LogsView {
  const selection = selectJob(runner, jobs, logTargetOf(job));
  if (selection.kind === 'found') return { kind: 'found', job: selection.job };
  if (selection.kind === 'none') return { kind: 'none', job, message: selection.message };
  return { kind: 'none', job: selection.jobName, message: explainMissing(runner, selection, runHistory(runner, jobs, events)).text.trimEnd() };
}

export const noPodsView = (runner: Runner, job: V1Job, jobs: readonly V1Job[], events: readonly CoreV1Event[]): LogsView => ({
  kind: 'none',
  job: job.metadata!.name!,
  message: explainNoPods(runner, job, runHistory(runner, jobs, events).find((e) => e.job === job.metadata!.name)).trimEnd(),
});

const terminationMessageOf = (pod: V1Pod, container: string): string | null =>
  [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.name === container)?.state?.terminated?.message?.trimEnd() || null;

/** The sections read, in `hestia logs` order; `read` is each section's log text or why it could not be read. */
export function logsView(job: V1Job, sections: readonly Section[], read: ReadonlyArray<{ text: string } | { problem: string }>): LogsView {
  const headers = needsHeaders(sections);
  return {
    kind: 'logs',
    job: job.metadata!.name!,
    tailLines: LOG_TAIL_LINES,
    sections: sections.map((s, i) => {
      const r = read[i] ?? { problem: 'not read' };
      return {
        header: headers ? sectionHeader(s) : null,
        pod: s.pod.metadata?.name ?? '',
        container: s.container,
        attempt: s.attempt,
        attempts: s.attempts,
        terminationMessage: terminationMessageOf(s.pod, s.container),
        text: 'text' in r ? r.text : '',
        problem: 'problem' in r ? r.problem : null,
      };
    }),
  };
}

/** The API server's own words for an error: the message of its Status, with the HTTP code; else the client's. */
export function apiServerWords(err: unknown): string {
  const unreachable = unreachableText(err);
  if (unreachable) return unreachable;
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown };
  const code = typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  const status = statusMessage(e?.body);
  if (status !== undefined) return code === undefined ? status : `${status} (HTTP ${code})`;
  if (code !== undefined) return `HTTP ${code}`;
  return typeof e?.message === 'string' ? e.message : String(err);
}

/** The `message` of a Kubernetes Status, whether the client parsed the body or left it as text. */
function statusMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim() || undefined;
    }
  }
  const message = (parsed as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}

/** What the page shows when a read or a write of the user's is refused: our words, then the API server's. */
export interface Refusal {
  status: number;
  message: string;
  apiServer: string;
}

/** A Trigger the API server refused or failed: 403 says which permission is missing, as `hestia trigger` does. */
export function triggerRefusal(runner: Runner, err: unknown): Refusal {
  const code = (err as { code?: unknown })?.code;
  const id = objectKey(runner);
  const status = typeof code === 'number' && code >= 400 && code < 600 ? code : 502;
  const message =
    code === 403
      ? `not allowed to patch Runner ${id} (403): triggering needs patch on runners (kubectl auth can-i patch runners.e2e.stakater.com -n ${runner.metadata.namespace})`
      : code === 404
        ? `Runner ${id} is gone`
        : `could not request a run of Runner ${id}`;
  return { status, message, apiServer: apiServerWords(err) };
}

/** A read the page needs that the API server refused or failed (the Jobs, Events, pods or a log). */
export function readRefusal(what: string, err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return code === 403 ? `not allowed to read ${what} (403): ${apiServerWords(err)}` : `could not read ${what}: ${apiServerWords(err)}`;
}

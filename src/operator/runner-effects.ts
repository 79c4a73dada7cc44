// The only place a Runner actor's actions touch the API: the pure machine names its effects,
// this module implements them. Every write is idempotent: a Job's name is a function of the
// Runner and the run, so a retry or a restart that creates it again gets 409 and moves on.
// Job writes take the first lane of the write queue: a backlog of status writes never delays them.
import type { V1Job } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { runnerMachine, type RunnerContext, type RunnerEvent } from '../../machines/runner.ts';
import type { RunRecord } from '../../machines/runner-context.ts';
import { runnerReference, type Runner } from '../api/runner.ts';
import { buildJob, controllingRunnerUid, jobNameForRun, jobOutcome } from '../runner/job.ts';
import { collectionPath, objectPath } from '../k8s/api-paths.ts';
import type { KubeClient } from '../k8s/client.ts';
import type { EventType, Recorder } from '../k8s/events.ts';
import { errorText } from '../k8s/informer.ts';
import type { WriteQueue } from '../k8s/write-queue.ts';
import { backoffDelay, type BackoffPolicy } from '../time/backoff.ts';
import { withDefaults } from '../runner/spec/spec.ts';
import { lastRunStatus } from '../runner/status.ts';
import type { LastRunStatus } from '../api/runner.ts';
import { runEndHow } from '../runner/kstatus-conditions.ts';
import { runFinishedEvent } from '../runner/run-words.ts';
import type { RunMetrics } from './run-metrics.ts';
import type { FinishedOutcome } from './run-end.ts';

export interface EffectDeps {
  client: KubeClient;
  queue: WriteQueue;
  log: Logger;
  recorder: Recorder;
  now: () => Date;
  runnerByUid(uid: string): Runner | undefined;
  cachedJob(namespace: string, name: string): V1Job | undefined;
  /** The Job of this run if the cache has one (found by its run-key annotation, whatever its name). */
  jobOfRun(uid: string, runKey: string): V1Job | undefined;
  /** Whether this run is still the Runner's active one (a retry for a replaced run must stop). */
  isActiveRun(uid: string, runKey: string): boolean;
  /** Tells the Runner's actor that the Job of run `runKey` finished, with what it said (src/operator/run-end.ts). */
  jobEnded(uid: string, runKey: string, job: V1Job, outcome: FinishedOutcome): void;
  /** Deletes a Job by name at once (a run replaced: src/operator/job-pruner.ts). */
  deleteJobNow(namespace: string, name: string): Promise<void>;
  /** Workloads and upstreams the Runner's current run verifies, for Events on each of them. */
  verifiedObjects(uid: string): { apiVersion: string; kind: string; namespace: string; name: string; uid?: string }[];
  /** Why the Runner cannot run right now (for a skipped tick). */
  blockedMessage(uid: string): string | null;
  /** Sends an event to a Runner's actor (later, never from inside a transition). */
  send(uid: string, event: RunnerEvent): void;
  metrics: RunMetrics;
  /** A run started or ended, as its status will say (src/notify/notifier.ts). */
  runHappened(runner: Runner, run: LastRunStatus): void;
}

/** A verdict told on the workloads a Runner verified: its revision and result, and when (ms). */
export interface ToldVerdict {
  verdict: string;
  at: number;
}

/** How long a verdict told on a workload stands: half the API server's default Event TTL (1 h), so one is always there. */
export const VERDICT_RETOLD_AFTER_MS = 30 * 60_000;

/**
 * Whether a run's verdict is news on the workloads it verified: on a workload a verdict is told once per revision and
 * result — a scheduled Runner that passes the same revision every minute says so once (its own Events still record
 * every run) — and told again after VERDICT_RETOLD_AFTER_MS, before the Event that said it expires.
 */
export const verdictIsNews = (told: ToldVerdict | undefined, verdict: string, at: number): boolean =>
  !told || told.verdict !== verdict || at - told.at >= VERDICT_RETOLD_AFTER_MS;

/** What a Job create needs of its run. */
export type RunToCreate = Pick<RunRecord, 'key' | 'revision' | 'reason' | 'startedAt'>;

const JOB_CREATE_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

/**
 * How many times a create refused with 401/403 is tried again before the refusal counts: right
 * after an API server restarts, its authorizer refuses everyone until its RBAC caches have filled
 * (seen in test/chaos). With the backoff below that is about a minute; a longer refusal is real.
 */
const AUTH_RETRIES = 7;

/** Whether a failed create will not succeed by trying again: a 4xx other than 409/429, or 401/403 that persists. */
export const isPermanentFailure = (code: number | undefined, attempt: number): boolean => {
  if (code === undefined || code < 400 || code >= 500 || code === 409 || code === 429) return false;
  return (code !== 401 && code !== 403) || attempt >= AUTH_RETRIES;
};

const jobsPath = (namespace: string) => collectionPath('batch/v1', 'jobs', namespace);

export function runnerEffects(deps: EffectDeps) {
  const { client, queue } = deps;
  const at = () => deps.now().toISOString();

  const event = (runner: Runner, type: EventType, reason: string, message: string) =>
    deps.recorder.record(
      runnerReference(runner),
      type,
      reason,
      message,
    );

  /** Creates the run's Job, retrying transient failures; a Job that exists already is this run's. */
  async function ensureJob(uid: string, run: RunToCreate, attempt = 0): Promise<void> {
    const { key: runKey, revision } = run;
    const runner = deps.runnerByUid(uid);
    if (!runner) return;
    const name = jobNameForRun(runner, runKey);
    const namespace = runner.metadata.namespace!;
    const log = deps.log.child({ runner: `${namespace}/${runner.metadata.name}`, job: name, revision });
    const settings = withDefaults(runner.spec);
    const job = buildJob(runner, { key: runKey, revision }, name, {
      backoffLimit: settings.backoffLimit,
      ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished,
      ...(settings.deadlineSeconds !== undefined ? { deadlineSeconds: settings.deadlineSeconds } : {}),
    });
    try {
      await queue.run('job', () => client.send('POST', jobsPath(namespace), { body: job }));
      log.info('created Job');
      deps.metrics.jobCreated(namespace, run.reason, (deps.now().getTime() - Date.parse(run.startedAt)) / 1000);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 409) {
        const existing = deps.cachedJob(namespace, name) ?? (await client.get<V1Job>(objectPath('batch/v1', 'jobs', namespace, name)).catch(() => undefined));
        if (existing && controllingRunnerUid(existing) !== uid) {
          deps.send(uid, { type: 'JOB.FINISHED', at: at(), key: runKey, succeeded: false, message: `a Job named ${name} exists and does not belong to this Runner` });
          return;
        }
        log.info('Job exists already; this run has started');
        // It may have finished already (e.g. while the operator was down): no watch event will say so again.
        const outcome = existing ? jobOutcome(existing) : { phase: 'Running' as const };
        if (existing && outcome.phase !== 'Running') deps.jobEnded(uid, runKey, existing, outcome);
        return;
      }
      if (isPermanentFailure(code, attempt)) {
        log.warn({ err: errorText(err) }, 'Job refused by the API server');
        deps.send(uid, { type: 'JOB.FINISHED', at: at(), key: runKey, succeeded: false, message: `could not create Job ${name}: ${errorText(err)}` });
        return;
      }
      const delay = backoffDelay(JOB_CREATE_BACKOFF, attempt);
      log.warn({ err: errorText(err), retryInMs: delay }, 'could not create Job; retrying');
      const timer = setTimeout(() => {
        retries.delete(timer);
        if (deps.isActiveRun(uid, runKey)) void ensureJob(uid, run, attempt + 1);
      }, delay);
      retries.add(timer);
    }
  }
  const retries = new Set<NodeJS.Timeout>();

  /** The name of a run's Job: the one it has, else the one it gets (the prefix may have changed since). */
  const jobNameOf = (runner: Runner, runKey: string): string =>
    deps.jobOfRun(runner.metadata.uid!, runKey)?.metadata?.name ?? jobNameForRun(runner, runKey);

  const runnerOf = (self: { id: string }) => deps.runnerByUid(self.id);

  const machine = runnerMachine.provide({
    actions: {
      startJob: ({ context, self }) => {
        if (context.run) void ensureJob(self.id, context.run);
      },
      stopJob: ({ context, self }) => {
        const runner = runnerOf(self);
        if (!context.run || !runner) return;
        const name = jobNameOf(runner, context.run.key);
        event(runner, 'Normal', 'RunReplaced', `Job ${name} replaced by a new run (concurrencyPolicy Replace)`);
        void deps.deleteJobNow(runner.metadata.namespace!, name);
      },
      runStarted: ({ context, self }) => {
        const runner = runnerOf(self);
        const run = lastRunStatus(runner ?? ({} as Runner), context);
        if (!runner || !run) return;
        // No Event: the status says it has started (Running, with its trigger), and the Event of its end says both.
        deps.metrics.runStarted(runner.metadata.namespace!, run.reason);
        deps.runHappened(runner, run);
      },
      runFinished: ({ context, self }) => reportFinished(self.id, context),
      tickSkipped: ({ context, self }) => {
        const runner = runnerOf(self);
        if (!runner) return;
        const why = !context.inputs.scheduled
          ? 'the Runner is no longer scheduled'
          : (deps.blockedMessage(self.id) ?? 'the operator was not running at that time');
        event(runner, 'Warning', 'TickSkipped', `Skipped the run scheduled for ${context.lastSkippedTick}: ${why}`);
        deps.metrics.tickSkipped(runner.metadata.namespace!);
      },
    },
  });

  /** Runner uid → the revision and result last told on the workloads it verified, and when. */
  const verdictTold = new Map<string, ToldVerdict>();

  function reportFinished(uid: string, context: RunnerContext): void {
    const runner = deps.runnerByUid(uid);
    // The name its Job has (the prefix may have changed since the run began): the one its status will show.
    const run = runner && context.run ? lastRunStatus(runner, context, jobNameOf(runner, context.run.key)) : undefined;
    if (!runner || !run || run.result === 'Running') return;
    const advisory = runner.spec.advisory === true;
    deps.metrics.runFinished(runner.metadata.namespace!, run.reason, run.result, { flaky: run.flaky === true, advisory });
    const { type, reason, message } = runFinishedEvent(run, advisory, { started: true });
    event(runner, type, reason, message);
    deps.runHappened(runner, run);
    const ok = run.result === 'Succeeded';
    const verdict = `${run.revision}/${run.result}`;
    const at = deps.now().getTime();
    const targets = deps.verifiedObjects(uid);
    if (targets.length === 0 || !verdictIsNews(verdictTold.get(uid), verdict, at)) return;
    verdictTold.set(uid, { verdict, at });
    const check = `${runner.metadata.namespace}/${runner.metadata.name}`;
    for (const target of targets) {
      deps.recorder.record(
        { apiVersion: target.apiVersion, kind: target.kind, namespace: target.namespace, name: target.name, ...(target.uid ? { uid: target.uid } : {}) },
        ok ? 'Normal' : 'Warning',
        ok ? 'CheckSucceeded' : 'CheckFailed',
        `check ${check} ${runEndHow(run)} for this revision (Job ${run.jobName})`,
      );
    }
  }

  /** Stops retries that are still waiting (the operator is stopping). */
  const stop = () => {
    for (const timer of retries) clearTimeout(timer);
    retries.clear();
  };

  /** The Runner is gone: nothing of it is kept. */
  const forget = (uid: string) => verdictTold.delete(uid);

  return { machine, ensureJob, forget, stop };
}

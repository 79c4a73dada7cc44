// The operator: watch caches in, actor events out. Each watch event is turned into INPUTS for
// exactly the Runners it concerns (found through indexes, never by listing the cluster), and
// each change of a Runner actor is rendered to its status and written once, coalesced.
import {
  CustomObjectsApi, type KubeConfig, type KubernetesObject, type V1CustomResourceDefinition, type V1Job, type V1Namespace,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import type { RunnerEvent } from '../machines/runner.ts';
import { ActorSystem, restorableSnapshot } from './actor-system.ts';
import { API_VERSION, type Runner } from './api/runner.ts';
import { assess, type Assessment, type SelectedWorkload } from './assess.ts';
import { systemClock, type Clock } from './clock.ts';
import { findCycles } from './cycles.ts';
import { eventRecorder, type Recorder } from './events.ts';
import { ANNOTATION_RUN_KEY, controllingRunnerUid, jobNameForRun, jobOutcome } from './job.ts';
import { jobEndReporter } from './job-failure.ts';
import { errorText, objectKey, ResilientInformer, type InformerSource } from './k8s/informer.ts';
import type { WorkloadKind } from './readiness.ts';
import { runnerEffects } from './runner-effects.ts';
import { nextTickFor, stableStateDeadline, TimerSlot } from './runner-time.ts';
import { missedTickDecision } from './schedule.ts';
import { SelectorIndex, Relation } from './selection.ts';
import { isEnabledWorkload, matchesLabelSelector } from './selectors.ts';
import { validateRunnerSpec, withDefaults } from './spec.ts';
import { renderStatus } from './status.ts';
import { StatusWriter } from './status-writer.ts';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  clock?: Clock;
  /** How long status changes of one Runner are gathered into one write. */
  statusCoalesceMs?: number;
  recorder?: Recorder;
  /** Receives XState inspection events of every Runner actor (`hestia run --inspect`). */
  inspect?: (event: InspectionEvent) => void;
}

const WORKLOAD_SOURCES: Record<WorkloadKind, InformerSource> = {
  Deployment: { apiVersion: 'apps/v1', kind: 'Deployment', path: '/apis/apps/v1/deployments' },
  StatefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', path: '/apis/apps/v1/statefulsets' },
  DaemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', path: '/apis/apps/v1/daemonsets' },
  DeploymentConfig: {
    apiVersion: 'apps.openshift.io/v1',
    kind: 'DeploymentConfig',
    path: '/apis/apps.openshift.io/v1/deploymentconfigs',
  },
};
const DEPLOYMENT_CONFIG_CRD = 'deploymentconfigs.apps.openshift.io';
/** A run this young whose Job is missing was not created yet, even with ttlSecondsAfterFinished 0. */
const RECREATE_GRACE_MS = 60_000;

const workloadKey = (kind: WorkloadKind, o: KubernetesObject) => `${kind}/${objectKey(o)}`;
const parseWorkloadKey = (key: string) => {
  const [kind, namespace, name] = key.split('/') as [WorkloadKind, string, string];
  return { kind, namespace, name };
};
const labelsOf = (o: KubernetesObject | undefined) => o?.metadata?.labels ?? {};
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

interface RunnerRuntime {
  uid: string;
  assessment: Assessment | null;
  reconcileError: string | null;
  /** The Stalled reason and message last announced with an Event, so each is announced once. */
  announcedStall: string | null;
  tickTimer: TimerSlot;
  stableTimer: TimerSlot;
  unsubscribe: () => void;
}

export class Operator {
  private readonly kc: KubeConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly recorder: Recorder;
  private readonly inspect: ((event: InspectionEvent) => void) | undefined;

  private readonly runners: ResilientInformer<Runner>;
  private readonly jobs: ResilientInformer<V1Job>;
  private readonly namespaces: ResilientInformer<V1Namespace>;
  private readonly crds: ResilientInformer<V1CustomResourceDefinition>;
  private readonly workloads = new Map<WorkloadKind, ResilientInformer<KubernetesObject>>();

  private readonly workloadSelectors = new SelectorIndex();
  private readonly runnerSelectors = new SelectorIndex();
  /** Runner key → keys of the workloads it selects. */
  private readonly selectsWorkload = new Relation();
  /** Runner key → keys of the upstream Runners it selects. */
  private readonly selectsRunner = new Relation();
  /** Runner uid → keys of its Jobs. */
  private readonly jobsOf = new Relation();
  private readonly keyByUid = new Map<string, string>();
  /** Runners with a namespaceSelector: the only ones a namespace's labels concern. */
  private readonly namespaceScoped = new Set<string>();
  private readonly runtime = new Map<string, RunnerRuntime>();
  private cycleOf = new Map<string, string[]>();

  private system: ActorSystem | null = null;
  private readonly statusWriter: StatusWriter;
  private readonly effects: ReturnType<typeof runnerEffects>;
  private readonly jobEnded: ReturnType<typeof jobEndReporter>;
  private started = false;

  constructor(options: OperatorOptions) {
    this.kc = options.kubeConfig;
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.inspect = options.inspect;
    this.recorder = options.recorder ?? eventRecorder(this.kc, this.log, () => this.clock.now());
    this.runners = new ResilientInformer(this.kc, { apiVersion: API_VERSION, kind: 'Runner', path: '/apis/e2e.stakater.com/v1alpha1/runners' }, this.log);
    // Only Jobs that Runners made: the label is set on every one of them.
    this.jobs = new ResilientInformer(this.kc, { apiVersion: 'batch/v1', kind: 'Job', path: '/apis/batch/v1/jobs', labelSelector: 'runner.stakater.com/name' }, this.log);
    this.namespaces = new ResilientInformer(this.kc, { apiVersion: 'v1', kind: 'Namespace', path: '/api/v1/namespaces' }, this.log);
    this.crds = new ResilientInformer(
      this.kc,
      { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', fieldSelector: `metadata.name=${DEPLOYMENT_CONFIG_CRD}` },
      this.log,
    );
    this.statusWriter = new StatusWriter(
      this.kc,
      { render: (key) => this.renderFor(key) },
      this.log,
      options.statusCoalesceMs ?? 100,
      (key, error) => this.setReconcileError(key, error),
    );
    const isActiveRun = (uid: string, runKey: string) => {
      const run = this.system?.view(uid)?.context.run;
      return run?.key === runKey && run.result === null;
    };
    this.effects = runnerEffects({
      kc: this.kc,
      log: this.log,
      recorder: this.recorder,
      now: () => this.clock.now(),
      runnerByUid: (uid) => this.runnerByUid(uid),
      cachedJob: (ns, name) => this.jobs.get(ns, name),
      jobOfRun: (uid, runKey) => this.jobOfRun(uid, runKey),
      isActiveRun,
      verifiedObjects: (uid) => this.verifiedObjects(uid),
      blockedMessage: (uid) => this.runtime.get(this.keyByUid.get(uid) ?? '')?.assessment?.blockedMessage ?? null,
      send: (uid, event) => setImmediate(() => this.sendToRunner(uid, event)),
    });
    this.jobEnded = jobEndReporter({
      kc: this.kc,
      log: this.log,
      now: () => this.clock.now(),
      isActiveRun,
      send: (uid, event) => this.sendToRunner(uid, event),
    });
  }

  /** True once every watch cache is in sync; false while one is being re-established. */
  get ready(): boolean {
    return this.started && [this.runners, this.jobs, this.namespaces, ...this.workloads.values()].every((i) => i.synced);
  }

  get stats() {
    return {
      runners: this.runners.size,
      statusWrites: this.statusWriter.writes,
      statusWritesSkipped: this.statusWriter.skipped,
      watchRestarts: [this.runners, this.jobs, this.namespaces, this.crds, ...this.workloads.values()].reduce((n, i) => n + i.restarts, 0),
    };
  }

  async start(): Promise<void> {
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as const) this.workloads.set(kind, new ResilientInformer(this.kc, WORKLOAD_SOURCES[kind], this.log));
    await Promise.all([this.runners.start(), this.jobs.start(), this.namespaces.start(), ...[...this.workloads.values()].map((i) => i.start())]);
    await this.startDeploymentConfigsIfServed();

    // Indexes first, from the synced caches; then the actors, restored from status.snapshot.
    for (const runner of this.runners.list()) this.indexRunner(runner);
    for (const [kind, informer] of this.workloads) for (const w of informer.list()) this.matchWorkload(kind, undefined, w);
    for (const runner of this.runners.list()) this.matchUpstreams(runner);
    for (const job of this.jobs.list()) this.indexJob(job);
    this.recomputeCycles();

    const restored = new Map<string, Record<string, unknown>>();
    for (const runner of this.runners.list()) {
      const snapshot = restorableSnapshot(runner.status?.snapshot);
      if (snapshot) restored.set(runner.metadata.uid!, snapshot);
      else if (runner.status?.snapshot) this.log.warn({ runner: objectKey(runner) }, 'status.snapshot does not fit the machine; starting this Runner afresh');
    }
    this.system = new ActorSystem(this.effects.machine, restored, this.inspect);
    this.system.start();
    for (const runner of this.runners.list()) this.addActor(runner);
    for (const runner of this.runners.list()) this.resumeRun(runner);
    for (const runner of this.runners.list()) this.catchUpMissedTick(runner);

    this.runners.onChange((prev, cur) => this.runnerChanged(prev, cur));
    this.runners.onDelete((r) => this.runnerDeleted(r));
    for (const [kind, informer] of this.workloads) this.watchWorkloads(kind, informer);
    this.jobs.onChange((_, job) => this.jobChanged(job));
    this.jobs.onDelete((job) => this.jobDeleted(job));
    // A new namespace holds nothing yet; only a label change can change what selectors see.
    this.namespaces.onChange((prev, cur) => {
      if (prev && this.namespaceScoped.size > 0 && !sameJson(labelsOf(prev), labelsOf(cur))) this.namespaceLabelsChanged();
    });
    this.started = true;
    this.log.info({ runners: this.runners.size, restored: restored.size }, 'operator started');
  }

  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.dcProbe);
    this.statusWriter.stop();
    this.effects.stop();
    for (const rt of this.runtime.values()) this.disarmTimers(rt);
    this.system?.stop();
    await Promise.all([this.runners, this.jobs, this.namespaces, this.crds, ...this.workloads.values()].map((i) => i.stop()));
  }

  // ---- DeploymentConfig: only where the API exists (SPEC §6) ------------------------------

  private async startDeploymentConfigsIfServed(): Promise<void> {
    const served = await this.deploymentConfigsServed();
    if (served === true) await this.startDeploymentConfigs();
    else {
      this.log.info('the DeploymentConfig API (apps.openshift.io/v1) is not served; skipping it until it appears');
      // Unknown (not a 404: e.g. an aggregated API server still starting): ask again, with backoff.
      if (served === 'unknown') this.probeDeploymentConfigsLater(5_000);
    }
    this.crds.onChange((_, crd) => {
      const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      if (established && !this.workloads.has('DeploymentConfig')) {
        this.log.info('the DeploymentConfig API appeared; watching DeploymentConfigs');
        this.startDeploymentConfigs()
          .then(() => this.rematchAll('DeploymentConfig'))
          .catch((err: unknown) => this.log.error({ err: errorText(err) }, 'could not watch DeploymentConfigs'));
      }
    });
    await this.crds.start();
  }

  private async deploymentConfigsServed(): Promise<boolean | 'unknown'> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    try {
      await api.listClusterCustomObject({ group: 'apps.openshift.io', version: 'v1', plural: 'deploymentconfigs', limit: 1 });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return false;
      this.log.warn({ err: errorText(err) }, 'could not tell whether DeploymentConfigs are served');
      return 'unknown';
    }
  }

  private dcProbe: NodeJS.Timeout | undefined;

  private probeDeploymentConfigsLater(delayMs: number): void {
    this.dcProbe = setTimeout(() => {
      if (!this.started || this.workloads.has('DeploymentConfig')) return;
      void this.deploymentConfigsServed().then((served) => {
        if (served === true) {
          this.log.info('the DeploymentConfig API is served now; watching DeploymentConfigs');
          return this.startDeploymentConfigs().then(() => this.rematchAll('DeploymentConfig'));
        }
        if (served === 'unknown') this.probeDeploymentConfigsLater(Math.min(delayMs * 2, 300_000));
      }).catch((err: unknown) => this.log.error({ err: errorText(err) }, 'could not watch DeploymentConfigs'));
    }, delayMs);
  }

  private async startDeploymentConfigs(): Promise<void> {
    if (this.workloads.has('DeploymentConfig')) return;
    const informer = new ResilientInformer<KubernetesObject>(this.kc, WORKLOAD_SOURCES.DeploymentConfig, this.log);
    this.workloads.set('DeploymentConfig', informer);
    await informer.start();
    if (this.started) this.watchWorkloads('DeploymentConfig', informer);
  }

  private rematchAll(kind: WorkloadKind): void {
    for (const w of this.workloads.get(kind)?.list() ?? []) this.workloadChanged(kind, undefined, w);
  }

  // ---- Runners -----------------------------------------------------------------------------

  private runnerByUid(uid: string): Runner | undefined {
    const key = this.keyByUid.get(uid);
    if (!key) return undefined;
    const [ns, name] = key.split('/') as [string, string];
    return this.runners.get(ns, name);
  }

  private runnerByKey(key: string): Runner | undefined {
    const [ns, name] = key.split('/') as [string, string];
    return this.runners.get(ns, name);
  }

  private indexRunner(runner: Runner): void {
    const key = objectKey(runner);
    this.keyByUid.set(runner.metadata.uid!, key);
    this.workloadSelectors.set(key, runner.spec?.workloadSelector);
    this.runnerSelectors.set(key, runner.spec?.runnerSelector);
    if (runner.spec?.namespaceSelector) this.namespaceScoped.add(key);
    else this.namespaceScoped.delete(key);
  }

  private addActor(runner: Runner): void {
    const uid = runner.metadata.uid!;
    const key = objectKey(runner);
    const assessment = this.assessRunner(runner);
    if (!this.system!.has(uid)) {
      this.system!.send({ type: 'RUNNER.ADDED', uid, input: { inputs: assessment.inputs, at: this.now() } });
    }
    const stalled = runner.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    const rt: RunnerRuntime = {
      uid,
      assessment,
      reconcileError: null,
      announcedStall: stalled ? `${stalled.reason}: ${stalled.message}` : null,
      tickTimer: new TimerSlot(),
      stableTimer: new TimerSlot(),
      unsubscribe: () => {},
    };
    this.runtime.set(key, rt);
    rt.unsubscribe = this.system!.subscribe(uid, () => this.actorChanged(key));
    this.sendToRunner(uid, { type: 'INPUTS', at: this.now(), inputs: assessment.inputs });
    this.announceStall(runner, rt);
    this.actorChanged(key);
  }

  /** An invalid spec or a dependency cycle is told once as a Warning Event on the Runner (SPEC §5). */
  private announceStall(runner: Runner, rt: RunnerRuntime): void {
    const a = rt.assessment;
    const reason = !a?.inputs.valid ? 'InvalidSpec' : a.cycle ? 'DependencyCycle' : null;
    const notice = reason ? `${reason}: ${a?.blockedMessage ?? ''}` : null;
    if (notice === rt.announcedStall) return;
    rt.announcedStall = notice;
    if (!reason) return;
    this.log.warn({ runner: objectKey(runner), reason, message: a?.blockedMessage }, 'Runner stalled');
    this.recorder.record(
      { apiVersion: API_VERSION, kind: 'Runner', namespace: runner.metadata.namespace!, name: runner.metadata.name!, uid: runner.metadata.uid! },
      'Warning',
      reason,
      a?.blockedMessage ?? reason,
    );
  }

  private runnerChanged(prev: Runner | undefined, cur: Runner): void {
    const key = objectKey(cur);
    if (prev && prev.metadata.uid !== cur.metadata.uid) this.runnerDeleted(prev);
    const isNew = !prev || prev.metadata.uid !== cur.metadata.uid;
    if (isNew) {
      this.indexRunner(cur);
      this.matchRunnerWorkloads(cur);
      this.matchUpstreams(cur);
      const concerned = this.matchAsUpstream(cur);
      for (const k of this.recomputeCycles()) concerned.add(k);
      this.addActor(cur);
      concerned.delete(key);
      this.reassess(concerned);
      return;
    }
    const specChanged = prev.metadata.generation !== cur.metadata.generation || !sameJson(prev.spec, cur.spec);
    const labelsChanged = !sameJson(prev.metadata.labels, cur.metadata.labels);
    const annotationsChanged = !sameJson(prev.metadata.annotations, cur.metadata.annotations);
    const affected = new Set<string>();
    if (specChanged) {
      this.indexRunner(cur);
      this.matchRunnerWorkloads(cur);
      this.matchUpstreams(cur);
      affected.add(key);
    }
    if (labelsChanged) for (const d of this.matchAsUpstream(cur)) affected.add(d);
    if (specChanged || labelsChanged) {
      for (const k of this.recomputeCycles()) affected.add(k);
    }
    if (annotationsChanged) affected.add(key);
    // Our own status writes come back here: they concern downstream Runners only when the
    // latest run's identity or result moved, and never this Runner itself.
    const runOf = (r: Runner) => [r.status?.lastRun?.jobName, r.status?.lastRun?.result];
    if (!sameJson(runOf(prev), runOf(cur))) {
      for (const d of this.selectsRunner.ownersOf(key)) affected.add(d);
    }
    this.reassess(affected);
  }

  private runnerDeleted(runner: Runner): void {
    const key = objectKey(runner);
    const uid = runner.metadata.uid!;
    const rt = this.runtime.get(key);
    if (rt && rt.uid === uid) {
      this.disarmTimers(rt);
      rt.unsubscribe();
      this.runtime.delete(key);
    }
    this.system?.send({ type: 'RUNNER.REMOVED', uid });
    this.statusWriter.forget(key);
    const downstream = [...this.selectsRunner.ownersOf(key)];
    this.workloadSelectors.delete(key);
    this.runnerSelectors.delete(key);
    this.namespaceScoped.delete(key);
    this.selectsWorkload.forgetOwner(key);
    this.selectsRunner.forgetOwner(key);
    this.selectsRunner.forgetTarget(key);
    if (this.keyByUid.get(uid) === key) this.keyByUid.delete(uid);
    const cycleMembers = this.recomputeCycles();
    this.reassess(new Set([...downstream, ...cycleMembers].filter((k) => k !== key)));
  }

  // ---- Matching ----------------------------------------------------------------------------

  private namespaceAllows(runner: Runner, namespace: string): boolean {
    const selector = runner.spec?.namespaceSelector;
    if (!selector) return true;
    return matchesLabelSelector(selector, labelsOf(this.namespaces.get('', namespace)));
  }

  private workloadMatches(runner: Runner, workload: KubernetesObject): boolean {
    const selector = runner.spec?.workloadSelector;
    return (
      selector !== undefined &&
      isEnabledWorkload(workload.metadata?.labels) &&
      matchesLabelSelector(selector, workload.metadata?.labels) &&
      this.namespaceAllows(runner, workload.metadata?.namespace ?? '')
    );
  }

  /** Re-files one workload against the Runners that may select it; returns the Runners concerned. */
  private matchWorkload(kind: WorkloadKind, prev: KubernetesObject | undefined, cur: KubernetesObject): Set<string> {
    const wkey = workloadKey(kind, cur);
    const concerned = new Set(this.selectsWorkload.ownersOf(wkey));
    if (prev && sameJson(labelsOf(prev), labelsOf(cur))) return concerned; // same labels, same matches
    for (const rkey of this.workloadSelectors.candidates(labelsOf(cur))) concerned.add(rkey);
    for (const rkey of concerned) {
      const runner = this.runnerByKey(rkey);
      this.selectsWorkload.setLinked(rkey, wkey, runner !== undefined && this.workloadMatches(runner, cur));
    }
    return concerned;
  }

  /** A Runner's selector changed (or it is new): find its workloads once, by scanning the caches. */
  private matchRunnerWorkloads(runner: Runner): void {
    const rkey = objectKey(runner);
    this.selectsWorkload.forgetOwner(rkey);
    if (!runner.spec?.workloadSelector) return;
    for (const [kind, informer] of this.workloads) {
      for (const w of informer.list()) if (this.workloadMatches(runner, w)) this.selectsWorkload.link(rkey, workloadKey(kind, w));
    }
  }

  private upstreamMatches(downstream: Runner, upstream: Runner): boolean {
    const selector = downstream.spec?.runnerSelector;
    return (
      selector !== undefined &&
      matchesLabelSelector(selector, upstream.metadata.labels) &&
      this.namespaceAllows(downstream, upstream.metadata.namespace!)
    );
  }

  private matchUpstreams(runner: Runner): void {
    const rkey = objectKey(runner);
    this.selectsRunner.forgetOwner(rkey);
    if (!runner.spec?.runnerSelector) return;
    for (const other of this.runners.list()) if (this.upstreamMatches(runner, other)) this.selectsRunner.link(rkey, objectKey(other));
  }

  /** A Runner's labels changed (or it is new): which Runners select it now. Returns those concerned. */
  private matchAsUpstream(runner: Runner): Set<string> {
    const ukey = objectKey(runner);
    const concerned = new Set(this.selectsRunner.ownersOf(ukey));
    for (const d of this.runnerSelectors.candidates(labelsOf(runner))) concerned.add(d);
    for (const dkey of concerned) {
      const downstream = this.runnerByKey(dkey);
      this.selectsRunner.setLinked(dkey, ukey, downstream !== undefined && this.upstreamMatches(downstream, runner));
    }
    return concerned;
  }

  private namespaceLabelsChanged(): void {
    const affected = new Set<string>();
    for (const key of this.namespaceScoped) {
      const runner = this.runnerByKey(key);
      if (!runner) continue;
      this.matchRunnerWorkloads(runner);
      this.matchUpstreams(runner);
      affected.add(objectKey(runner));
    }
    for (const k of this.recomputeCycles()) affected.add(k);
    this.reassess(affected);
  }

  /** Recomputes dependency cycles; returns the Runners whose cycle membership changed. */
  private recomputeCycles(): Set<string> {
    const edges = new Map<string, ReadonlySet<string>>();
    for (const runner of this.runners.list()) edges.set(objectKey(runner), this.selectsRunner.targetsOf(objectKey(runner)));
    const next = new Map<string, string[]>();
    for (const cycle of findCycles(edges)) for (const member of cycle) next.set(member, cycle);
    const changed = new Set<string>();
    for (const k of new Set([...this.cycleOf.keys(), ...next.keys()])) {
      if (!sameJson(this.cycleOf.get(k), next.get(k))) changed.add(k);
    }
    this.cycleOf = next;
    return changed;
  }

  // ---- Workloads ---------------------------------------------------------------------------

  private watchWorkloads(kind: WorkloadKind, informer: ResilientInformer<KubernetesObject>): void {
    informer.onChange((prev, cur) => this.workloadChanged(kind, prev, cur));
    informer.onDelete((w) => {
      const wkey = workloadKey(kind, w);
      const concerned = new Set(this.selectsWorkload.ownersOf(wkey));
      this.selectsWorkload.forgetTarget(wkey);
      this.reassess(concerned);
    });
  }

  private workloadChanged(kind: WorkloadKind, prev: KubernetesObject | undefined, cur: KubernetesObject): void {
    this.reassess(this.matchWorkload(kind, prev, cur));
  }

  // ---- Jobs --------------------------------------------------------------------------------

  private indexJob(job: V1Job): void {
    const uid = controllingRunnerUid(job);
    if (uid) this.jobsOf.link(uid, objectKey(job));
  }

  private jobChanged(job: V1Job): void {
    this.indexJob(job);
    const uid = controllingRunnerUid(job);
    if (!uid) return;
    const outcome = jobOutcome(job);
    if (outcome.phase === 'Running') return;
    const key = job.metadata?.annotations?.[ANNOTATION_RUN_KEY];
    if (key) this.jobEnded(uid, key, job, outcome);
    this.pruneHistory(uid);
  }

  private jobDeleted(job: V1Job): void {
    const uid = controllingRunnerUid(job);
    if (!uid) return;
    this.jobsOf.unlink(uid, objectKey(job));
    const key = job.metadata?.annotations?.[ANNOTATION_RUN_KEY];
    // Only the active run is affected; the machine ignores a key that is not its active run.
    if (key && jobOutcome(job).phase === 'Running') {
      this.sendToRunner(uid, { type: 'JOB.FINISHED', at: this.now(), key, succeeded: false, message: `Job ${job.metadata?.name} was deleted before it finished` });
    }
  }

  /** Deletes finished Jobs beyond the Runner's history limits (SPEC §4), newest kept. */
  private pruneHistory(uid: string): void {
    const runner = this.runnerByUid(uid);
    if (!runner) return;
    const settings = withDefaults(runner.spec);
    const finished = [...this.jobsOf.targetsOf(uid)]
      .map((k) => this.jobs.get(...(k.split('/') as [string, string])))
      .filter((j): j is V1Job => j !== undefined && !j.metadata?.deletionTimestamp)
      .map((j) => ({ job: j, outcome: jobOutcome(j), time: finishTime(j) }))
      .filter((j) => j.outcome.phase !== 'Running')
      .sort((a, b) => b.time - a.time);
    const keep = { Succeeded: settings.successfulRunsHistoryLimit, Failed: settings.failedRunsHistoryLimit };
    const seen = { Succeeded: 0, Failed: 0 };
    for (const { job, outcome } of finished) {
      const phase = outcome.phase as 'Succeeded' | 'Failed';
      seen[phase] += 1;
      if (seen[phase] > keep[phase]) {
        this.log.info({ runner: objectKey(runner), job: job.metadata?.name }, 'deleting Job beyond the history limit');
        void this.effects.deleteJobNamed(runner, job.metadata!.name!);
      }
    }
  }

  // ---- Actors ------------------------------------------------------------------------------

  private now(): string {
    return this.clock.now().toISOString();
  }

  private sendToRunner(uid: string, event: RunnerEvent): void {
    if (!this.system?.has(uid)) return;
    this.system.send({ type: 'RUNNER.EVENT', uid, event });
  }

  private assessRunner(runner: Runner): Assessment {
    const key = objectKey(runner);
    const workloads: SelectedWorkload[] = [];
    for (const wkey of this.selectsWorkload.targetsOf(key)) {
      const { kind, namespace, name } = parseWorkloadKey(wkey);
      const object = this.workloads.get(kind)?.get(namespace, name);
      if (object) workloads.push({ kind, object });
    }
    const upstreams = [...this.selectsRunner.targetsOf(key)].map((k) => this.runnerByKey(k)).filter((r): r is Runner => r !== undefined);
    return assess({ runner, workloads, upstreams, problems: validateRunnerSpec(runner.spec), cycle: this.cycleOf.get(key) ?? null });
  }

  private reassess(keys: Iterable<string>): void {
    for (const key of keys) {
      const runner = this.runnerByKey(key);
      const rt = this.runtime.get(key);
      if (!runner || !rt) continue;
      rt.assessment = this.assessRunner(runner);
      this.sendToRunner(rt.uid, { type: 'INPUTS', at: this.now(), inputs: rt.assessment.inputs });
      this.announceStall(runner, rt);
      this.statusWriter.schedule(key);
    }
  }

  private actorChanged(key: string): void {
    this.armTimers(key);
    this.statusWriter.schedule(key);
  }

  private setReconcileError(key: string, error: string | null): void {
    const rt = this.runtime.get(key);
    if (!rt || rt.reconcileError === error) return;
    rt.reconcileError = error;
    this.statusWriter.schedule(key); // ReconcileSuccess follows, both ways
  }

  private jobOfRun(uid: string, runKey: string): V1Job | undefined {
    for (const key of this.jobsOf.targetsOf(uid)) {
      const job = this.jobs.get(...(key.split('/') as [string, string]));
      if (job?.metadata?.annotations?.[ANNOTATION_RUN_KEY] === runKey) return job;
    }
    return undefined;
  }

  /**
   * A Runner restored in Running: its Job may have finished meanwhile, or be missing. Missing soon
   * after the run began means the operator stopped before creating it: create it (same name, so
   * never twice). Missing later means it is gone — removed by ttlSecondsAfterFinished or by hand
   * while the operator was down — and its result is unknown: the run ends Failed rather than run twice.
   */
  private resumeRun(runner: Runner): void {
    const uid = runner.metadata.uid!;
    const run = this.system!.view(uid)?.context.run;
    if (!run || run.result !== null) return;
    const job = this.jobOfRun(uid, run.key);
    if (job) return this.jobChanged(job);
    const ageMs = this.clock.now().getTime() - new Date(run.startedAt).getTime();
    const ttlMs = withDefaults(runner.spec).ttlSecondsAfterFinished * 1000;
    if (ageMs < Math.max(ttlMs, RECREATE_GRACE_MS)) {
      this.log.info({ runner: objectKey(runner), run: run.key }, 'restored a running Runner whose Job was never created; creating it');
      void this.effects.ensureJob(uid, run.key, run.revision);
    } else {
      const message = `Job ${jobNameForRun(runner, run.key)} is gone (deleted, or removed after ttlSecondsAfterFinished while the operator was down): its result is unknown`;
      this.sendToRunner(uid, { type: 'JOB.FINISHED', at: this.now(), key: run.key, succeeded: false, message });
    }
  }

  private verifiedObjects(uid: string) {
    const key = this.keyByUid.get(uid);
    if (!key) return [];
    const items: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string }[] = [];
    for (const wkey of this.selectsWorkload.targetsOf(key)) {
      const { kind, namespace, name } = parseWorkloadKey(wkey);
      const object = this.workloads.get(kind)?.get(namespace, name);
      items.push({ apiVersion: WORKLOAD_SOURCES[kind].apiVersion, kind, namespace, name, ...(object?.metadata?.uid ? { uid: object.metadata.uid } : {}) });
    }
    return items;
  }

  // ---- Time: schedule ticks and the stable-state timeout -----------------------------------

  private scheduleOf(runner: Runner): { schedule: string; timeZone: string | undefined } | null {
    const rt = this.runtime.get(objectKey(runner));
    if (!runner.spec?.schedule || !rt?.assessment?.inputs.valid) return null;
    return { schedule: runner.spec.schedule, timeZone: runner.spec.timeZone };
  }

  /** At start-up: the latest tick missed while the operator was down runs if startingDeadlineSeconds allows. */
  private catchUpMissedTick(runner: Runner): void {
    const sched = this.scheduleOf(runner);
    const view = this.system!.view(runner.metadata.uid!);
    if (!sched || !view) return;
    const decision = missedTickDecision({
      ...sched,
      lastTick: view.context.lastTick ? new Date(view.context.lastTick) : null,
      creationTime: new Date(runner.metadata.creationTimestamp ?? this.clock.now()),
      now: this.clock.now(),
      startingDeadlineSeconds: runner.spec.startingDeadlineSeconds,
    });
    if (!decision) return;
    if ('run' in decision) {
      this.log.info({ runner: objectKey(runner), tick: decision.run.toISOString() }, 'running a tick missed while the operator was down');
      this.sendToRunner(runner.metadata.uid!, { type: 'TICK', at: this.now(), tick: decision.run.toISOString() });
    } else {
      this.log.info({ runner: objectKey(runner), tick: decision.skip.toISOString() }, 'skipping a tick missed while the operator was down');
      this.sendToRunner(runner.metadata.uid!, { type: 'TICK.MISSED', at: this.now(), tick: decision.skip.toISOString() });
    }
  }

  private armTimers(key: string): void {
    const runner = this.runnerByKey(key);
    const rt = this.runtime.get(key);
    const view = rt ? this.system?.view(rt.uid) : null;
    if (!runner || !rt || !view) return;
    const now = this.clock.now();
    const next = this.scheduleOf(runner) ? nextTickFor(runner, view.context.lastTick, now) : null;
    rt.tickTimer.set(this.clock, next, (tick) => {
      this.sendToRunner(rt.uid, { type: 'TICK', at: this.now(), tick });
      this.armTimers(key);
    });
    const deadline = stableStateDeadline(runner, view.context.progressingSince);
    rt.stableTimer.set(this.clock, deadline && deadline > now ? deadline : null, () => this.statusWriter.schedule(key));
  }

  private disarmTimers(rt: RunnerRuntime): void {
    rt.tickTimer.clear();
    rt.stableTimer.clear();
  }

  // ---- Status ------------------------------------------------------------------------------

  private renderFor(key: string) {
    const runner = this.runnerByKey(key);
    const rt = this.runtime.get(key);
    const view = rt ? this.system?.view(rt.uid) : null;
    if (!runner || !rt || !view || !rt.assessment) return null;
    const deadline = stableStateDeadline(runner, view.context.progressingSince);
    return {
      uid: rt.uid,
      current: runner.status,
      desired: renderStatus({
        runner,
        state: view.state,
        context: view.context,
        snapshot: view.persisted,
        assessment: rt.assessment,
        now: this.now(),
        nextScheduleTime: rt.tickTimer.armedFor,
        stableStateTimedOut: deadline !== null && deadline <= this.clock.now() && view.state === 'WaitingForWorkloads',
        reconcileError: rt.reconcileError,
        ...(view.context.run ? { runJobName: this.jobOfRun(rt.uid, view.context.run.key)?.metadata?.name } : {}),
      }),
    };
  }
}

function finishTime(job: V1Job): number {
  const t = job.status?.completionTime ?? job.status?.conditions?.find((c) => c.status === 'True')?.lastTransitionTime ?? job.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

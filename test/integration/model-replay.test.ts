// Model paths replayed against the real control plane (issue: "a sample of generated paths, at least one through each
// state, is replayed against the real control plane through the operator, checking status.state after every step").
//
// The model is the pure Runner machine (machines/runner.ts) driven by a small *world*: what a test can do to a
// cluster, each abstract event being one such action.
//   world field   abstract event                                   cluster action
//   web           INPUTS workloadsReady true/false                 Deployment `web` without/with a pod nodeSelector no
//                                                                  node has (a stuck rollout)
//   up            INPUTS upstreamReady false, then true again      the upstream Runner `up` made to fail (FAIL_LABEL),
//                                                                  then to succeed: each is a new upstream run
//   invalid       INPUTS valid false/true                          spec.timeZone "Mars/Olympus" (admitted by the CRD,
//                                                                  refused by the operator) / removed
//   cycle         INPUTS cycle true/false                          spec.runnerSelector also selects the Runner itself
//   suspended     INPUTS suspended true/false                      spec.suspend
//   scheduled     INPUTS scheduled true/false                      spec.schedule "0 * * * *" / removed
//   fail          (the result of later runs)                       FAIL_LABEL on the Runner's pod template
//   -             TICK                                             the operator's AdjustableClock set to the next tick
//   -             JOB.FINISHED (result from the run's `fail`)      the run's Job let go: its pod may only run on a
//                                                                  tainted "gate" node, created for that step only
// Every input of the machine, including the revision, is a function of the world that mirrors the operator's
// (src/runner/assess.ts): the revision changes with the spec (not with `suspend`), with the Deployment's pod template and with
// the upstream's latest successful run. @xstate/graph walks the machine over these events (to a bounded depth) and a
// sample of its shortest paths is replayed: one per state, plus a tick that starts a run and a remembered tick skipped
// when the run ends blocked. After every step the Runner's status.state, and the persisted snapshot in its status
// (inputs, number of runs, the run's reason and result, ticks), must come to match the pure machine's.
import { getShortestPaths } from '@xstate/graph';
import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialTransition, transition, type ActorLogic, type SnapshotFrom } from 'xstate';
import {
  RUNNER_STATES, runnerMachine, type RunnerContext, type RunnerEvent, type RunnerInputs, type RunnerMachineInput,
} from '../../machines/runner.ts';
import { runnerStateOf } from '../../machines/runner-snapshot.ts';
import { GROUP, PLURAL, VERSION, type Runner, type RunnerSpec } from '../../src/api/runner.ts';
import { specRevisionHash } from '../../src/runner/assess.ts';
import { AdjustableClock } from '../../src/time/clock.ts';
import type { Operator } from '../../src/operator/operator.ts';
import { podTemplateHash } from '../../src/runner/readiness/readiness.ts';
import {
  apps, core, createNamespace, createRunner, custom, deleteNamespace, ENABLE, FAIL_LABEL, getRunner, installCrd, jobsOf, waitFor,
} from './support/kube.ts';
import { startOperator } from './support/operator.ts';

type Snapshot = SnapshotFrom<typeof runnerMachine>;
/** The Runner state (status.state) a snapshot is in. */
const stateOf = (s: { value: unknown }): string => runnerStateOf(s.value) ?? JSON.stringify(s.value);

// ---------------------------------------------------------------------------------------------
// The world and the abstract events.

interface World {
  web: 'ready' | 'stuck';
  /** The upstream's latest run: its first (succeeded), second (failed) or third (succeeded). */
  up: 1 | 2 | 3;
  invalid: boolean;
  cycle: boolean;
  suspended: boolean;
  scheduled: boolean;
  fail: boolean;
}

/** Where every path starts: the Runner is created while its Deployment is stuck and its upstream has succeeded. */
const WORLD0: World = { web: 'stuck', up: 1, invalid: false, cycle: false, suspended: false, scheduled: false, fail: false };
const TOGGLES = ['invalid', 'cycle', 'suspended', 'scheduled', 'fail'] as const;

const specPart = (w: World) => `spec ${JSON.stringify({ invalid: w.invalid, cycle: w.cycle, scheduled: w.scheduled, fail: w.fail })}`;

/** The machine's inputs in a world: as src/runner/assess.ts computes them, with the revision made of named parts. */
function inputsOf(w: World): RunnerInputs {
  const parts = [specPart(w), `web ${w.web}`, ...(w.up === 2 ? [] : [`up ${w.up}`])];
  return {
    valid: !w.invalid,
    suspended: w.suspended,
    cycle: w.cycle,
    workloadsReady: w.web === 'ready',
    upstreamReady: w.up !== 2,
    scheduled: w.scheduled,
    concurrencyPolicy: 'Forbid',
    revision: parts.join(' | '),
    parts,
    trigger: null,
  };
}

function worldOf(i: RunnerInputs): World {
  const spec = JSON.parse(i.parts[0]!.slice('spec '.length)) as Pick<World, 'invalid' | 'cycle' | 'scheduled' | 'fail'>;
  const up = i.parts.includes('up 3') ? 3 : i.parts.includes('up 1') ? 1 : 2;
  return { ...spec, web: i.workloadsReady ? 'ready' : 'stuck', up, suspended: i.suspended };
}

/** Did the run with these parts use a pod template that fails? */
const runFails = (parts: readonly string[]): boolean => worldOf({ ...inputsOf(WORLD0), parts }).fail;

const AT = '2031-01-01T00:00:00.000Z';
const MAX_TICKS = 2;
const MAX_DEPTH = 5;

/** The events a test can cause in a snapshot (each one cluster action). */
function eventsIn(s: Snapshot): RunnerEvent[] {
  const w = worldOf(s.context.inputs);
  const worlds: World[] = [
    { ...w, web: w.web === 'ready' ? 'stuck' : 'ready' },
    ...(w.up === 1 ? [{ ...w, up: 2 as const }] : w.up === 2 ? [{ ...w, up: 3 as const }] : []),
    ...TOGGLES.map((t) => ({ ...w, [t]: !w[t] })),
  ];
  const events: RunnerEvent[] = worlds.map((next) => ({ type: 'INPUTS', at: AT, inputs: inputsOf(next) }));
  // The operator keeps a tick timer only for a valid, scheduled Runner.
  const ticks = s.context.lastTick === null ? 0 : Number(s.context.lastTick.slice(1));
  if (w.scheduled && !w.invalid && ticks < MAX_TICKS) events.push({ type: 'TICK', at: AT, tick: `T${ticks + 1}` });
  const run = s.context.run;
  if (run !== null && run.result === null) {
    const succeeded = !runFails(run.parts);
    events.push({ type: 'JOB.FINISHED', at: AT, key: run.key, succeeded, message: succeeded ? 'ok' : 'BackoffLimitExceeded' });
  }
  return events;
}

/** A snapshot's identity for the walk: without the run number (unbounded) and the history-only fields. */
function identity(s: Snapshot): string {
  const { runs: _runs, now: _now, lastSucceededAt: _s, lastFailedAt: _f, lastSkippedTick: _k, run, ...context } = s.context;
  const { previousParts: _p, previousResult: _r, startedAt: _st, finishedAt: _fi, key, ...rest } = run ?? { key: '' };
  return JSON.stringify([s.value, context, run === null ? null : { ...rest, key: key.replace(/^\d+:/, '') }]);
}

interface Step {
  event: RunnerEvent;
  before: Snapshot;
  after: Snapshot;
}
interface ModelPath {
  initial: Snapshot;
  steps: Step[];
}

function describeStep(step: Step): string {
  const e = step.event;
  if (e.type === 'TICK') return `tick ${e.tick}`;
  if (e.type === 'JOB.FINISHED') return `Job ${e.succeeded ? 'succeeds' : 'fails'}`;
  if (e.type === 'TICK.MISSED') return `missed ${e.tick}`;
  const [a, b] = [worldOf(step.before.context.inputs), worldOf(e.inputs)];
  if (a.web !== b.web) return `web ${b.web}`;
  if (a.up !== b.up) return b.up === 2 ? 'upstream fails' : 'upstream succeeds';
  const t = TOGGLES.find((k) => a[k] !== b[k])!;
  return `${b[t] ? '' : 'not '}${t}`;
}

const describePath = (p: ModelPath): string =>
  [stateOf(p.initial), ...p.steps.map((s) => `[${describeStep(s)}] ${stateOf(s.after)}`)].join(' → ');

/** @xstate/graph's shortest paths over the model, to MAX_DEPTH steps. */
function modelPaths(): ModelPath[] {
  const depth = new WeakMap<Snapshot, number>();
  const logic: ActorLogic<Snapshot, RunnerEvent, RunnerMachineInput> = {
    getInitialSnapshot: (scope, input) => runnerMachine.getInitialSnapshot(scope, input),
    getPersistedSnapshot: (s) => runnerMachine.getPersistedSnapshot(s),
    transition: (s, event, scope) => {
      const next = runnerMachine.transition(s, event, scope);
      if (!depth.has(next)) depth.set(next, (depth.get(s) ?? 0) + 1);
      return next;
    },
  };
  const paths = getShortestPaths(logic, {
    input: { inputs: inputsOf(WORLD0), at: AT },
    events: (s) => ((depth.get(s) ?? 0) >= MAX_DEPTH ? [] : eventsIn(s)),
    serializeState: identity,
  });
  return paths.map((p) => ({
    initial: p.steps[0]!.state,
    steps: p.steps.slice(1).map((step, i) => ({ event: step.event, before: p.steps[i]!.state, after: step.state })),
  }));
}

/**
 * The sample: the shortest path (ties broken by its description) with a tick that starts a run, one with a tick
 * remembered during a run and skipped when the run ends blocked, then one ending in each state not yet passed.
 * A Job is let go only when its run ends in a resting state: a run started at once after it would find the gate open.
 */
function sample(all: ModelPath[]): ModelPath[] {
  const replayable = all
    .filter((p) => p.steps.every((s) => s.event.type !== 'JOB.FINISHED' || stateOf(s.after) !== 'Running'))
    .sort((a, b) => a.steps.length - b.steps.length || describePath(a).localeCompare(describePath(b)));
  const wanted: ((p: ModelPath) => boolean)[] = [
    (p) => p.steps.some((s) => s.event.type === 'TICK' && stateOf(s.before) === 'Scheduled' && stateOf(s.after) === 'Running'),
    (p) =>
      p.steps.some(
        (s) => s.event.type === 'JOB.FINISHED' && s.before.context.dueTick !== null && s.after.context.lastSkippedTick === s.before.context.dueTick,
      ),
  ];
  const chosen: ModelPath[] = wanted.map((w) => replayable.find(w)!).filter(Boolean);
  const passes = (p: ModelPath) => new Set([p.initial, ...p.steps.map((s) => s.after)].map(stateOf));
  for (const state of RUNNER_STATES) {
    if (chosen.some((p) => passes(p).has(state))) continue;
    const path = replayable.find((p) => stateOf(p.steps.at(-1)?.after ?? p.initial) === state);
    if (path) chosen.push(path);
  }
  return chosen.map(rerun);
}

/**
 * The path's snapshots, computed again event by event: the walk keeps one snapshot per identity, so the snapshots
 * along a path it returns may differ in what the identity leaves out (the run number).
 */
function rerun(path: ModelPath): ModelPath {
  let [before] = initialTransition(runnerMachine, { inputs: inputsOf(WORLD0), at: AT });
  const initial = before;
  const steps = path.steps.map(({ event }) => {
    const [after] = transition(runnerMachine, before, event);
    const step = { event, before, after };
    before = after;
    return step;
  });
  return { initial, steps };
}

// ---------------------------------------------------------------------------------------------
// The cluster side.

const SCHEDULE = '0 * * * *';
const GATE_KEY = 'hestia.test/model-gate';
const ROLE = 'hestia.test/model-role';
const STEP_TIMEOUT_MS = 30_000;

let operator: Operator | undefined;
const clock = new AdjustableClock(new Date('2031-03-03T10:00:30Z'));
const namespaces: string[] = [];

beforeAll(async () => {
  await installCrd();
  operator = await startOperator({ clock });
});

afterAll(async () => {
  await operator?.stop();
  await Promise.all(namespaces.map(deleteNamespace));
});

/** One replay's objects: a namespace, labels no other test uses (selectors look in every namespace), a gate node. */
class Stage {
  readonly ns: string;
  readonly id: string;
  readonly gate: string;
  /** Real tick times, by the model's tick names. */
  readonly ticks = new Map<string, string>();
  world: World = WORLD0;

  constructor(ns: string) {
    this.ns = ns;
    this.id = ns;
    this.gate = `gate-${ns}`;
  }

  webManifest(w: World): V1Deployment {
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: this.ns, labels: { app: `web-${this.id}`, ...ENABLE } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: `web-${this.id}` } },
        template: {
          metadata: { labels: { app: `web-${this.id}` } },
          spec: {
            containers: [{ name: 'app', image: 'busybox' }],
            ...(w.web === 'stuck' ? { nodeSelector: { 'hestia.test/none': 'none' } } : {}),
          },
        },
      },
    };
  }

  upSpec(w: World): RunnerSpec {
    return {
      backoffLimit: 0,
      template: {
        ...(w.up === 2 ? { metadata: { labels: FAIL_LABEL } } : {}),
        spec: { containers: [{ name: 'check', image: 'busybox' }], restartPolicy: 'Never' },
      },
    };
  }

  subjectSpec(w: World): RunnerSpec {
    const up = { matchLabels: { [ROLE]: `up-${this.id}` } };
    const upAndSelf = { matchExpressions: [{ key: ROLE, operator: 'In', values: [`up-${this.id}`, `subject-${this.id}`] }] };
    return {
      workloadSelector: { matchLabels: { app: `web-${this.id}` } },
      runnerSelector: w.cycle ? upAndSelf : up,
      backoffLimit: 0,
      ...(w.suspended ? { suspend: true } : {}),
      ...(w.scheduled ? { schedule: SCHEDULE } : {}),
      ...(w.invalid ? { timeZone: 'Mars/Olympus' } : {}),
      template: {
        ...(w.fail ? { metadata: { labels: FAIL_LABEL } } : {}),
        spec: {
          containers: [{ name: 'check', image: 'busybox' }],
          restartPolicy: 'Never',
          // Held until the test creates the gate node; the taint keeps every other pod off that node.
          nodeSelector: { [GATE_KEY]: this.gate },
          tolerations: [{ key: GATE_KEY, operator: 'Equal', value: this.gate, effect: 'NoSchedule' }],
        },
      },
    };
  }

  runner(name: 'up' | 'subject', spec: RunnerSpec): Runner {
    return {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Runner',
      metadata: { name, namespace: this.ns, labels: { [ROLE]: `${name}-${this.id}` } },
      spec,
    };
  }

  async setUp(): Promise<void> {
    await apps.createNamespacedDeployment({ namespace: this.ns, body: this.webManifest(WORLD0) });
    await createRunner(this.runner('up', this.upSpec(WORLD0)));
    await this.upSettled(WORLD0);
    await createRunner(this.runner('subject', this.subjectSpec(WORLD0)));
  }

  /** The upstream's latest run is the world's: its number and result. */
  async upSettled(w: World): Promise<void> {
    await waitFor(`upstream run ${w.up} ${w.up === 2 ? 'failed' : 'succeeded'}`, async () => {
      const up = await getRunner(this.ns, 'up');
      const runs = (up.status?.snapshot as { context?: RunnerContext } | undefined)?.context?.runs;
      return runs === w.up && up.status?.lastRun?.result === (w.up === 2 ? 'Failed' : 'Succeeded');
    }, STEP_TIMEOUT_MS);
  }

  /** Replaces a Runner's spec (read, modify, write; again on a conflict with the operator's status writes). */
  async replaceSpec(name: 'up' | 'subject', spec: RunnerSpec): Promise<void> {
    await waitFor(`Runner ${name} spec replaced`, async () => {
      const current = await getRunner(this.ns, name);
      try {
        await custom.replaceNamespacedCustomObject({
          group: GROUP, version: VERSION, namespace: this.ns, plural: PLURAL, name, body: { ...current, spec },
        });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 409) return false;
        throw err;
      }
    }, STEP_TIMEOUT_MS);
  }

  async replaceWeb(w: World): Promise<void> {
    await waitFor('Deployment web replaced', async () => {
      const current = await apps.readNamespacedDeployment({ namespace: this.ns, name: 'web' });
      current.spec!.template = this.webManifest(w).spec!.template;
      try {
        await apps.replaceNamespacedDeployment({ namespace: this.ns, name: 'web', body: current });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 409) return false;
        throw err;
      }
    }, STEP_TIMEOUT_MS);
  }

  async openGate(): Promise<void> {
    await core.createNode({
      body: {
        metadata: { name: this.gate, labels: { [GATE_KEY]: this.gate }, annotations: { 'kwok.x-k8s.io/node': 'fake' } },
        spec: { taints: [{ key: GATE_KEY, value: this.gate, effect: 'NoSchedule' }] },
      },
    });
  }

  async closeGate(): Promise<void> {
    await core.deleteNode({ name: this.gate }).catch(() => undefined);
    await waitFor(`gate node ${this.gate} gone`, async () => {
      try {
        await core.readNode({ name: this.gate });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    }, STEP_TIMEOUT_MS);
  }

  /** Performs one abstract event on the cluster. */
  async perform(step: Step): Promise<void> {
    const e = step.event;
    switch (e.type) {
      case 'INPUTS': {
        const next = worldOf(e.inputs);
        const before = this.world;
        this.world = next;
        if (next.web !== before.web) return this.replaceWeb(next);
        if (next.up !== before.up) {
          await this.replaceSpec('up', this.upSpec(next));
          return this.upSettled(next);
        }
        return this.replaceSpec('subject', this.subjectSpec(next));
      }
      case 'TICK': {
        const subject = await waitForSubject(this, 'a next schedule time', (r) => !!r.status?.nextScheduleTime);
        const tick = subject.status!.nextScheduleTime!;
        this.ticks.set(e.tick, tick);
        clock.set(new Date(tick));
        return;
      }
      case 'JOB.FINISHED':
        return this.openGate();
      case 'TICK.MISSED':
        throw new Error('not part of the model');
    }
  }

  /** The parts of the subject's revision, as the operator must compute them from the cluster now. */
  async expectedParts(): Promise<string[]> {
    const [subject, web, up] = await Promise.all([
      getRunner(this.ns, 'subject'),
      apps.readNamespacedDeployment({ namespace: this.ns, name: 'web' }),
      getRunner(this.ns, 'up'),
    ]);
    return [
      `spec@${specRevisionHash(subject)}`,
      `Deployment/${this.ns}/web@${podTemplateHash(web)}.${web.metadata!.uid!.slice(0, 8)}`,
      ...(up.status?.lastRun?.result === 'Succeeded' ? [`Runner/${this.ns}/up@${up.status.lastRun.jobName}`] : []),
    ].sort();
  }
}

async function waitForSubject(stage: Stage, what: string, check: (r: Runner) => boolean): Promise<Runner> {
  return waitFor(`Runner ${stage.ns}/subject: ${what}`, async () => {
    const r = await getRunner(stage.ns, 'subject');
    return check(r) ? r : undefined;
  }, STEP_TIMEOUT_MS);
}

/** What of the model's snapshot the Runner's status must show (ticks translated to their real times). */
function view(value: unknown, c: RunnerContext, tickTime: (t: string | null) => string | null) {
  const { valid, suspended, cycle, workloadsReady, upstreamReady, scheduled } = c.inputs;
  return {
    state: stateOf({ value }),
    inputs: { valid, suspended, cycle, workloadsReady, upstreamReady, scheduled },
    runs: c.runs,
    run: c.run === null ? null : { reason: c.run.reason, result: c.run.result },
    dueTick: tickTime(c.dueTick),
    lastTick: tickTime(c.lastTick),
    lastSkippedTick: tickTime(c.lastSkippedTick),
  };
}

/** Waits until the Runner's status matches the model's snapshot and its inputs are those of the cluster now. */
async function expectInStep(stage: Stage, expected: Snapshot, label: string): Promise<Runner> {
  const want = view(expected.value, expected.context, (t) => (t === null ? null : (stage.ticks.get(t) ?? `unmapped ${t}`)));
  const parts = await stage.expectedParts();
  const self = `Runner/${stage.ns}/subject@`;
  let last: unknown;
  try {
    return await waitForSubject(stage, `${label}: ${want.state}`, (r) => {
      const snapshot = r.status?.snapshot as { value?: unknown; context?: RunnerContext } | undefined;
      if (!snapshot?.context) return false;
      const got = view(snapshot.value, snapshot.context, (t) => t);
      // In a cycle the Runner is its own upstream, so whether its own latest run succeeded is part of upstreamReady (and
      // of the revision, below); the model leaves that out, as the cycle decides the state whatever it is.
      if (want.inputs.cycle) got.inputs.upstreamReady = want.inputs.upstreamReady;
      // In a cycle the Runner is its own upstream: its own latest run is then part of its revision.
      const gotParts = snapshot.context.inputs.parts.filter((p) => !p.startsWith(self));
      last = { ...got, parts: gotParts, statusState: r.status?.state };
      return r.status?.state === want.state && JSON.stringify(got) === JSON.stringify(want) && JSON.stringify(gotParts) === JSON.stringify(parts);
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n  model:  ${JSON.stringify({ ...want, parts })}\n  status: ${JSON.stringify(last)}`);
  }
}

// ---------------------------------------------------------------------------------------------

const PATHS = sample(modelPaths());

describe('model paths replayed on the real control plane', () => {
  it('sample: a path through each of the 9 states, a tick that runs, a remembered tick skipped', () => {
    const passed = new Set(PATHS.flatMap((p) => [p.initial, ...p.steps.map((s) => s.after)].map(stateOf)));
    expect(RUNNER_STATES.filter((s) => !passed.has(s))).toEqual([]);
    expect(PATHS.length).toBeLessThanOrEqual(10);
    console.log(`model-replay sample (${PATHS.length} paths):\n${PATHS.map((p) => `  ${describePath(p)}`).join('\n')}`);
  });

  for (const path of PATHS) {
    it(describePath(path), async () => {
      const ns = await createNamespace('model');
      namespaces.push(ns);
      const stage = new Stage(ns);
      await stage.setUp();
      await expectInStep(stage, path.initial, 'created');
      for (const [i, step] of path.steps.entries()) {
        await stage.perform(step);
        const runner = await expectInStep(stage, step.after, `after step ${i + 1} [${describeStep(step)}]`);
        if (stateOf(step.after) === 'Running') {
          // The run's Job exists (held at the gate).
          const jobs = await jobsOf(ns, 'subject');
          expect(jobs.map((j) => j.metadata?.name)).toContain(runner.status?.lastRun?.jobName);
        }
        if (step.event.type === 'JOB.FINISHED') await stage.closeGate();
      }
      // Every run the model started is a Job of its own.
      const runs = path.steps.at(-1)?.after.context.runs ?? path.initial.context.runs;
      expect(new Set((await jobsOf(ns, 'subject')).map((j) => j.metadata?.name)).size).toBe(runs);
    });
  }
});

// docs/verdicts.md, checked: Runners driven into every state on the real control plane, then what
// the real kstatus library (sigs.k8s.io/cli-utils, what Flux's health checks run), Argo CD's Lua VM
// running deploy/argocd/runner-health.lua, and `kubectl wait --for=condition=Ready` conclude about
// the Runners exactly as the operator wrote them. Also: what a failed Job said (status.lastRun.message).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type Runner } from '../../src/api/runner.ts';
import { runTool } from '../support/tools.ts';
import { gate, type Gate } from './support/gate.ts';
import { POD_BEHAVIOUR, startFlakyAgent } from './support/pod-behaviour.ts';
import { operatorEnvironment } from './support/environment.ts';
import { apps, condition, createRunner, custom, deploymentManifest, ENABLE, FAIL_LABEL, patchRunner, runnerManifest, waitForRunner } from './support/kube.ts';

const env = operatorEnvironment('verdicts');
const SCRIPT = new URL('../../deploy/argocd/runner-health.lua', import.meta.url).pathname;
const KWOK = 'pod-container-running-failed.stage.kwok.x-k8s.io';

interface Row {
  state: string;
  /** The Stalled condition: its reason when True, else 'False'. */
  stalled: string;
  kstatus: 'InProgress' | 'Current' | 'Failed';
  argocd: 'Progressing' | 'Healthy' | 'Degraded' | 'Suspended';
  /** Whether `kubectl wait --for=condition=Ready` returns. */
  kubectlWait: boolean;
}

// The table of docs/verdicts.md, one Runner per row.
const TABLE: Record<string, Row> = {
  'waiting':           { state: 'WaitingForWorkloads', stalled: 'False',              kstatus: 'InProgress', argocd: 'Progressing', kubectlWait: false },
  'timed-out':         { state: 'WaitingForWorkloads', stalled: 'StableStateTimeout', kstatus: 'Failed',     argocd: 'Degraded',    kubectlWait: false },
  'upstream-running':  { state: 'Running',             stalled: 'False',              kstatus: 'InProgress', argocd: 'Progressing', kubectlWait: false },
  'after-running':     { state: 'WaitingForUpstream',  stalled: 'False',              kstatus: 'InProgress', argocd: 'Progressing', kubectlWait: false },
  'failing':           { state: 'Failed',              stalled: 'RunFailed',          kstatus: 'Failed',     argocd: 'Degraded',    kubectlWait: false },
  'too-slow':          { state: 'Failed',              stalled: 'RunError',           kstatus: 'Failed',     argocd: 'Degraded',    kubectlWait: false },
  'after-failing':     { state: 'WaitingForUpstream',  stalled: 'UpstreamFailed',     kstatus: 'Failed',     argocd: 'Degraded',    kubectlWait: false },
  'after-too-slow':    { state: 'WaitingForUpstream',  stalled: 'UpstreamFailed',     kstatus: 'Failed',     argocd: 'Degraded',    kubectlWait: false },
  'advisory':          { state: 'Failed',              stalled: 'False',              kstatus: 'Current',    argocd: 'Healthy',     kubectlWait: true },
  'after-advisory':    { state: 'Succeeded',           stalled: 'False',              kstatus: 'Current',    argocd: 'Healthy',     kubectlWait: true },
  'passing':           { state: 'Succeeded',           stalled: 'False',              kstatus: 'Current',    argocd: 'Healthy',     kubectlWait: true },
  'flaky':             { state: 'Succeeded',           stalled: 'False',              kstatus: 'Current',    argocd: 'Healthy',     kubectlWait: true },
  'scheduled':         { state: 'Scheduled',           stalled: 'False',              kstatus: 'Current',    argocd: 'Healthy',     kubectlWait: true },
  'scheduled-failing': { state: 'Scheduled',           stalled: 'RunFailed',          kstatus: 'Failed',     argocd: 'Degraded',    kubectlWait: false },
  'suspended':         { state: 'Suspended',           stalled: 'False',              kstatus: 'Current',    argocd: 'Suspended',   kubectlWait: true },
  'invalid':           { state: 'Invalid',             stalled: 'InvalidSpec',        kstatus: 'Failed',     argocd: 'Degraded',    kubectlWait: false },
  'narcissus':         { state: 'Stalled',             stalled: 'DependencyCycle',    kstatus: 'Failed',     argocd: 'Degraded',    kubectlWait: false },
};

const held: Gate = gate();
const observed = new Map<string, Runner>();
const stalledOf = (r: Runner) => (condition(r, 'Stalled')?.status === 'True' ? condition(r, 'Stalled')!.reason : 'False');
const settled = (name: string) => waitForRunner(env.ns, name, `${TABLE[name]!.state}, Stalled ${TABLE[name]!.stalled}`, (r) => r.status?.state === TABLE[name]!.state && stalledOf(r) === TABLE[name]!.stalled, 60_000);

let stopFlakyAgent: (() => Promise<void>) | undefined;

/** A Runner whose Job's first attempt fails and second passes (test/integration/support/pod-behaviour.ts). */
const flakyRunner = (runner: Runner): Runner => {
  runner.spec.template.metadata = { labels: { ...POD_BEHAVIOUR.failsFirstAttempt.labels }, annotations: { ...POD_BEHAVIOUR.failsFirstAttempt.annotations } };
  return runner;
};

beforeAll(async () => {
  const ns = env.ns;
  stopFlakyAgent = startFlakyAgent(ns);
  const stuck = deploymentManifest(ns, 'stuck', { app: 'stuck', ...ENABLE });
  stuck.spec!.template.spec!.nodeSelector = { 'hestia.test/none': 'none' };
  await apps.createNamespacedDeployment({ namespace: ns, body: stuck });
  const failing = runnerManifest(ns, 'failing', {}, { tier: 'failing' }, true);
  // kwok's chaos stage ends the container as a real one would that wrote to /dev/termination-log.
  failing.spec.template.metadata!.annotations = { [`${KWOK}/exit-code`]: '3', [`${KWOK}/reason`]: 'Error', [`${KWOK}/message`]: 'cart returned 502' };
  await Promise.all([
    createRunner(runnerManifest(ns, 'waiting', { workloadSelector: { matchLabels: { app: 'stuck' } }, stableStateTimeout: '0s' })),
    createRunner(runnerManifest(ns, 'timed-out', { workloadSelector: { matchLabels: { app: 'stuck' } }, stableStateTimeout: '1s' })),
    createRunner(held.hold(runnerManifest(ns, 'upstream-running', {}, { tier: 'running' }))),
    createRunner(runnerManifest(ns, 'after-running', { runnerSelector: { matchLabels: { tier: 'running' } } })),
    createRunner(failing),
    createRunner(held.hold(runnerManifest(ns, 'too-slow', { deadlineSeconds: 1, backoffLimit: 0 }, { tier: 'too-slow' }))),
    createRunner(runnerManifest(ns, 'after-failing', { runnerSelector: { matchLabels: { tier: 'failing' } } })),
    createRunner(runnerManifest(ns, 'after-too-slow', { runnerSelector: { matchLabels: { tier: 'too-slow' } } })),
    createRunner(runnerManifest(ns, 'advisory', { advisory: true }, { tier: 'advisory' }, true)),
    createRunner(runnerManifest(ns, 'after-advisory', { runnerSelector: { matchLabels: { tier: 'advisory' } } })),
    createRunner(runnerManifest(ns, 'passing', {})),
    createRunner(flakyRunner(runnerManifest(ns, 'flaky', { backoffLimit: 1 }))),
    createRunner(runnerManifest(ns, 'scheduled', { schedule: '0 0 1 1 *' })),
    createRunner(runnerManifest(ns, 'scheduled-failing', { schedule: '0 0 1 1 *' }, {}, true)),
    createRunner(runnerManifest(ns, 'suspended', { suspend: true })),
    createRunner(runnerManifest(ns, 'invalid', { schedule: '0 0 31 2 *' })),
    createRunner(runnerManifest(ns, 'narcissus', { runnerSelector: { matchLabels: { me: 'narcissus' } } }, { me: 'narcissus' })),
  ]);
  // A scheduled Runner's run, without waiting for its tick: a manual trigger.
  await patchRunner(ns, 'scheduled-failing', { metadata: { annotations: { 'runner.stakater.com/trigger': 'now' } } });
  for (const name of Object.keys(TABLE)) observed.set(name, await settled(name));
}, 120_000);

afterAll(async () => {
  await stopFlakyAgent?.();
  await held.remove();
});

/** The Runners as one `kubectl get runners -o json` would give them, fetched at once. */
async function fetched(): Promise<Runner[]> {
  const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: env.ns, plural: PLURAL })) as { items: Runner[] };
  return list.items.filter((r) => r.metadata.name! in TABLE);
}

describe('every state, as GitOps tools and kubectl read it (docs/verdicts.md)', () => {
  it('kstatus (sigs.k8s.io/cli-utils v0.37.2 status.Compute) says what the table says', async () => {
    const runners = await fetched();
    const verdicts = JSON.parse(runTool('kstatus', [], JSON.stringify(runners))) as { name: string; status: string; message: string; error?: string }[];
    const got = Object.fromEntries(verdicts.map((v) => [v.name, v.status]));
    expect(got).toEqual(Object.fromEntries(Object.entries(TABLE).map(([n, row]) => [n, row.kstatus])));
    expect(verdicts.every((v) => v.error === undefined)).toBe(true);
    // kstatus hands on the Stalled message: a Flux health check failure says why.
    expect(verdicts.find((v) => v.name === 'failing')?.message).toContain('cart returned 502');
  });

  it("Argo CD's Lua VM running deploy/argocd/runner-health.lua says what the table says", async () => {
    const runners = await fetched();
    const health = JSON.parse(runTool('argocd-lua', [SCRIPT], JSON.stringify(runners))) as { name: string; status: string; message: string; error?: string }[];
    expect(health.filter((h) => h.error)).toEqual([]);
    expect(Object.fromEntries(health.map((h) => [h.name, h.status]))).toEqual(Object.fromEntries(Object.entries(TABLE).map(([n, row]) => [n, row.argocd])));
    expect(health.find((h) => h.name === 'after-failing')?.message).toBe(`UpstreamFailed: the latest run of upstream Runner ${env.ns}/failing failed`);
    expect(health.find((h) => h.name === 'invalid')?.message).toContain('spec.schedule');
  });

  it('kubectl wait --for=condition=Ready returns for exactly the Ready rows', async () => {
    const kubectl = process.env.HESTIA_KUBECTL;
    if (!kubectl) throw new Error('HESTIA_KUBECTL is not set: run through test/cluster/with-cluster.sh');
    const returns = async (name: string) =>
      promisify(execFile)(kubectl, ['wait', '--for=condition=Ready', '--timeout=0s', '-n', env.ns, `runner/${name}`], { env: process.env }).then(() => true, () => false);
    const got: Record<string, boolean> = {};
    for (const name of Object.keys(TABLE)) got[name] = await returns(name);
    expect(got).toEqual(Object.fromEntries(Object.entries(TABLE).map(([n, row]) => [n, row.kubectlWait])));
  });

  it('the verdicts were taken over Runners at rest in the states of the table', async () => {
    for (const runner of await fetched()) expect([runner.metadata.name, runner.status?.state]).toEqual([runner.metadata.name, TABLE[runner.metadata.name!]!.state]);
    expect(observed.size).toBe(Object.keys(TABLE).length);
  });
});

describe('what the Job said (status.lastRun.message)', () => {
  it("carries the Job's failure reason and the failed container's termination message", () => {
    const failing = observed.get('failing')!;
    expect(failing.status?.lastRun?.message).toMatch(/^BackoffLimitExceeded: .*; container check in pod failing-\S+ exited with code 3 \(Error\): cart returned 502$/);
    expect(condition(failing, 'Stalled')?.message).toBe(`Job ${failing.status?.lastRun?.jobName} failed: ${failing.status?.lastRun?.message}`);
  });

  it('says DeadlineExceeded when the Job ran out of deadlineSeconds, and why its pod never ran: an Error, not a failure', () => {
    const run = observed.get('too-slow')!.status?.lastRun;
    expect(run).toMatchObject({ result: 'Error', errorReason: 'Unschedulable' });
    expect(run?.message).toMatch(/^DeadlineExceeded: .*; Unschedulable: /);
  });

  it('marks a success after a failed attempt flaky, and an advisory failure as reported but healthy', () => {
    expect(observed.get('flaky')!.status?.lastRun).toMatchObject({ result: 'Succeeded', flaky: true, attempts: 2 });
    expect(condition(observed.get('advisory')!, 'Ready')).toMatchObject({ status: 'True', reason: 'AdvisoryRunFailed' });
  });

  it('clears with the next run: fixed, the check passes and every tool says so', async () => {
    await patchRunner(env.ns, 'failing', { spec: { template: { metadata: { labels: { [Object.keys(FAIL_LABEL)[0]!]: null } } } } });
    const fixed = await waitForRunner(env.ns, 'failing', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    expect(fixed.status?.lastRun?.trigger).toBe('spec change');
    expect(condition(fixed, 'Stalled')?.status).toBe('False');
    const [kstatus] = JSON.parse(runTool('kstatus', [], JSON.stringify([fixed]))) as { status: string }[];
    const [argocd] = JSON.parse(runTool('argocd-lua', [SCRIPT], JSON.stringify([fixed]))) as { status: string }[];
    expect([kstatus?.status, argocd?.status]).toEqual(['Current', 'Healthy']);
  });
});

// Namespace-scoped mode for multi-tenant clusters: the Helm chart installed with `namespaces`
// (Roles in those namespaces only, no cluster-wide permission), and the operator run as that
// ServiceAccount with HESTIA_NAMESPACES. Runners in its namespaces run (a chain across them too),
// a Runner elsewhere is never touched, a namespaceSelector is refused naming the field, a Flux
// HelmRelease is read through the chart's rbac.extraWatchedResources (in each Role), and the audit log
// shows no refused request and none outside its namespaces.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestsBy, summarise } from './support/audit.ts';
import {
  condition, createDeployment, createNamespace, createRunner, deleteNamespace, ENABLE, getRunner, installCrd, jobsOf, runnerManifest, waitForRunner,
} from './support/kube.ts';
import { credentialId, serviceAccountToken, tokenOnlyKubeconfig } from './support/tokens.ts';
import { stays } from './support/kube.ts';
import { toolPath } from '../support/tools.ts';
import { apiVersionOf, createObject, HELM_RELEASE, installKind, setStatus, uninstallKind } from './support/foreign-kinds.ts';
import { operatorEntry } from './support/operator-entry.ts';

const kubectl = process.env.HESTIA_KUBECTL!;
let release: string;
let teamA: string;
let teamB: string;
let elsewhere: string;
let operator: ChildProcess | undefined;
let output = '';
let tokenId: string;
const since = new Date(Date.now() - 1000);

function sh(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

beforeAll(async () => {
  await installCrd();
  await installKind(HELM_RELEASE);
  [release, teamA, teamB, elsewhere] = (await Promise.all(['scoped-hestia', 'team-a', 'team-b', 'team-c'].map((p) => createNamespace(p)))) as [string, string, string, string];
  // The chart as a user installs it for two teams' namespaces (the Runner CRD is already installed).
  const manifests = sh(toolPath('helm'), [
    'template', 'hestia', 'charts/hestia', '--namespace', release, '--set', `namespaces={${teamA},${teamB}}`,
    '--set', 'rbac.extraWatchedResources[0].apiGroups={helm.toolkit.fluxcd.io}', '--set', 'rbac.extraWatchedResources[0].resources={helmreleases}',
  ]);
  sh(kubectl, ['apply', '-f', '-'], manifests);
  const token = await serviceAccountToken(release, 'hestia');
  tokenId = credentialId(token);
  operator = spawn(process.execPath, [operatorEntry()], {
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: tokenOnlyKubeconfig(token, 'hestia'),
      HESTIA_NAMESPACES: `${teamA},${teamB}`, HESTIA_LEADER_ELECTION: 'true', POD_NAMESPACE: release, POD_NAME: `scoped-${process.pid}`,
      HESTIA_LEASE_NAME: 'hestia', HESTIA_HEALTH_PORT: '0', HESTIA_METRICS_PORT: '0', HESTIA_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [operator.stdout!, operator.stderr!]) stream.on('data', (c: Buffer) => (output += c.toString()));
}, 30 * 60_000);

afterAll(async () => {
  operator?.kill('SIGKILL');
  for (const ns of [release, teamA, teamB, elsewhere]) if (ns) await deleteNamespace(ns);
  await uninstallKind(HELM_RELEASE);
});

const withOutput = <T>(p: Promise<T>) => p.catch((err: Error) => { throw new Error(`${err.message}\noperator output:\n${output.slice(-4000)}`); });

describe('namespace-scoped mode', () => {
  it('runs the Runners of its namespaces, a chain across them too, and nothing elsewhere, with Roles only', async () => {
    await createDeployment(teamA, 'shop', { app: 'scoped-shop', ...ENABLE }, 0);
    await createRunner(runnerManifest(teamA, 'smoke', { workloadSelector: { matchLabels: { app: 'scoped-shop' } } }, { stage: 'scoped-smoke' }));
    await createRunner(runnerManifest(teamB, 'e2e', { runnerSelector: { matchLabels: { stage: 'scoped-smoke' } } }));
    await createRunner(runnerManifest(teamA, 'narrowed', { namespaceSelector: { matchLabels: { team: 'a' } } }));
    await createRunner(runnerManifest(elsewhere, 'ignored', {}));

    await withOutput(waitForRunner(teamA, 'smoke', 'Succeeded', (r) => r.status?.state === 'Succeeded', 120_000));
    await withOutput(waitForRunner(teamB, 'e2e', 'Succeeded after its upstream in another watched namespace', (r) => r.status?.state === 'Succeeded', 120_000));
    const narrowed = await withOutput(waitForRunner(teamA, 'narrowed', 'Invalid', (r) => r.status?.state === 'Invalid', 60_000));
    expect(condition(narrowed, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(condition(narrowed, 'Stalled')?.message).toContain('spec.namespaceSelector');
    await stays('the Runner outside the operator\'s namespaces to get a status', async () => (await getRunner(elsewhere, 'ignored')).status !== undefined, 5_000);
    expect(await jobsOf(elsewhere, 'ignored')).toEqual([]);

    const mine = requestsBy(`system:serviceaccount:${release}:hestia`, since).filter((e) => e.user.extra?.['authentication.kubernetes.io/credential-id']?.includes(tokenId));
    const context = JSON.stringify(summarise(mine));
    expect(mine.filter((e) => e.responseStatus?.code === 403), context).toEqual([]);
    // Discovery (which API serves a kind of spec.resources) names no namespace and is open to every user.
    expect(mine.filter((e) => e.objectRef && ![teamA, teamB, release].includes(e.objectRef.namespace ?? '')).map((e) => `${e.verb} ${e.requestURI}`), context).toEqual([]);
  }, 300_000);

  it('reads the kinds of spec.resources in its namespaces through the chart\'s rbac.extraWatchedResources', async () => {
    await createObject(HELM_RELEASE, teamA, 'podinfo', { app: 'scoped-podinfo', ...ENABLE });
    await setStatus(HELM_RELEASE, teamA, 'podinfo', { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', message: 'released' }] });
    await createRunner(runnerManifest(teamB, 'release-check', { resources: [{ apiVersion: apiVersionOf(HELM_RELEASE), kind: 'HelmRelease', selector: { matchLabels: { app: 'scoped-podinfo' } } }] }));
    const done = await withOutput(waitForRunner(teamB, 'release-check', 'Succeeded', (r) => r.status?.state === 'Succeeded', 120_000));
    expect(done.status?.watchedResources).toEqual([{ kind: 'HelmRelease', apiVersion: apiVersionOf(HELM_RELEASE), namespace: teamA, name: 'podinfo', ready: true, message: 'Current: Resource is Ready' }]);
    const mine = requestsBy(`system:serviceaccount:${release}:hestia`, since).filter((e) => e.user.extra?.['authentication.kubernetes.io/credential-id']?.includes(tokenId));
    expect(mine.filter((e) => e.responseStatus?.code === 403).map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
  }, 180_000);
});

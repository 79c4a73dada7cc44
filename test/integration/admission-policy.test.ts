// Who may run what (SECURITY.md): the ValidatingAdmissionPolicy that deploy/default installs lets a user create a
// Runner, or change what it runs, only if that user may create Jobs in the Runner's namespace. The policy is taken
// from `kubectl kustomize deploy/default` and applied with kubectl, as users install it; the users are made by
// impersonation and get their rights from RBAC Roles in the test's namespaces.
import { execFileSync } from 'node:child_process';
import { ApiException, CustomObjectsApi, loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type Runner } from '../../src/api/runner.ts';
import { operatorEnvironment } from './support/environment.ts';
import { createNamespace, deleteNamespace, getRunner, jobsOf, kc, runnerManifest, waitFor, waitForRunner } from './support/kube.ts';
import { grant, JOB_CREATOR, kubeConfigAs, RUNNER_WRITER } from './support/users.ts';

const env = operatorEnvironment('who');
const suffix = `${process.pid}`;
const RUNNER_ONLY = `runner-only-${suffix}`;
const JOB_CREATOR_USER = `job-creator-${suffix}`;
const JOBS_ELSEWHERE = `jobs-elsewhere-${suffix}`;
const POLICY = 'hestia-runner-needs-job-permission';
let elsewhere = '';
let policyObjects: KubernetesObject[] = [];
let admittedBeforePolicy = false;

const kubectl = (args: string[], input?: string) =>
  execFileSync(process.env.HESTIA_KUBECTL!, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });

const apiAs = (user: string) => kubeConfigAs(user).makeApiClient(CustomObjectsApi);

function createAs(user: string, runner: Runner, dryRun = false): Promise<unknown> {
  return apiAs(user).createNamespacedCustomObject({
    group: GROUP, version: VERSION, namespace: runner.metadata.namespace!, plural: PLURAL, body: runner, ...(dryRun ? { dryRun: 'All' } : {}),
  });
}

async function mergePatchAs(user: string, namespace: string, name: string, patch: object): Promise<unknown> {
  const { setHeaderOptions, PatchStrategy } = await import('@kubernetes/client-node');
  return apiAs(user).patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: patch },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** The API server's refusal of an attempt that must fail: HTTP code and the Status message. */
async function refusal(attempt: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await attempt;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
    return { code: error.code, message: String(body?.message ?? error.body) };
  }
  throw new Error('the API server accepted it');
}

const check = (ns: string, name: string) => runnerManifest(ns, name, {});

beforeAll(async () => {
  elsewhere = await createNamespace('who-else');
  await grant(env.ns, RUNNER_ONLY, 'runners', RUNNER_WRITER);
  await grant(env.ns, JOB_CREATOR_USER, 'runners', RUNNER_WRITER);
  await grant(env.ns, JOB_CREATOR_USER, 'jobs', JOB_CREATOR);
  await grant(env.ns, JOBS_ELSEWHERE, 'runners', RUNNER_WRITER);
  await grant(elsewhere, JOBS_ELSEWHERE, 'runners', RUNNER_WRITER);
  await grant(elsewhere, JOBS_ELSEWHERE, 'jobs', JOB_CREATOR);

  // RBAC alone lets the Runner-only user create Runners: what refuses them below is the policy.
  admittedBeforePolicy = await createAs(RUNNER_ONLY, check(env.ns, 'before-policy'), true).then(() => true, () => false);

  const installed = loadAllYaml(kubectl(['kustomize', new URL('../../deploy/default', import.meta.url).pathname])) as KubernetesObject[];
  policyObjects = installed.filter((o) => o.kind === 'ValidatingAdmissionPolicy' || o.kind === 'ValidatingAdmissionPolicyBinding');
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: policyObjects }));
  // The API server picks a new policy up from its own watch: wait until it refuses.
  await waitFor('the admission policy to take effect', async () => {
    const r = await refusal(createAs(RUNNER_ONLY, check(env.ns, 'probe'), true)).catch(() => undefined);
    return r?.message.includes(POLICY);
  });
});

afterAll(async () => {
  if (policyObjects.length > 0) kubectl(['delete', '--ignore-not-found', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: policyObjects }));
  if (elsewhere) await deleteNamespace(elsewhere);
});

describe('the admission policy of deploy/default', () => {
  it('installs a policy and its binding, and the policy type-checks against the Runner CRD', async () => {
    expect(policyObjects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      `ValidatingAdmissionPolicy/${POLICY}`,
      `ValidatingAdmissionPolicyBinding/${POLICY}`,
    ]);
    const policy = await waitFor('the policy to be type-checked', () => {
      const p = JSON.parse(kubectl(['get', 'validatingadmissionpolicy', POLICY, '-o', 'json']));
      return p.status?.observedGeneration === p.metadata.generation ? p : undefined;
    });
    expect(policy.status.typeChecking?.expressionWarnings ?? []).toEqual([]);
  });

  it('refuses a Runner from a user who may create Runners but not Jobs, saying why', async () => {
    expect(admittedBeforePolicy).toBe(true);
    const { code, message } = await refusal(createAs(RUNNER_ONLY, check(env.ns, 'refused')));
    expect(code).toBe(403);
    expect(message).toContain(
      `user "${RUNNER_ONLY}" may not create Jobs in namespace "${env.ns}", so may not create a Runner there or change what it runs`,
    );
    expect((await refusal(getRunner(env.ns, 'refused'))).code).toBe(404);
  });

  it('refuses a user who may create Jobs only in another namespace', async () => {
    const { code, message } = await refusal(createAs(JOBS_ELSEWHERE, check(env.ns, 'elsewhere')));
    expect(code).toBe(403);
    expect(message).toContain(`may not create Jobs in namespace "${env.ns}"`);
    await expect(createAs(JOBS_ELSEWHERE, check(elsewhere, 'there'), true)).resolves.toBeDefined();
  });

  it('admits a user who may also create Jobs, and the operator runs it and writes its status', async () => {
    await createAs(JOB_CREATOR_USER, check(env.ns, 'admitted'));
    // Status writes go to the status subresource, which the policy does not match.
    const done = await waitForRunner(env.ns, 'admitted', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    expect(done.status?.lastRun?.result).toBe('Succeeded');
    expect(await jobsOf(env.ns, 'admitted')).toHaveLength(1);
  });

  it('refuses a change of what a Runner runs, or a manual trigger, by a user who may not create Jobs', async () => {
    await createAs(JOB_CREATOR_USER, check(env.ns, 'owned'));
    const spec = await refusal(mergePatchAs(RUNNER_ONLY, env.ns, 'owned', { spec: { template: { spec: { containers: [{ name: 'check', image: 'attacker/image' }] } } } }));
    expect(spec.code).toBe(403);
    expect(spec.message).toContain(`user "${RUNNER_ONLY}" may not create Jobs`);
    const trigger = await refusal(mergePatchAs(RUNNER_ONLY, env.ns, 'owned', { metadata: { annotations: { 'runner.stakater.com/trigger': 'again' } } }));
    expect(trigger.code).toBe(403);
  });

  it('lets anyone allowed to update Runners change other metadata (labels, finalizers: controllers write those)', async () => {
    await expect(mergePatchAs(RUNNER_ONLY, env.ns, 'owned', { metadata: { labels: { team: 'blue' } } })).resolves.toBeDefined();
    expect((await getRunner(env.ns, 'owned')).metadata.labels).toMatchObject({ team: 'blue' });
  });

  it('lets a user who may create Jobs change what runs, and trigger a run', async () => {
    await waitForRunner(env.ns, 'owned', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    await mergePatchAs(JOB_CREATOR_USER, env.ns, 'owned', { metadata: { annotations: { 'runner.stakater.com/trigger': 'again' } } });
    await waitFor('a second Job after the manual trigger', async () => (await jobsOf(env.ns, 'owned')).length === 2);
  });

  it('leaves the test suite’s own admin untouched (it may create Jobs everywhere)', async () => {
    const admin = kc.makeApiClient(CustomObjectsApi);
    await expect(
      admin.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: env.ns, plural: PLURAL, body: check(env.ns, 'by-admin'), dryRun: 'All' }),
    ).resolves.toBeDefined();
  });
});

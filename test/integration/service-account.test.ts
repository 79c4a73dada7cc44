// The shipped install is all the operator needs: deploy/default is applied as users apply it
// (`kubectl apply -k`), the operator runs out of cluster as its own process with nothing but a token of the
// ServiceAccount that install created, with leader election on, and a Runner runs end to end. The API server's
// audit log then shows that RBAC refused no request of that token (nothing the role had to be widened for) and
// that it never wrote to a workload.
//
// The manager Deployment of deploy/default gets a simulated pod from kwok, which never runs its process: it
// cannot hold the Lease, and this test's process takes it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogPath, forbiddenByRbac, requestsBy, summarise, type AuditEntry } from './support/audit.ts';
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, OPERATOR_USER } from './support/identity.ts';
import { credentialId, serviceAccountToken, tokenOnlyKubeconfig } from './support/tokens.ts';
import { apps, core, createDeployment, createNamespace, createRunner, deleteNamespace, deploymentAvailable, ENABLE, jobsOf, kc, runnerManifest, waitFor, waitForRunner } from './support/kube.ts';
import { operatorEntry } from './support/operator-entry.ts';

const kubectl = process.env.HESTIA_KUBECTL;
const WORKLOADS = new Set(['deployments', 'statefulsets', 'daemonsets', 'deploymentconfigs']);
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const identity = `out-of-cluster-${process.pid}`;
const coordination = kc.makeApiClient(CoordinationV1Api);

let ns: string;
let started: Date;
let tokenId: string;
let operator: ChildProcess | undefined;
let operatorOutput = '';

/** A failure says what the operator logged. */
const showingOutput = <T>(wait: Promise<T>): Promise<T> =>
  wait.catch((err: Error) => {
    throw new Error(`${err.message}\noperator output:\n${operatorOutput}`);
  });

const tokenRequests = (): AuditEntry[] => requestsBy(OPERATOR_USER, started).filter((e) => e.user.extra?.['authentication.kubernetes.io/credential-id']?.includes(tokenId));

beforeAll(async () => {
  if (!kubectl) throw new Error('HESTIA_KUBECTL is not set: run through test/cluster/with-cluster.sh');
  started = new Date(Date.now() - 1000);
  execFileSync(kubectl, ['apply', '-k', 'deploy/default'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  ns = await createNamespace('service-account');
});

afterAll(async () => {
  operator?.kill('SIGKILL');
  // The simulated manager pod is of no use to the test files after this one.
  await apps.deleteNamespacedDeployment({ namespace: OPERATOR_NAMESPACE, name: 'hestia-operator' }).catch(() => undefined);
  if (ns) await deleteNamespace(ns);
});

describe('the ServiceAccount of deploy/default', () => {
  it('is all the operator needs: leader election, a run end to end with its Events, no refused request, no workload written', async () => {
    // The manager Deployment's pod is simulated: Running, but its process never starts.
    await waitFor('the simulated manager pod to be Running', async () => {
      const pods = await core.listNamespacedPod({ namespace: OPERATOR_NAMESPACE, labelSelector: 'app.kubernetes.io/name=hestia,app.kubernetes.io/component=operator' });
      return pods.items.some((p) => p.status?.phase === 'Running');
    });

    const token = await serviceAccountToken(OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
    tokenId = credentialId(token);
    const kubeconfig = tokenOnlyKubeconfig(token, OPERATOR_SERVICE_ACCOUNT);

    operator = spawn(process.execPath, [operatorEntry()], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        KUBECONFIG: kubeconfig,
        HESTIA_LEADER_ELECTION: 'true',
        POD_NAMESPACE: OPERATOR_NAMESPACE,
        POD_NAME: identity,
        HESTIA_HEALTH_PORT: '0',
        HESTIA_METRICS_PORT: '0',
        HESTIA_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    operator.stdout!.on('data', (chunk: Buffer) => (operatorOutput += chunk.toString()));
    operator.stderr!.on('data', (chunk: Buffer) => (operatorOutput += chunk.toString()));

    // The Lease the shipped Deployment would use (hestia-system/hestia-operator), taken by this process.
    await showingOutput(waitFor('the out-of-cluster operator to hold the Lease', async () => {
      const lease = await coordination.readNamespacedLease({ namespace: OPERATOR_NAMESPACE, name: 'hestia-operator' });
      return lease.spec?.holderIdentity === identity;
    }));

    await createDeployment(ns, 'shop', { app: 'shop', ...ENABLE });
    await waitFor('Deployment shop to be available', () => deploymentAvailable(ns, 'shop'));
    await createRunner(runnerManifest(ns, 'smoke', { workloadSelector: { matchLabels: { app: 'shop' } } }));
    await showingOutput(waitForRunner(ns, 'smoke', 'Succeeded', (r) => r.status?.state === 'Succeeded', 90_000));
    expect(await jobsOf(ns, 'smoke')).toHaveLength(1);

    const eventReasons = async (name: string) => (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` })).items.map((e) => e.reason);
    await waitFor('a RunSucceeded Event on the Runner', async () => (await eventReasons('smoke')).includes('RunSucceeded'));
    await waitFor('a CheckSucceeded Event on the verified Deployment', async () => (await eventReasons('shop')).includes('CheckSucceeded'));

    operator.kill('SIGTERM');
    await waitFor('the operator to stop', () => operator!.exitCode !== null || operator!.signalCode !== null, 30_000);

    // The audit log has the token's requests once the API server has written them.
    const wrote = (e: AuditEntry, resource: string) => WRITES.has(e.verb) && e.objectRef?.resource === resource;
    const requests = await waitFor('the token’s Job create and Lease writes in the audit log', () => {
      const entries = tokenRequests();
      return entries.some((e) => wrote(e, 'jobs')) && entries.some((e) => wrote(e, 'leases')) ? entries : undefined;
    });
    const context = `requests of the token in ${auditLogPath()}: ${JSON.stringify(summarise(requests))}`;
    // The log records each answer's status (so a refusal would show): the Job's create was answered 201.
    expect(requests.find((e) => wrote(e, 'jobs'))?.responseStatus?.code, context).toBe(201);
    expect(requests.filter((e) => wrote(e, 'events')).length, context).toBeGreaterThan(0);
    // Refused by RBAC anywhere; refused at all where only this test's objects are (a 403 elsewhere can be an
    // earlier test file's namespace still being deleted, which the operator's startup rightly meets).
    const refused = forbiddenByRbac(requests).map((e) => `${e.verb} ${e.requestURI}: ${e.annotations?.['authorization.k8s.io/reason'] ?? ''}`);
    expect(refused, context).toEqual([]);
    const refusedHere = requests.filter((e) => e.responseStatus?.code === 403 && [ns, OPERATOR_NAMESPACE].includes(e.objectRef?.namespace ?? '')).map((e) => `${e.verb} ${e.requestURI}: ${e.responseStatus?.message ?? ''}`);
    expect(refusedHere, context).toEqual([]);
    const workloadWrites = requests.filter((e) => WRITES.has(e.verb) && WORKLOADS.has(e.objectRef?.resource ?? '')).map((e) => `${e.verb} ${e.requestURI}`);
    expect(workloadWrites, context).toEqual([]);
  }, 240_000);
});

// Two operator processes with leader election: one acts; when it dies, the other takes over.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorKubeConfig, OPERATOR_NAMESPACE } from './support/identity.ts';
import { createNamespace, createRunner, deleteNamespace, installCrd, jobsOf, kc, runnerManifest, waitFor, waitForRunner } from './support/kube.ts';

let ns: string;
let kubeconfigFile: string;
const procs = new Map<string, ChildProcess>();
const leaseName = `hestia-test-${process.pid}`;
const coordination = kc.makeApiClient(CoordinationV1Api);

function startReplica(identity: string): void {
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: {
      ...process.env, KUBECONFIG: kubeconfigFile, HESTIA_HEALTH_PORT: '0', HESTIA_METRICS_PORT: '0', HESTIA_LOG_LEVEL: 'warn',
      HESTIA_LEADER_ELECTION: 'true', POD_NAMESPACE: OPERATOR_NAMESPACE, POD_NAME: identity, HESTIA_LEASE_NAME: leaseName, HESTIA_LEASE_SECONDS: '6',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  procs.set(identity, child);
}

const holder = async () => (await coordination.readNamespacedLease({ namespace: OPERATOR_NAMESPACE, name: leaseName })).spec?.holderIdentity;

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('leader');
  kubeconfigFile = join(mkdtempSync(join(tmpdir(), 'hestia-leader-')), 'kubeconfig');
  writeFileSync(kubeconfigFile, (await operatorKubeConfig()).exportConfig());
});

afterAll(async () => {
  for (const p of procs.values()) p.kill('SIGKILL');
  await deleteNamespace(ns);
});

describe('leader election', () => {
  it('lets one of two replicas act, and the other take over when it dies', async () => {
    startReplica('replica-a');
    await waitFor('replica-a to hold the Lease', async () => (await holder()) === 'replica-a');
    startReplica('replica-b');
    await createRunner(runnerManifest(ns, 'first', {}));
    await waitForRunner(ns, 'first', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    expect(await jobsOf(ns, 'first')).toHaveLength(1);
    expect(await holder()).toBe('replica-a');

    procs.get('replica-a')!.kill('SIGKILL');
    await waitFor('replica-b to take the Lease', async () => (await holder()) === 'replica-b', 30_000);
    await createRunner(runnerManifest(ns, 'second', {}));
    await waitForRunner(ns, 'second', 'Succeeded', (r) => r.status?.state === 'Succeeded');
    expect(await jobsOf(ns, 'first')).toHaveLength(1);
  }, 90_000);
});

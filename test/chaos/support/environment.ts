// The frame of a fault-test file: the CRD, a namespace of its own, a kubeconfig file for operator
// processes (the operator's ServiceAccount), and a control plane that works — an earlier file may
// have restarted it, and its Job controller then needs a while to take its own Lease back.
import type { V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { operatorKubeConfig } from '../../integration/support/identity.ts';
import { batch, createNamespace, deleteNamespace, installCrd, waitFor } from '../../integration/support/kube.ts';
import { restartControlPlane } from './control-plane.ts';
import { kubeconfigFile } from './operator-process.ts';

export interface ChaosEnvironment {
  ns: string;
  /** A kubeconfig file with the operator's identity, straight to the API server. */
  kubeconfig: string;
}

const probeJob = (namespace: string): V1Job => ({
  metadata: { name: 'control-plane-probe', namespace },
  spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'probe', image: 'busybox' }] } } },
});

/** Resolves once a Job completes: the API server, the scheduler, the Job controller and kwok all work. */
export async function controlPlaneWorks(namespace: string): Promise<void> {
  await waitFor('a probe Job to be created', () => batch.createNamespacedJob({ namespace, body: probeJob(namespace) }).then(() => true), 120_000);
  await waitFor('the probe Job to complete', async () => {
    const job = await batch.readNamespacedJob({ namespace, name: 'control-plane-probe' });
    return job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');
  }, 120_000);
  await batch.deleteNamespacedJob({ namespace, name: 'control-plane-probe', propagationPolicy: 'Background' });
}

export function chaosEnvironment(prefix: string): ChaosEnvironment {
  const env = {} as ChaosEnvironment;
  beforeAll(async () => {
    const installed = () => installCrd().then(() => true);
    // A control plane that an earlier file restarted and that did not come back is started again.
    await waitFor('the API server', installed, 30_000).catch(() => restartControlPlane().then(() => waitFor('the API server', installed, 60_000)));
    env.ns = await createNamespace(prefix);
    await controlPlaneWorks(env.ns);
    env.kubeconfig = kubeconfigFile(await operatorKubeConfig(), prefix);
  }, 300_000);
  afterAll(async () => {
    if (env.ns) await deleteNamespace(env.ns);
  });
  return env;
}

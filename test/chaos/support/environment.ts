// The frame of a fault-test file: the CRD, a namespace of its own, a kubeconfig file for operator
// processes (the operator's ServiceAccount), and a control plane that runs Jobs — an earlier file
// may have restarted it (and, should it not have come back whole, it is restarted once more).
import { afterAll, beforeAll } from 'vitest';
import { operatorKubeConfig } from '../../integration/support/identity.ts';
import { createNamespace, deleteNamespace, installCrd, waitFor } from '../../integration/support/kube.ts';
import { controlPlaneWorks, restartControlPlane } from './control-plane.ts';
import { kubeconfigFile } from './operator-process.ts';

export interface ChaosEnvironment {
  ns: string;
  /** A kubeconfig file with the operator's identity, straight to the API server. */
  kubeconfig: string;
}

export function chaosEnvironment(prefix: string): ChaosEnvironment {
  const env = {} as ChaosEnvironment;
  beforeAll(async () => {
    // A control plane that an earlier file restarted and that did not come back is started again.
    const installed = () => installCrd().then(() => true);
    await waitFor('the API server', installed, 30_000).catch(() => restartControlPlane().then(() => waitFor('the API server', installed, 60_000)));
    env.ns = await createNamespace(prefix);
    await controlPlaneWorks(env.ns, 60_000).catch(() => restartControlPlane().then(() => controlPlaneWorks(env.ns)));
    env.kubeconfig = kubeconfigFile(await operatorKubeConfig(), prefix);
  }, 300_000);
  afterAll(async () => {
    if (env.ns) await deleteNamespace(env.ns);
  });
  return env;
}

// SPEC §2.3, §3.1: spec.probes — HTTP endpoints as gates, asked only once every other input holds and a run is due,
// again with backoff until they answer as expected; not part of the revision. The endpoints are HTTP servers this
// test runs on loopback (the operator under test allows loopback targets, as HESTIA_PROBE_ALLOW_LOCAL=true does).
// Also: one Runner that waits for workloads, a resource, an upstream Runner and a probe at once.
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { Runner } from '../../src/api/runner.ts';
import { operatorEnvironment } from './support/environment.ts';
import { apiVersionOf, createObject, grantRead, HELM_RELEASE, installKind, setStatus } from './support/foreign-kinds.ts';
import { createDeployment, createRunner, ENABLE, jobsOf, runnerManifest, stays, waitFor, waitForRunner } from './support/kube.ts';

/** An endpoint whose answer the test sets; it counts the requests it gets. */
class Endpoint {
  status = 503;
  requests = 0;
  lastHeaders: IncomingHttpHeaders = {};
  private readonly server: Server = createServer((req, res) => {
    this.requests += 1;
    this.lastHeaders = req.headers;
    res.statusCode = this.status;
    res.end('body the operator never reads');
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/healthz`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const endpoints: Endpoint[] = [];
const endpoint = async (): Promise<[Endpoint, string]> => {
  const e = new Endpoint();
  endpoints.push(e);
  return [e, await e.start()];
};

const env = operatorEnvironment('probes', { beforeStart: () => installKind(HELM_RELEASE) });

afterAll(async () => {
  for (const e of endpoints) await e.stop();
});

const stateIs = (state: string) => (r: Runner) => r.status?.state === state;

describe('spec.probes', () => {
  it('waits while a probe answers otherwise than expected, asks again with backoff, and runs once it answers (deploy/samples/runner-probe.yaml)', async () => {
    const { ns } = env;
    const [api, url] = await endpoint();
    await createDeployment(ns, 'probed-app', { app: 'probed-app', ...ENABLE });
    const sample = (loadAllYaml(readFileSync(new URL('../../deploy/samples/runner-probe.yaml', import.meta.url), 'utf8')) as Runner[])[0]!;
    const probe = { ...sample.spec.probes![0]!, http: { ...sample.spec.probes![0]!.http, url } };
    // The sample as written, but pointed at this test's endpoint and Deployment.
    await createRunner({ ...sample, metadata: { ...sample.metadata, namespace: ns }, spec: { ...sample.spec, workloadSelector: { matchLabels: { app: 'probed-app' } }, probes: [probe] } });

    const waiting = await waitForRunner(ns, 'checkout-probe', 'waiting for the probe', (r) => r.status?.probes?.[0]?.message === 'answered 503, not 200 or 204');
    expect(waiting.status?.state).toBe('WaitingForWorkloads');
    expect(waiting.status?.message).toBe('waiting for probe checkout (answered 503, not 200 or 204)');
    expect(waiting.status?.probes).toEqual([{ name: 'checkout', url, ready: false, message: 'answered 503, not 200 or 204' }]);
    expect(api.lastHeaders['x-probe']).toBe('hestia');
    // Asked again (periodSeconds 5, then 10, ...), and no run meanwhile.
    await waitFor('a second probe', () => api.requests >= 2, 30_000);
    expect(await jobsOf(ns, 'checkout-probe')).toHaveLength(0);

    api.status = 204;
    const done = await waitForRunner(ns, 'checkout-probe', 'Succeeded', stateIs('Succeeded'), 60_000);
    expect(done.status?.probes).toEqual([{ name: 'checkout', url, ready: true, message: 'answered 204' }]);
    expect(await jobsOf(ns, 'checkout-probe')).toHaveLength(1);

    // Probes are gates, not inputs: the endpoint going down and up causes no run, nor any probe while no run is due.
    const asked = api.requests;
    api.status = 503;
    await stays('a probe or a second run with no new revision', async () => api.requests > asked || (await jobsOf(ns, 'checkout-probe')).length > 1, 4_000);
  });

  it('runs a Runner that waits for workloads, a resource, an upstream Runner and a probe', async () => {
    const { ns } = env;
    await grantRead(HELM_RELEASE);
    const [api, url] = await endpoint();
    await createDeployment(ns, 'combo-up-app', { app: 'combo-up-app', ...ENABLE });
    await createRunner(runnerManifest(ns, 'combo-up', { workloadSelector: { matchLabels: { app: 'combo-up-app' } } }, { stage: 'combo-up' }));
    await waitForRunner(ns, 'combo-up', 'the upstream Succeeded', stateIs('Succeeded'));

    await createDeployment(ns, 'combo-app', { app: 'combo-app', ...ENABLE });
    await createObject(HELM_RELEASE, ns, 'combo-release', { app: 'combo', ...ENABLE });
    await setStatus(HELM_RELEASE, ns, 'combo-release', { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'InstallFailed', message: 'install retries exhausted' }] });
    await createRunner(runnerManifest(ns, 'combo', {
      workloadSelector: { matchLabels: { app: 'combo-app' } },
      resources: [{ apiVersion: apiVersionOf(HELM_RELEASE), kind: 'HelmRelease', selector: { matchLabels: { app: 'combo' } } }],
      runnerSelector: { matchLabels: { stage: 'combo-up' } },
      probes: [{ name: 'api', http: { url }, periodSeconds: 1 }],
    }));

    // The resource is not ready: the probe is not asked.
    const blocked = await waitForRunner(ns, 'combo', 'waiting for the HelmRelease', (r) => r.status?.message?.includes('HelmRelease') === true);
    expect(blocked.status?.state).toBe('WaitingForWorkloads');
    expect(blocked.status?.message).toContain(`waiting for resource HelmRelease ${ns}/combo-release (InProgress: install retries exhausted)`);
    expect(blocked.status?.probes).toEqual([{ name: 'api', url, ready: false, message: 'not probed yet' }]);
    expect(api.requests).toBe(0);

    await setStatus(HELM_RELEASE, ns, 'combo-release', { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'InstallSucceeded', message: 'installed' }] });
    const probing = await waitForRunner(ns, 'combo', 'waiting for the probe', (r) => r.status?.message === 'waiting for probe api (answered 503, not 200–399)');
    expect(probing.status?.state).toBe('WaitingForWorkloads');
    expect(api.requests).toBeGreaterThan(0);

    api.status = 200;
    const done = await waitForRunner(ns, 'combo', 'Succeeded', stateIs('Succeeded'));
    expect(done.status?.watchedResources?.map((w) => `${w.kind} ${w.name} ${w.ready}`).sort()).toEqual([
      'Deployment combo-app true',
      'HelmRelease combo-release true',
      'Runner combo-up true',
    ]);
    expect(done.status?.lastRun?.trigger).toBe('first run');
    expect(await jobsOf(ns, 'combo')).toHaveLength(1);

    // `kubectl hestia describe` shows every input and the probe.
    const { stdout } = await promisify(execFile)(process.execPath, ['src/cli.ts', 'describe', 'combo', '-n', ns], { env: process.env });
    expect(stdout).toContain(`ready      Deployment ${ns}/combo-app`);
    expect(stdout).toContain(`ready      HelmRelease.helm.toolkit.fluxcd.io ${ns}/combo-release  (Current: Resource is Ready)`);
    expect(stdout).toContain(`ready      Runner ${ns}/combo-up`);
    expect(stdout).toContain(`Probes:\n  ready      api  ${url}  (answered 200)`);
  });
});

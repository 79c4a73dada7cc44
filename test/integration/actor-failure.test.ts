// Issue 21, gap 7, on the real control plane: an action of a Runner's actor throws (here the operator's metrics
// throw as a run starts, as prom-client does for a label it does not know). The Runner is not silently dead: it says
// so with a Warning Event and ReconcileSuccess False, the failure is counted, and its actor is started again from its
// snapshot after a backoff — the run carries on with the Job it already has: one run, one Job.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Operator } from '../../src/operator/operator.ts';
import { NO_RUN_METRICS, type RunMetrics } from '../../src/operator/run-metrics.ts';
import { operatorClient } from './support/identity.ts';
import { condition, core, createNamespace, createRunner, deleteNamespace, installCrd, jobsOf, runnerManifest, waitFor, waitForRunner } from './support/kube.ts';

const THROWS = 2;
let ns: string;
let operator: Operator | undefined;
let runStarts = 0;
let runsStarted = 0;

/** Metrics whose runStarted throws the first THROWS times it is called. */
const metrics: RunMetrics = {
  ...NO_RUN_METRICS,
  runStarted: () => {
    runStarts += 1;
    if (runStarts <= THROWS) throw new Error('Added label "tenant" is not included in initial labelset');
    runsStarted += 1;
  },
};

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('actor-failure');
  operator = new Operator({ client: await operatorClient(), log: pino({ level: process.env.HESTIA_TEST_LOG ?? 'silent' }), metrics, scope: { namespaces: [ns] } });
  await operator.start();
});

afterAll(async () => {
  await operator?.stop();
  if (ns) await deleteNamespace(ns);
});

describe('a Runner whose actor fails', () => {
  it('says so (Warning Event, ReconcileSuccess False, a count) and runs again from its snapshot: one run, one Job', async () => {
    await createRunner(runnerManifest(ns, 'flaky', {}));

    const failing = await waitForRunner(ns, 'flaky', 'ReconcileSuccess False', (r) => condition(r, 'ReconcileSuccess')?.status === 'False');
    expect(condition(failing, 'ReconcileSuccess')).toMatchObject({
      reason: 'LastReconcileCycleFailed',
      message: expect.stringMatching(/^the Runner's state machine stopped on an error \(Added label "tenant" is not included in initial labelset\); restarting it from its last snapshot in \d+s$/),
    });
    const events = await waitFor('the ActorFailed Event', async () => {
      const items = (await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=flaky,reason=ActorFailed' })).items;
      return items.length > 0 ? items : undefined;
    });
    expect(events[0]).toMatchObject({ type: 'Warning', involvedObject: { kind: 'Runner', name: 'flaky' } });

    const done = await waitForRunner(ns, 'flaky', 'Succeeded, its actor running again', (r) => r.status?.state === 'Succeeded' && condition(r, 'ReconcileSuccess')?.status === 'True');
    expect(done.status?.lastRun).toMatchObject({ result: 'Succeeded', trigger: 'first run' });
    expect(await jobsOf(ns, 'flaky')).toHaveLength(1);
    expect(operator!.stats.actorFailures).toBe(THROWS);
    expect(runsStarted).toBe(1);
  });
});

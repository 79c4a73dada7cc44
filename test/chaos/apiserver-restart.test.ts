// SPEC §6, issue 15: the whole control plane (etcd, API server, controllers) restarted while
// Runners are being triggered. The operator's watches break; they are re-established, and every
// expected run happens exactly once. The operator runs as deployed (leader election on) and, like a
// pod's container, is started again if it exits (it does when it cannot renew its Lease in time).
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../integration/support/kube.ts';
import { restartControlPlane } from './support/control-plane.ts';
import { awaitConvergence } from './support/convergence.ts';
import { chaosEnvironment } from './support/environment.ts';
import { bySize, recordFigures } from './support/figures.ts';
import { Fleet, type FleetPlan } from './support/fleet.ts';
import { JobBook, listJobs } from './support/job-book.ts';
import { countEventRuns, offCounts, totals } from './support/ledger.ts';
import { leaderElectionEnv, OperatorProcess } from './support/operator-process.ts';

const env = chaosEnvironment('chaos-apiserver');
const size = bySize<{ restarts: number; plan: FleetPlan }>({
  reduced: { restarts: 1, plan: { manual: { runners: 3, triggers: 4 }, rollout: { runners: 2, rollouts: 3 }, chain: { pairs: 1, triggers: 4 }, scheduled: { runners: 0 } } },
  full: { restarts: 4, plan: { manual: { runners: 6, triggers: 12 }, rollout: { runners: 4, rollouts: 8 }, chain: { pairs: 3, triggers: 10 }, scheduled: { runners: 0 } } },
});

let operator: OperatorProcess | undefined;
let book: JobBook | undefined;

afterAll(async () => {
  book?.stop();
  await operator?.close();
});

describe('the control plane restarted mid-run', () => {
  it('loses nothing and runs nothing twice', async () => {
    const fleet = new Fleet(env.ns, size.plan);
    await fleet.create();
    book = new JobBook(env.ns);
    await book.start();
    operator = new OperatorProcess({
      name: 'apiserver-restart',
      kubeconfig: env.kubeconfig,
      env: leaderElectionEnv('hestia-0', `chaos-apiserver-${process.pid}`),
      restartOnExit: true,
    });
    await operator.start();

    let driving = true;
    const driven = fleet.drive(book).finally(() => (driving = false));
    const outages: { downAt: number; upAt: number; runsBefore: number }[] = [];
    for (let i = 1; i <= size.restarts && driving; i++) {
      // Spread the restarts over the runs, each while triggers are in flight.
      const at = Math.floor((fleet.plannedEventRuns * i) / (size.restarts + 1));
      await waitFor(`${at} runs before restart ${i}`, () => book!.count() >= at || !driving, 600_000);
      if (!driving) break;
      const runsBefore = book.count();
      outages.push({ ...(await restartControlPlane()), runsBefore });
    }
    const outcome = await driven;

    const runners = [...outcome.expected.keys()].map((name) => ({ name, scheduled: false }));
    const unconverged = await awaitConvergence(env.ns, runners, () => listJobs(env.ns));
    const jobs = await listJobs(env.ns);
    const counts = countEventRuns(jobs, outcome.expected);
    const sum = totals(counts);
    recordFigures('apiserver-restart', {
      restarts: outages.length,
      outageSeconds: outages.map((o) => (o.upAt - o.downAt) / 1000),
      runsChecked: jobs.length,
      runsExpected: sum.expected,
      duplicates: sum.duplicates,
      missed: sum.missed,
      runnersOff: offCounts(counts),
      operatorExitsAfterLosingLease: operator.selfExits,
      unconverged: unconverged.length,
    });

    expect(outages).toHaveLength(size.restarts);
    expect(outcome.timedOut, 'runs that never started').toEqual([]);
    expect(offCounts(counts), 'Runners with duplicate or missed runs').toEqual([]);
    expect(unconverged, 'Runners whose status does not match their Jobs').toEqual([]);
  }, 1_800_000);
});

// Global set-up of the suites that run against a test cluster (vitest.config.ts): after the last test file, the
// cluster's whole audit log is searched for writes to workloads by the operator's identity. Any such write fails
// the run (vitest exits non-zero when a global teardown throws), so `make test` fails too.
import { OPERATOR_USER } from './operator-user.ts';
import { workloadWritesInLog } from './workload-writes.ts';

export default function setup(): () => void {
  return () => {
    const log = process.env.HESTIA_AUDIT_LOG;
    if (!log) throw new Error('HESTIA_AUDIT_LOG is not set: run the suite through test/cluster/with-cluster.sh');
    const { files, requests, writes } = workloadWritesInLog(OPERATOR_USER, log);
    if (writes.length > 0) {
      throw new Error(`the operator (${OPERATOR_USER}) wrote to workloads ${writes.length} time(s), see ${log}:\n  ${writes.join('\n  ')}`);
    }
    console.log(`audit log (${files} file${files === 1 ? '' : 's'}): ${requests} requests by ${OPERATOR_USER}, none of them a write to a Deployment, StatefulSet, DaemonSet or DeploymentConfig`);
  };
}

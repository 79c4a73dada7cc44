// `hestia describe <runner>`: one Runner in words — its state, what it waits for, its last
// runs and its next tick. Pure rendering of the Runner and its Jobs; the CLI fetches them.
import type { V1Job } from '@kubernetes/client-node';
import type { Runner } from '../api/runner.ts';
import { jobOutcome } from '../runner/job.ts';
import { reportContainerOf } from '../runner/run-outcome.ts';
import { failedTestLines, flakyWords, testsWords } from '../runner/run-words.ts';
import { ownershipWords, type Ownership } from '../shard/owner.ts';

const mark = (ready: boolean) => (ready ? 'ready    ' : 'not ready');

export function describeRunner(runner: Runner, jobs: readonly V1Job[], ownership: Ownership = { sharded: false }): string {
  const s = runner.status ?? {};
  const lines: string[] = [];
  lines.push(`Runner ${runner.metadata.namespace}/${runner.metadata.name}`);
  lines.push(`  State:     ${s.state ?? '(not yet seen by the operator)'}`);
  const replica = ownershipWords(ownership);
  if (replica) lines.push(`  Replica:   ${replica}`);
  if (s.message) lines.push(`  Why:       ${s.message}`);
  const stalled = s.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
  if (stalled) lines.push(`  Stalled:   ${stalled.reason}: ${stalled.message}`);
  if (runner.spec?.schedule) {
    lines.push(`  Schedule:  ${runner.spec.schedule}${runner.spec.timeZone ? ` (${runner.spec.timeZone})` : ' (UTC)'}`);
    lines.push(`  Next run:  ${s.nextScheduleTime ?? '-'}`);
  }
  if (runner.spec?.suspend) lines.push('  Suspended: yes (spec.suspend)');
  if (runner.spec?.advisory) lines.push('  Advisory:  yes (spec.advisory): a failed run is reported, stays Ready and blocks no downstream Runner');
  if (runner.spec?.testResults) lines.push(`  Tests:     ${runner.spec.testResults.format} report from the ${runner.spec.testResults.from === 'TerminationMessage' ? 'termination message' : 'log'} of container ${reportContainerOf(runner.spec) ?? '?'}`);

  lines.push('', 'Inputs:');
  const watched = s.watchedResources ?? [];
  if (watched.length === 0) lines.push('  (none matched)');
  for (const w of watched) {
    const kind = w.apiVersion?.includes('/') ? `${w.kind}.${w.apiVersion.split('/')[0]}` : w.kind;
    const where = w.namespace ? `${w.namespace}/${w.name}` : w.name;
    lines.push(`  ${mark(w.ready)}  ${kind} ${where}${w.message ? `  (${w.message})` : ''}`);
  }
  if ((s.watchedResourcesCount ?? 0) > watched.length) lines.push(`  ... and ${s.watchedResourcesCount! - watched.length} more`);

  const probes = s.probes ?? [];
  if (probes.length > 0) {
    lines.push('', 'Probes:');
    for (const p of probes) lines.push(`  ${mark(p.ready)}  ${p.name}  ${p.url}  (${p.message})`);
  }

  lines.push('', 'Last run:');
  if (!s.lastRun) lines.push('  (none yet)');
  else {
    const r = s.lastRun;
    const result = r.result === 'Error' ? `Error (${r.errorReason ?? 'infrastructure'})` : r.result;
    lines.push(`  Job ${r.jobName}: ${result}${r.message ? ` — ${r.message}` : ''}`);
    lines.push(`  triggered by ${r.trigger}; started ${r.startTime}${r.completionTime ? `, finished ${r.completionTime}` : ''}`);
    const flaky = flakyWords(r);
    if (flaky) lines.push(`  ${flaky}`);
    if (r.tests) lines.push(`  tests: ${testsWords(r.tests)}`, ...failedTestLines(r.tests).map((l) => `    ${l}`));
    if (r.result !== 'Running') lines.push(`  logs: kubectl hestia logs ${runner.metadata.name} -n ${runner.metadata.namespace}`);
  }
  if (s.lastSuccessfulRunTime) lines.push(`  last success: ${s.lastSuccessfulRunTime}`);
  if (s.lastFailedRunTime) lines.push(`  last failure: ${s.lastFailedRunTime}`);

  const history = [...jobs].sort((a, b) => String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')));
  if (history.length > 0) {
    lines.push('', 'Jobs kept (newest first):');
    for (const job of history) {
      const o = jobOutcome(job);
      lines.push(`  ${job.metadata?.name}  ${o.phase}  created ${new Date(job.metadata?.creationTimestamp ?? 0).toISOString()}`);
    }
  }
  return lines.join('\n') + '\n';
}

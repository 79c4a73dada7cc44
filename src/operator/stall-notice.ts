// An invalid spec or a dependency cycle is told once as a Warning Event on the Runner (SPEC §5), and logged.
import type { Logger } from 'pino';
import { runnerReference, type Runner } from '../api/runner.ts';
import type { Assessment } from '../runner/assess.ts';
import type { Recorder } from '../k8s/events.ts';
import type { RunnerRuntime } from './actors.ts';
import { runnerKey } from './selections.ts';

export function announceStall(rt: RunnerRuntime | undefined, runner: Runner, a: Assessment, log: Logger, recorder: Recorder): void {
  if (!rt) return;
  const reason = !a.inputs.valid ? 'InvalidSpec' : a.cycle ? 'DependencyCycle' : null;
  const notice = reason ? `${reason}: ${a.blockedMessage ?? ''}` : null;
  if (notice === rt.announcedStall) return;
  rt.announcedStall = notice;
  if (!reason) return;
  log.warn({ runner: runnerKey(runner), reason, message: a.blockedMessage }, 'Runner stalled');
  recorder.record(
    runnerReference(runner),
    'Warning',
    reason,
    a.blockedMessage ?? reason,
  );
}

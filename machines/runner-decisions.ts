// The Runner's rules written as one decision function: where a Runner that is not running belongs, and why a run is
// due. The machine (machines/runner.ts) does not call these: its transitions and guards say the same thing as a
// statechart. They are kept as the oracle that test/unit/machine-equivalence.test.ts holds the machine to, and as the
// table docs/machine.md explains.
import { inputsSatisfied, lastRunFailed, type RunnerContext, type RunnerStateName, type RunReason } from './runner-context.ts';

/** Why a run is due now, or null when none is. */
export function dueRunReason(ctx: RunnerContext): RunReason | null {
  const i = ctx.inputs;
  if (!inputsSatisfied(i)) return null;
  if (i.trigger !== null && i.trigger !== ctx.lastTrigger) return 'Manual';
  if (i.scheduled) return ctx.dueTick !== null ? 'Schedule' : null;
  return i.revision !== ctx.lastRevision ? 'Revision' : null;
}

/** The state a Runner that is not running belongs in. */
export function restingState(ctx: RunnerContext): RunnerStateName {
  const i = ctx.inputs;
  if (!i.valid) return 'Invalid';
  if (i.cycle) return 'Stalled';
  if (i.suspended) return 'Suspended';
  if (!i.workloadsReady) return 'WaitingForWorkloads';
  if (!i.upstreamReady) return 'WaitingForUpstream';
  if (dueRunReason(ctx) !== null) return 'Running';
  if (i.scheduled) return 'Scheduled';
  return lastRunFailed(ctx) ? 'Failed' : 'Succeeded';
}

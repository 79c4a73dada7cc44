// The Runner actors at run time: one XState actor per Runner (restored from status.snapshot at
// start-up), what the operator last assessed for each, and the two timers each may need — the
// next cron tick and the stable-state timeout. What this file originates (a tick, a resumed actor's
// inputs) goes to the work queue (`enqueue`); the queue hands events back through `deliver`, the one
// way into an actor, in order with the Runner's reconciles (src/operator/runner-work.ts). An actor
// that fails is said so (log, Event, status, metric) and restarted from its snapshot (actor-system.ts).
import type { Logger } from 'pino';
import type { AnyStateMachine, InspectionEvent } from 'xstate';
import type { RunHistory, RunnerEvent } from '../../machines/runner.ts';
import { sameInputs } from '../../machines/runner-context.ts';
import { ActorSystem, restorableSnapshot, type RunnerSnapshotView } from './actor-system.ts';
import { errorText } from '../k8s/informer.ts';
import { parseKey } from '../k8s/object-key.ts';
import type { Runner } from '../api/runner.ts';
import type { Assessment } from '../runner/assess.ts';
import type { Clock } from '../time/clock.ts';
import { nextTickFor, stableStateDeadline, TimerSlot } from '../runner/runner-time.ts';
import { missedTickDecision } from '../runner/schedule.ts';
import { runnerKey } from './selections.ts';
import { canonicalJson } from '../runner/canonical-json.ts';
import { shownOfAssessment } from '../runner/status.ts';

export interface RunnerRuntime {
  uid: string;
  assessment: Assessment;
  /** What the status shows of `assessment` (shownOfAssessment), serialised: compared with the next one's. */
  shown: string;
  reconcileError: string | null;
  /** The Stalled reason and message last announced with an Event, so each is announced once. */
  announcedStall: string | null;
  tickTimer: TimerSlot;
  stableTimer: TimerSlot;
  unsubscribe: () => void;
}

export interface ActorsOptions {
  machine: AnyStateMachine;
  clock: Clock;
  log: Logger;
  inspect: ((event: InspectionEvent) => void) | undefined;
  /** The Runner as cached now. */
  runner(key: string): Runner | undefined;
  /** Called after every change of a Runner actor's snapshot. */
  changed(key: string): void;
  /** The stable-state timeout of this Runner passed: its status must say so. */
  stableStateTimedOut(key: string): void;
  /** What a Runner's Jobs show has run, for an actor that starts without a snapshot (src/runner/runs-from-jobs.ts). */
  historyOf?(uid: string): RunHistory | undefined;
  /** Called before a tick is delivered (its probes are asked then); the tick waits for it. */
  beforeTick?(key: string, tick: string): Promise<void>;
  /** A Runner's actor failed and waits to be restarted: `message` says so, for an Event and its status. */
  failed?(key: string, message: string): void;
  /** The key of the Runner with this uid (the Runner cache's index). */
  keyOfUid(uid: string): string | undefined;
  /** Queues an event for a Runner's actor (the work queue, which delivers it in order through `deliver`). */
  enqueue(uid: string, event: RunnerEvent): void;
}

/** What a Runner's status and Event say of its failed actor. */
export const actorFailureMessage = (error: unknown, retryInMs: number): string =>
  `the Runner's state machine stopped on an error (${errorText(error)}); restarting it from its last snapshot in ${Math.ceil(retryInMs / 1000)}s`;

export class RunnerActors {
  private readonly options: ActorsOptions;
  private readonly runtimes = new Map<string, RunnerRuntime>();
  /** Why each failed actor is stopped, by uid, until it runs again. */
  private readonly failures = new Map<string, string>();
  private system: ActorSystem | null = null;
  /** Actor failures since start (for metrics). */
  failureCount = 0;

  constructor(options: ActorsOptions) {
    this.options = options;
  }

  /** Resumes the actor of every Runner whose snapshot fits the machine; returns how many. */
  restore(runners: Iterable<Runner>): number {
    const system = (this.system ??= new ActorSystem(this.options.machine, {
      inspect: this.options.inspect,
      clock: this.options.clock,
      failed: (uid, error, retryInMs) => this.actorFailed(uid, error, retryInMs),
      recovered: (uid) => this.actorRecovered(uid),
    }));
    let restored = 0;
    for (const runner of runners) {
      const snapshot = restorableSnapshot(runner.status?.snapshot);
      if (snapshot) {
        system.restore(runner.metadata.uid!, snapshot);
        restored += 1;
      } else if (runner.status?.snapshot) this.options.log.warn({ runner: runnerKey(runner) }, 'status.snapshot does not fit the machine; starting this Runner afresh');
    }
    return restored;
  }

  stop(): void {
    for (const rt of this.runtimes.values()) this.disarm(rt);
    this.system?.stop();
  }

  runtime(key: string): RunnerRuntime | undefined {
    return this.runtimes.get(key);
  }

  get size(): number {
    return this.runtimes.size;
  }

  /** The state of every Runner's actor. */
  *states(): Iterable<string> {
    for (const rt of this.runtimes.values()) {
      const state = this.view(rt.uid)?.state;
      if (state) yield state;
    }
  }

  countByState(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const state of this.states()) counts.set(state, (counts.get(state) ?? 0) + 1);
    return counts;
  }

  view(uid: string): RunnerSnapshotView | null {
    return this.system?.view(uid) ?? null;
  }

  /** Why this Runner's actor is stopped, while it waits to be restarted; null while it runs. */
  failureOf(uid: string): string | null {
    return this.failures.get(uid) ?? null;
  }

  now(): string {
    return this.options.clock.now().toISOString();
  }

  /** Gives the Runner its actor (a restored one, or a new one from these inputs) and sends them. */
  add(runner: Runner, assessment: Assessment): RunnerRuntime {
    const uid = runner.metadata.uid!;
    const key = runnerKey(runner);
    if (!this.system!.has(uid)) {
      const history = this.options.historyOf?.(uid);
      if (history) this.options.log.info({ runner: key, runs: history.runs, lastRun: history.run?.key ?? null }, 'no status.snapshot: resuming from what the Runner\'s Jobs show has run');
      this.system!.spawn(uid, { inputs: assessment.inputs, at: this.now(), ...(history ? { history } : {}) });
    }
    const stalled = runner.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
    const rt: RunnerRuntime = {
      uid,
      assessment,
      shown: canonicalJson(shownOfAssessment(assessment)),
      reconcileError: null,
      announcedStall: stalled ? `${stalled.reason}: ${stalled.message}` : null,
      tickTimer: new TimerSlot(),
      stableTimer: new TimerSlot(),
      unsubscribe: () => {},
    };
    this.runtimes.set(key, rt);
    rt.unsubscribe = this.system!.subscribe(uid, () => this.options.changed(key));
    // A resumed actor's inputs come with its first reconcile (the caller marks it dirty): an INPUTS queued here could
    // arrive after that reconcile's fresher one and put the older inputs back.
    return rt;
  }

  /** Stops the Runner's timers, so that nothing of its own starts a run: a replica giving it up to another. */
  pause(key: string): void {
    const rt = this.runtimes.get(key);
    if (rt) this.disarm(rt);
  }

  remove(key: string, uid: string): void {
    const rt = this.runtimes.get(key);
    if (rt && rt.uid === uid) {
      this.disarm(rt);
      rt.unsubscribe();
      this.runtimes.delete(key);
    }
    this.failures.delete(uid);
    this.system?.remove(uid);
  }

  private actorFailed(uid: string, error: unknown, retryInMs: number): void {
    const key = this.options.keyOfUid(uid) ?? uid;
    const message = actorFailureMessage(error, retryInMs);
    this.failureCount += 1;
    this.failures.set(uid, message);
    this.options.log.error({ runner: key, namespace: parseKey(key).namespace, err: error, retryInMs }, "the Runner's actor failed; restarting it from its last snapshot");
    this.options.failed?.(key, message);
  }

  private actorRecovered(uid: string): void {
    const key = this.options.keyOfUid(uid) ?? uid;
    this.failures.delete(uid);
    this.options.log.info({ runner: key, namespace: parseKey(key).namespace }, "the Runner's actor runs again");
    this.options.changed(key);
  }

  /**
   * A new assessment, from the work queue's reconcile: the actor gets it as INPUTS at once (equal inputs change
   * nothing in the machine). Returns whether it changed what the Runner's status shows of it
   * (src/runner/status.ts shownOfAssessment).
   */
  assessed(key: string, assessment: Assessment): boolean {
    const rt = this.runtimes.get(key);
    if (!rt) return false;
    rt.assessment = assessment;
    // At rest the machine ignores inputs equal to those it knows (machines/runner.ts, inputsChanged): not sending
    // them spares a macrostep for each event of a workload's burst that changes nothing the Runner depends on.
    // Not for an actor that failed: what it shows is its last snapshot, and newer inputs may wait to be replayed.
    const view = this.failures.has(rt.uid) ? null : this.view(rt.uid);
    const ignored = view !== null && view.state !== 'Running' && sameInputs(view.context.inputs, assessment.inputs);
    if (!ignored) this.deliver(rt.uid, { type: 'INPUTS', at: this.now(), inputs: assessment.inputs });
    const shown = canonicalJson(shownOfAssessment(assessment));
    if (shown === rt.shown) return false;
    rt.shown = shown;
    return true;
  }

  /** Hands an event to the actor now: for the work queue only, which keeps each Runner's events in order. */
  deliver(uid: string, event: RunnerEvent): void {
    this.system?.send(uid, event);
  }

  // ---- Time: schedule ticks and the stable-state timeout -----------------------------------

  private scheduleOf(runner: Runner, rt: RunnerRuntime): { schedule: string; timeZone: string | undefined } | null {
    if (!runner.spec?.schedule || !rt.assessment.inputs.valid) return null;
    return { schedule: runner.spec.schedule, timeZone: runner.spec.timeZone };
  }

  /** At start-up: the latest tick missed while the operator was down runs if startingDeadlineSeconds allows. */
  catchUpMissedTick(runner: Runner): void {
    const rt = this.runtimes.get(runnerKey(runner));
    const view = rt ? this.view(rt.uid) : null;
    const sched = rt ? this.scheduleOf(runner, rt) : null;
    if (!rt || !sched || !view) return;
    const clock = this.options.clock;
    const decision = missedTickDecision({
      ...sched,
      lastTick: view.context.lastTick ? new Date(view.context.lastTick) : null,
      creationTime: new Date(runner.metadata.creationTimestamp ?? clock.now()),
      now: clock.now(),
      startingDeadlineSeconds: runner.spec.startingDeadlineSeconds,
    });
    if (!decision) return;
    const log = this.options.log.child({ runner: runnerKey(runner) });
    if ('run' in decision) {
      const tick = decision.run.toISOString();
      log.info({ tick }, 'running a tick missed while the operator was down');
      void this.beforeTick(runnerKey(runner), tick).then(() => this.options.enqueue(rt.uid, { type: 'TICK', at: this.now(), tick }));
    } else {
      log.info({ tick: decision.skip.toISOString() }, 'skipping a tick missed while the operator was down');
      this.options.enqueue(rt.uid, { type: 'TICK.MISSED', at: this.now(), tick: decision.skip.toISOString() });
    }
  }

  /**
   * Arms the Runner's timers for its current snapshot (a timer whose time is unchanged stays as it is). `firedTick`:
   * the tick just queued for the actor, which its snapshot does not show yet — the next tick comes after it, even if
   * the timer fired a little before the tick's time.
   */
  armTimers(key: string, firedTick?: string): void {
    const runner = this.options.runner(key);
    const rt = this.runtimes.get(key);
    const view = rt ? this.view(rt.uid) : null;
    if (!runner || !rt || !view) return;
    const clock = this.options.clock;
    const now = clock.now();
    const handled = firedTick && (!view.context.lastTick || firedTick > view.context.lastTick) ? firedTick : view.context.lastTick;
    const next = this.scheduleOf(runner, rt) ? nextTickFor(runner, handled, now) : null;
    rt.tickTimer.set(clock, next, (tick) => {
      void this.beforeTick(key, tick).then(() => {
        this.options.enqueue(rt.uid, { type: 'TICK', at: this.now(), tick });
        this.armTimers(key, tick);
      });
    });
    const deadline = stableStateDeadline(runner, view.context.progressingSince);
    rt.stableTimer.set(clock, deadline && deadline > now ? deadline : null, () => this.options.stableStateTimedOut(key));
  }

  private async beforeTick(key: string, tick: string): Promise<void> {
    try {
      await this.options.beforeTick?.(key, tick);
    } catch (err) {
      this.options.log.warn({ runner: key, err }, 'could not prepare the tick; delivering it as it is');
    }
  }

  private disarm(rt: RunnerRuntime): void {
    rt.tickTimer.clear();
    rt.stableTimer.clear();
  }
}

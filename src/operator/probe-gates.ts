// The probes of each Runner as gates (SPEC §2.3, §3.1): checked only when every other input holds and a run is
// due — a new revision or manual trigger not yet run, a remembered tick — or at a scheduled tick. A round asks
// every probe at once; the run may start once a round in which all answered as expected has happened since the
// run became due. A round with a wrong answer is followed by another after the probes' period, doubling each
// time (src/runner/probes/probe.ts). Probes are not part of the revision: an endpoint that goes down and up again causes no
// run. What each probe answered last is in the Runner's status.probes; the decision to wait names it.
import type { Logger } from 'pino';
import { initialContext, inputsSatisfied, runDue, type RunnerContext, type RunnerInputs } from '../../machines/runner.ts';
import type { ProbeSpec, ProbeStatus } from '../api/runner.ts';
import type { ProbeGate } from '../runner/assess.ts';
import { canonicalJson } from '../runner/canonical-json.ts';
import type { Clock } from '../time/clock.ts';
import { NOT_PROBED, nextRoundDelaySeconds, type ProbeAnswer } from '../runner/probes/probe.ts';
import type { Prober } from './prober.ts';

interface Episode {
  /** What the probing is for: the revision and trigger a run is due for, or a scheduled tick. */
  for: string;
  passed: boolean;
}

interface RunnerProbes {
  specs: ProbeSpec[];
  specText: string;
  answers: Map<string, ProbeAnswer>;
  episode: Episode | null;
  failures: number;
  inFlight: Promise<void> | null;
  cancelRetry: (() => void) | null;
}

export interface ProbeGatesOptions {
  prober: Prober;
  clock: Clock;
  log: Logger;
  /** New answers arrived for this Runner: assess it again. */
  changed(runnerKey: string): void;
}

export class ProbeGates {
  private readonly options: ProbeGatesOptions;
  private readonly runners = new Map<string, RunnerProbes>();
  private stopped = false;

  constructor(options: ProbeGatesOptions) {
    this.options = options;
  }

  /**
   * The gate for a Runner whose other inputs are `inputs` and whose actor's context is `context` (null before its
   * actor exists); null when it has no probes. Starts or ends probing as the Runner's situation asks.
   */
  gate(key: string, probes: ProbeSpec[] | undefined, inputs: RunnerInputs, context: RunnerContext | null, at: string): ProbeGate | null {
    if (!Array.isArray(probes) || probes.length === 0) {
      this.forget(key);
      return null;
    }
    const rp = this.state(key, probes);
    const ctx: RunnerContext = context ? { ...context, inputs } : initialContext({ inputs, at });
    // The machine's own rule (machines/runner-context.ts), asked of the context these inputs would give it.
    const due = runDue(ctx);
    const dueFor = `${inputs.revision}|${inputs.trigger ?? ''}|${ctx.dueTick ?? ''}`;
    const tickPending = inputs.scheduled && rp.episode?.for.startsWith('tick:') === true && !rp.episode.passed;
    if (due && rp.episode?.for !== dueFor) this.begin(key, rp, dueFor);
    else if (!due && !(tickPending && inputsSatisfied(inputs))) this.end(rp);
    return { open: rp.episode === null || rp.episode.passed, statuses: this.statuses(rp) };
  }

  /** A scheduled tick is about to be delivered: probe now, so that the tick runs or is skipped on fresh answers. */
  async beforeTick(key: string, tick: string, othersSatisfied: boolean): Promise<void> {
    const rp = this.runners.get(key);
    if (!rp || !othersSatisfied) return;
    this.begin(key, rp, `tick:${tick}`);
    await rp.inFlight;
  }

  forget(key: string): void {
    const rp = this.runners.get(key);
    if (!rp) return;
    rp.cancelRetry?.();
    this.runners.delete(key);
  }

  stop(): void {
    this.stopped = true;
    for (const key of [...this.runners.keys()]) this.forget(key);
  }

  private state(key: string, specs: ProbeSpec[]): RunnerProbes {
    const specText = canonicalJson(specs);
    const known = this.runners.get(key);
    if (known && known.specText === specText) return known;
    known?.cancelRetry?.();
    const fresh: RunnerProbes = { specs, specText, answers: new Map(), episode: null, failures: 0, inFlight: null, cancelRetry: null };
    this.runners.set(key, fresh);
    return fresh;
  }

  private statuses(rp: RunnerProbes): ProbeStatus[] {
    return rp.specs.map((p) => {
      const answer = rp.answers.get(p.name);
      return { name: p.name, url: p.http?.url ?? '', ready: answer?.ok ?? false, message: answer?.message ?? NOT_PROBED };
    });
  }

  private begin(key: string, rp: RunnerProbes, what: string): void {
    rp.cancelRetry?.();
    rp.cancelRetry = null;
    rp.episode = { for: what, passed: false };
    rp.failures = 0;
    this.round(key, rp);
  }

  private end(rp: RunnerProbes): void {
    rp.cancelRetry?.();
    rp.cancelRetry = null;
    rp.episode = null;
  }

  private round(key: string, rp: RunnerProbes): void {
    const episode = rp.episode;
    if (!episode || this.stopped) return;
    const run = async () => {
      const answers = await Promise.all(rp.specs.map(async (p) => [p, await this.options.prober(p)] as const));
      if (this.runners.get(key) !== rp) return;
      for (const [p, answer] of answers) {
        if (rp.answers.get(p.name)?.message !== answer.message) this.options.log.info({ runner: key, probe: p.name, url: p.http.url, answer: answer.message }, 'probe answered');
        rp.answers.set(p.name, answer);
      }
      const failing = answers.filter(([, a]) => !a.ok).map(([p]) => p);
      if (rp.episode === episode) {
        if (failing.length === 0) episode.passed = true;
        else this.retryLater(key, rp, failing);
      }
      this.options.changed(key);
    };
    const inFlight = (rp.inFlight ?? Promise.resolve()).then(run, run).finally(() => {
      if (rp.inFlight === inFlight) rp.inFlight = null;
    });
    rp.inFlight = inFlight;
  }

  private retryLater(key: string, rp: RunnerProbes, failing: ProbeSpec[]): void {
    rp.failures += 1;
    const seconds = nextRoundDelaySeconds(failing, rp.failures);
    const { clock } = this.options;
    rp.cancelRetry?.();
    rp.cancelRetry = clock.at(new Date(clock.now().getTime() + seconds * 1000), () => {
      rp.cancelRetry = null;
      this.round(key, rp);
    });
  }
}

// The one backoff every retry in the operator uses: exponential from a base, capped, with jitter so
// that many callers failing at the same moment (a restarted API server, an endpoint down for a
// thousand Runners) do not all come back at the same moment too. Pure: the random source is a parameter.

export interface BackoffPolicy {
  /** The first delay. */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /**
   * The share of each delay drawn at random (default 0.2): a delay d becomes one between d·(1 − jitter)
   * and d, so the cap still holds. 0 gives the exact sequence.
   */
  jitter?: number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const { baseMs, maxMs, factor = 2, jitter = 0.2 } = policy;
  const exact = Math.min(baseMs * factor ** Math.max(0, attempt), maxMs);
  return Math.round(exact * (1 - jitter * random()));
}

/** A backoff with its own count of failures in a row: `next()` after a failure, `reset()` after a success. */
export class Backoff {
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;
  private failures = 0;

  constructor(policy: BackoffPolicy, random: () => number = Math.random) {
    this.policy = policy;
    this.random = random;
  }

  /** The delay to wait after one more failure. */
  next(): number {
    return backoffDelay(this.policy, this.failures++, this.random);
  }

  reset(): void {
    this.failures = 0;
  }

  /** Failures in a row since the last reset. */
  get attempts(): number {
    return this.failures;
  }
}

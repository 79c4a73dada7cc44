// SIGKILLs an operator process at random moments and starts it again at once (as a Deployment's
// restart would), spread over a number of runs so that kills fall between Job creations, status
// writes and Lease renewals alike: each at a random 0.5–4 s (0.2–1 s when behind) after the process
// became ready and the runs reached the kill's threshold; one in ten lands during start-up instead
// (caches filling, actors being restored). Seeded: HESTIA_CHAOS_SEED draws the same again.
import type { OperatorProcess } from './operator-process.ts';

export interface KillRecord {
  /** When the SIGKILL was sent (ms since the epoch). */
  at: number;
  /** Jobs seen when it was sent. */
  runsBefore: number;
  /** Whether the process was past start-up (/readyz 200) when killed. */
  wasReady: boolean;
  /** From the kill until the next process answered /readyz; null if it was killed again before. */
  downMs: number | null;
}

export interface KillerOptions {
  kills: number;
  /** The kills are spread over the first 90 % of this many runs. */
  overRuns: number;
  /** Runs (Jobs) seen so far. */
  runs: () => number;
  random: () => number;
}

/** A small seeded generator (mulberry32): the same seed gives the same kill moments. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function chaosSeed(): number {
  return process.env.HESTIA_CHAOS_SEED ? Number(process.env.HESTIA_CHAOS_SEED) : Date.now() % 2 ** 31;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => Promise<boolean> | boolean, stop: () => boolean): Promise<void> {
  while (!stop() && !(await condition())) await sleep(100);
}

/** One operator process's life as the test saw it: when it answered /readyz, and when it was killed. */
export interface Life {
  readyAt: number | null;
  endedAt: number | null;
}

export interface KillerResult {
  kills: KillRecord[];
  lives: Life[];
}

export async function killAtRandomMoments(operator: OperatorProcess, options: KillerOptions): Promise<KillerResult> {
  const { kills, overRuns, runs, random } = options;
  const thresholds = Array.from({ length: kills }, () => 1 + Math.floor(random() * overRuns * 0.9)).sort((a, b) => a - b);
  const records: KillRecord[] = [];
  const lives: Life[] = [];
  const measuring: Promise<void>[] = [];
  /** Follows the process now running until it is ready (or gone); `onReady` gets the time. */
  const watchLife = (onReady: (at: number) => void) => {
    const life: Life = { readyAt: null, endedAt: null };
    lives.push(life);
    const pid = operator.pid;
    const started = Date.now();
    measuring.push(
      until(() => operator.ready(), () => operator.pid !== pid || Date.now() - started > 300_000).then(() => {
        if (operator.pid === pid && Date.now() - started <= 300_000) onReady((life.readyAt = Date.now()));
      }),
    );
    return life;
  };
  let life = watchLife(() => undefined);
  let lastDuringStartUp = false;
  for (let i = 0; i < kills; i++) {
    // Never two start-up kills in a row: each outage stays short.
    const duringStartUp: boolean = !lastDuringStartUp && random() < 0.1;
    if (duringStartUp) await sleep(random() * 1_500);
    else {
      await until(async () => runs() >= thresholds[i]! && (await operator.ready()), () => false);
      // Some work between kills (killed at once every time, the operator would only ever start up),
      // less when the runs are already past the next kill's threshold, so that every kill lands
      // while there are runs to disturb.
      const behind = i + 1 < kills && runs() >= thresholds[i + 1]!;
      await sleep(behind ? 200 + random() * 800 : 500 + random() * 3_500);
    }
    const record: KillRecord = { at: Date.now(), runsBefore: runs(), wasReady: await operator.ready(), downMs: null };
    records.push(record);
    await operator.kill();
    life.endedAt = Date.now();
    await operator.start();
    life = watchLife((readyAt) => (record.downMs = readyAt - record.at));
    lastDuringStartUp = duringStartUp;
  }
  await Promise.all(measuring);
  return { kills: records, lives };
}

/**
 * Whether the operator had a fair chance at the interval [from, to) (real ms): some process of it
 * was ready for at least `neededMs` of it. A scheduled tick whose interval it had no such chance
 * at may be skipped (SPEC §3.4 runs only the latest of the ticks missed while it was down).
 */
export function hadAChance(lives: readonly Life[], from: number, to: number, neededMs: number): boolean {
  return lives.some((l) => l.readyAt !== null && Math.max(l.readyAt, from) + neededMs <= Math.min(l.endedAt ?? Infinity, to));
}

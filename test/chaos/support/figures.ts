// The size of a fault-suite run and the figures it reports. `make test` runs the reduced size,
// `make chaos` the full one (HESTIA_CHAOS_SIZE=full); each test prints its figures and writes them
// to .cache/test-results/chaos-<size>/<test>.json, which RELIABILITY.md quotes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type ChaosSize = 'reduced' | 'full';

export const CHAOS_SIZE: ChaosSize = process.env.HESTIA_CHAOS_SIZE === 'full' ? 'full' : 'reduced';

/** `reduced` in `make test`, `full` in `make chaos`. */
export const bySize = <T>(sizes: Record<ChaosSize, T>): T => sizes[CHAOS_SIZE];

export function recordFigures(test: string, figures: Record<string, unknown>): void {
  const dir = join('.cache', 'test-results', `chaos-${CHAOS_SIZE}`);
  mkdirSync(dir, { recursive: true });
  const stamped = { test, size: CHAOS_SIZE, finishedAt: new Date().toISOString(), ...figures };
  writeFileSync(join(dir, `${test}.json`), JSON.stringify(stamped, null, 2) + '\n');
  console.log(`chaos figures (${CHAOS_SIZE}) ${test}: ${JSON.stringify(figures)}`);
}

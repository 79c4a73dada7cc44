// `make bench-notify`'s summary: the runs of bench/notify-latency.ts in .cache/bench-notify/, each run's median
// rollout → Job latency per Destination condition and its ratio to no Notification, and the median over the runs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './audit-log.ts';

const DIR = '.cache/bench-notify';
interface Run { date: string; runners: number; rounds: number; summary: Record<string, { medianMs: number }>; ratios: Record<string, number> }
const runs: Run[] = readdirSync(DIR).filter((f) => /^run-\d+\.json$/.test(f)).sort().map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Run);
if (runs.length === 0) throw new Error(`no runs in ${DIR}: run make bench-notify`);
const conditions = Object.keys(runs[0]!.ratios);
for (const [i, r] of runs.entries()) {
  console.log(`run ${i + 1} (${r.date}, ${r.runners} Runners, ${r.rounds} rounds): none ${r.summary.none!.medianMs.toFixed(0)} ms, ${conditions.map((c) => `${c} ${r.summary[c]!.medianMs.toFixed(0)} ms (× ${r.ratios[c]!.toFixed(2)})`).join(', ')}`);
}
console.log(`median of ${runs.length} runs: ${conditions.map((c) => `${c} × ${median(runs.map((r) => r.ratios[c]!)).toFixed(2)}`).join(', ')} of no Notification's latency`);

// SPEC §6 "the operator never crashes on any input": the bad-input corpus and a seeded sample of random Runners
// (fast-check) are applied to the real API server while the real operator process runs. Each case must end in
// admission refusal, Stalled/InvalidSpec naming the field, or correct behaviour; afterwards the same operator
// process must still serve a healthy canary Runner (a rollout runs it again). Counts per outcome are printed.
//
// Size and replay: HESTIA_BAD_INPUT_RUNS (default 200) random Runners from HESTIA_BAD_INPUT_SEED (default: new
// each run, printed). A failure prints the seed and the case's index; HESTIA_BAD_INPUT_CASE=<index> replays one.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, KIND } from '../../src/api/runner.ts';
import { runnerManifest as randomRunner, type GeneratedRunner } from './support/bad-input/arbitrary-runner.ts';
import { corpus, manifestText, type CorpusCase } from './support/bad-input/corpus.ts';
import { outcomeKey, outcomeOf, type Outcome } from './support/bad-input/outcome.ts';
import {
  createDeployment, createNamespace, createRunner, deleteNamespace, ENABLE, installCrd, jobsOf, rollOut, runnerManifest, waitFor, waitForRunner,
} from './support/kube.ts';
import { startObservedOperator, type ObservedOperator } from './support/observed-operator.ts';

const RUNS = Number(process.env.HESTIA_BAD_INPUT_RUNS ?? 200);
const SEED = Number(process.env.HESTIA_BAD_INPUT_SEED ?? Date.now() % 2 ** 31);
const ONLY_CASE = process.env.HESTIA_BAD_INPUT_CASE === undefined ? undefined : Number(process.env.HESTIA_BAD_INPUT_CASE);
const PARALLEL = 8;

let ns = '';
let canaryNs = '';
let operator: ObservedOperator | undefined;
const tally: Record<string, number> = {};

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('bad');
  canaryNs = await createNamespace('canary');
  await createDeployment(canaryNs, 'shop', { app: `canary-${process.pid}`, ...ENABLE });
  await createRunner(runnerManifest(canaryNs, 'canary', { workloadSelector: { matchLabels: { app: `canary-${process.pid}` } } }));
  operator = await startObservedOperator();
  await waitForRunner(canaryNs, 'canary', 'first run Succeeded', (r) => r.status?.state === 'Succeeded', 90_000);
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  if (ns) await deleteNamespace(ns);
  if (canaryNs) await deleteNamespace(canaryNs);
});

/** Runs `work` over `items`, `PARALLEL` at a time, keeping the order of the results. */
async function inPool<T, R>(items: T[], work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return results;
}

function count(outcome: Outcome): void {
  const key = outcomeKey(outcome);
  tally[key] = (tally[key] ?? 0) + 1;
}

/** A name of its own for every case, keeping what makes it awkward (its length, its characters). */
function uniqueName(name: string, tag: string): string {
  if (name.length > 253) return name;
  return name.length + tag.length + 1 <= 253 ? `${name}-${tag}` : `${name.slice(0, 253 - tag.length - 1)}-${tag}`;
}

const brief = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 400 ? `${text.slice(0, 400)}… (${text.length} characters)` : text;
};

describe('bad input', () => {
  it(`ends each of the ${corpus.length} corpus cases as expected`, async () => {
    const outcomes = await inPool(corpus, (c: CorpusCase, i) => {
      const manifest = { apiVersion: API_VERSION, kind: KIND, metadata: { ...c.metadata, name: c.metadata?.name ?? `corpus-${i}` }, spec: c.spec };
      return outcomeOf(ns, c.deep ? manifestText(manifest, c.deep) : manifest);
    });
    outcomes.forEach(count);
    const endings = corpus.map((c, i) => {
      const o = outcomes[i]!;
      const said = o.kind === 'refused' || o.kind === 'invalidSpec' || o.kind === 'jobRefused' ? o.message : o.kind === 'wrong' ? o.why : o.state;
      const ok = o.kind === c.expect && said.includes(c.mentions);
      return { case: c.name, ok, ending: `${o.kind}: ${said.slice(0, 300)}` };
    });
    console.log(`bad input: corpus of ${corpus.length} cases:\n${endings.map((e) => `  ${e.ok ? 'ok  ' : 'FAIL'} ${e.case} -> ${e.ending}`).join('\n')}`);
    expect(endings.filter((e) => !e.ok)).toEqual([]);
  }, 600_000);

  it(`ends each of ${RUNS} random Runners in refusal, Stalled/InvalidSpec naming the field, or correct behaviour`, async () => {
    console.log(`bad input: seed ${SEED}, ${RUNS} random Runners (replay: HESTIA_BAD_INPUT_SEED=${SEED} HESTIA_BAD_INPUT_RUNS=${RUNS})`);
    const sample = fc.sample(randomRunner, { seed: SEED, numRuns: RUNS });
    const cases = sample.map((runner, index) => ({ index, runner })).filter((c) => ONLY_CASE === undefined || c.index === ONLY_CASE);
    const outcomes = await inPool(cases, ({ index, runner }) => {
      const manifest: GeneratedRunner = { ...runner, metadata: { ...runner.metadata, name: uniqueName(runner.metadata.name, `g${index}`) } };
      return outcomeOf(ns, manifest);
    });
    outcomes.forEach(count);
    const wrong = cases
      .map((c, i) => ({ ...c, outcome: outcomes[i]! }))
      .filter((c) => c.outcome.kind === 'wrong')
      .map((c) => `case ${c.index} (replay: HESTIA_BAD_INPUT_SEED=${SEED} HESTIA_BAD_INPUT_RUNS=${RUNS} HESTIA_BAD_INPUT_CASE=${c.index}): ${c.outcome.kind === 'wrong' ? c.outcome.why : ''}\n    input: ${brief(c.runner)}`);
    if (wrong.length > 0) console.log(`bad input: the operator's last log lines:\n${operator?.lastLines.join('\n')}`);
    expect(wrong).toEqual([]);
  }, 900_000);

  it('leaves the operator process running and serving other Runners: the canary runs on a rollout', async () => {
    expect(operator?.exited).toBeUndefined();
    await rollOut(canaryNs, 'shop', 'v2');
    await waitFor('the canary to run for the rollout', async () => (await jobsOf(canaryNs, 'canary')).length === 2, 90_000);
    const canary = await waitForRunner(canaryNs, 'canary', 'second run Succeeded', (r) => r.status?.state === 'Succeeded' && r.status.lastRun?.trigger.includes('rollout') === true);
    expect(canary.status?.lastRun?.result).toBe('Succeeded');
    expect(operator?.exited, `operator exited; last lines:\n${operator?.lastLines.join('\n')}`).toBeUndefined();
    const total = Object.values(tally).reduce((a, b) => a + b, 0);
    const table = Object.entries(tally).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `  ${k}: ${v}`).join('\n');
    console.log(`bad input: ${total} cases (seed ${SEED}); outcomes:\n${table}\noperator log lines by level: ${JSON.stringify(operator?.linesByLevel)}; operator process still running`);
    if (operator?.errorLines.length) console.log(`bad input: the operator's error lines:\n${operator.errorLines.join('\n')}`);
  }, 180_000);

  it('serves the canary after a restart with every admitted case still stored', async () => {
    await operator?.stop();
    operator = await startObservedOperator();
    await rollOut(canaryNs, 'shop', 'v3');
    await waitFor('the canary to run for the rollout after the restart', async () => (await jobsOf(canaryNs, 'canary')).length === 3, 90_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; the operator's last log lines:\n${operator?.lastLines.join('\n')}`);
    });
    expect(operator?.exited).toBeUndefined();
  }, 180_000);
});

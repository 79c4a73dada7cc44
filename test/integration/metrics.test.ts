// The operator's /metrics, scraped from the running process and read by the parser Prometheus
// itself uses (github.com/prometheus/common/expfmt, built by test/tools/build.sh expfmt): it is
// valid exposition, has the Node.js and process metrics, and a run moves the run counters, the
// latency histogram and the Runners-by-state gauge.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../support/tools.ts';
import { createDeployment, createNamespace, createRunner, deleteNamespace, ENABLE, installCrd, runnerManifest, waitForRunner } from './support/kube.ts';
import { startOperatorProcess, type OperatorProcess } from './support/operator-process.ts';

interface Sample { labels: Record<string, string>; value?: number; count?: number; buckets?: Record<string, number> }
interface Family { name: string; type: string; help: string; samples: Sample[] }

let ns: string;
let operator: OperatorProcess;
let port: number;

async function scrape(): Promise<Map<string, Family>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const families = JSON.parse(runTool('expfmt', [], text)) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

const sampleOf = (families: Map<string, Family>, name: string, labels: Record<string, string>): Sample | undefined =>
  families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const valueOf = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) => sampleOf(families, name, labels)?.value ?? 0;

beforeAll(async () => {
  await installCrd();
  ns = await createNamespace('metrics');
  port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const p = (server.address() as { port: number }).port;
      server.close(() => resolve(p));
    });
  });
  operator = await startOperatorProcess({ HESTIA_METRICS_PORT: String(port) });
  await operator.ready();
});

afterAll(async () => {
  await operator?.kill();
  if (ns) await deleteNamespace(ns);
});

describe('/metrics', () => {
  it('is valid Prometheus exposition, and a run moves its counters', async () => {
    const before = await scrape();
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(before.has(name), name).toBe(true);
    }
    expect(valueOf(before, 'hestia_ready')).toBe(1);
    expect(valueOf(before, 'hestia_leader')).toBe(1);

    await createDeployment(ns, 'app', { app: `metrics-${ns}`, ...ENABLE }, 0);
    await createRunner(runnerManifest(ns, 'counted', { workloadSelector: { matchLabels: { app: `metrics-${ns}` } } }));
    await waitForRunner(ns, 'counted', 'Succeeded', (r) => r.status?.state === 'Succeeded');

    const after = await scrape();
    // (A family with no sample yet is not in the parser's output: its type is checked once it has one.)
    expect(after.get('hestia_runs_started_total')?.type).toBe('COUNTER');
    expect(after.get('hestia_trigger_latency_seconds')?.type).toBe('HISTOGRAM');
    expect(after.get('hestia_runners')?.type).toBe('GAUGE');
    expect(valueOf(after, 'hestia_runs_started_total', { namespace: ns, reason: 'Revision' })).toBe(1);
    expect(valueOf(after, 'hestia_runs_finished_total', { namespace: ns, reason: 'Revision', result: 'Succeeded', flaky: 'false', advisory: 'false' })).toBe(1);
    const latencyBefore = sampleOf(before, 'hestia_trigger_latency_seconds', { reason: 'Revision' })?.count ?? 0;
    expect(sampleOf(after, 'hestia_trigger_latency_seconds', { reason: 'Revision' })?.count).toBe(latencyBefore + 1);
    expect(valueOf(after, 'hestia_runners', { state: 'Succeeded' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'hestia_status_writes_total')).toBeGreaterThan(valueOf(before, 'hestia_status_writes_total'));
    expect(sampleOf(after, 'hestia_watch_lists_total', { kind: 'Runner' })?.value).toBeGreaterThanOrEqual(1);
  });
});

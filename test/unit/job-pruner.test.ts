// The history limits' deletes: gathered per namespace into one deletecollection whose selector names each Job,
// by name for a Job without the label, and one by one where deletecollection is refused. The API server's side
// (the selector as it parses it, the shipped RBAC) is tested on the control plane: test/integration/job-history-batch.test.ts.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KubeClient, Query } from '../../src/k8s/client.ts';
import { WriteQueue } from '../../src/k8s/write-queue.ts';
import { batches, batchSelector, JobPruner, jobToDelete, NAMES_PER_REQUEST } from '../../src/operator/job-pruner.ts';

interface Sent {
  path: string;
  query: Query | undefined;
}

function harness(answer: (sent: Sent) => unknown = () => ({})) {
  const sent: Sent[] = [];
  const client = {
    send: async (_method: string, path: string, args: { query?: Query } = {}) => {
      const request = { path, query: args.query };
      sent.push(request);
      const result = answer(request);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as KubeClient;
  const log = pino({ level: 'silent' });
  const pruner = new JobPruner({ client, queue: new WriteQueue(log), log, windowMs: 60_000 });
  return { sent, pruner };
}

const refused = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });
const labelled = (namespace: string, name: string) => ({ namespace, name, labelled: true });

afterEach(() => {
  vi.useRealTimers();
});

describe('JobPruner', () => {
  it('sends the names of one namespace in one deletecollection, each namespace apart, each name once', async () => {
    const h = harness();
    for (const name of ['b', 'a', 'c', 'a']) await h.pruner.delete(labelled('qa', name));
    await h.pruner.delete(labelled('shop', 'x'));
    await h.pruner.delete(labelled('shop', 'y'));
    expect(h.sent).toEqual([]);
    await h.pruner.drain(1000);
    expect(h.sent).toEqual([
      { path: '/apis/batch/v1/namespaces/qa/jobs', query: { labelSelector: 'runner.stakater.com/job in (a,b,c)', propagationPolicy: 'Background' } },
      { path: '/apis/batch/v1/namespaces/shop/jobs', query: { labelSelector: 'runner.stakater.com/job in (x,y)', propagationPolicy: 'Background' } },
    ]);
  });

  it('deletes a lone Job by name, and a Job without the label at once, by name', async () => {
    const h = harness();
    await h.pruner.delete({ namespace: 'qa', name: 'old-job', labelled: false });
    expect(h.sent).toEqual([{ path: '/apis/batch/v1/namespaces/qa/jobs/old-job', query: { propagationPolicy: 'Background' } }]);
    await h.pruner.delete(labelled('qa', 'only'));
    await h.pruner.drain(1000);
    expect(h.sent.at(-1)).toEqual({ path: '/apis/batch/v1/namespaces/qa/jobs/only', query: { propagationPolicy: 'Background' } });
  });

  it('deletes one by one, from then on, in a namespace where deletecollection is refused', async () => {
    const h = harness((s) => (s.query?.labelSelector ? refused(403) : {}));
    await h.pruner.delete(labelled('qa', 'a'));
    await h.pruner.delete(labelled('qa', 'b'));
    await h.pruner.flush('qa');
    expect(h.sent.map((s) => s.path)).toEqual(['/apis/batch/v1/namespaces/qa/jobs', '/apis/batch/v1/namespaces/qa/jobs/a', '/apis/batch/v1/namespaces/qa/jobs/b']);
    await h.pruner.delete(labelled('qa', 'c'));
    expect(h.sent.at(-1)?.path).toBe('/apis/batch/v1/namespaces/qa/jobs/c');
  });

  it('after a batch fails, deletes its Jobs one by one (a 404: already gone), and batches again next time', async () => {
    const h = harness((s) => (s.query?.labelSelector ? refused(500) : s.path.endsWith('/a') ? refused(404) : {}));
    await h.pruner.delete(labelled('qa', 'a'));
    await h.pruner.delete(labelled('qa', 'b'));
    await h.pruner.flush('qa');
    expect(h.sent.map((s) => s.path)).toEqual(['/apis/batch/v1/namespaces/qa/jobs', '/apis/batch/v1/namespaces/qa/jobs/a', '/apis/batch/v1/namespaces/qa/jobs/b']);
    // The 500 was that request's: the next batch is sent as a batch again.
    await h.pruner.delete(labelled('qa', 'c'));
    await h.pruner.delete(labelled('qa', 'd'));
    await h.pruner.flush('qa');
    expect(h.sent.at(-3)?.query?.labelSelector).toBe('runner.stakater.com/job in (c,d)');
  });

  it('sends a Job whose delete is unanswered once, however often it is asked for meanwhile', async () => {
    let answer: () => void = () => {};
    const h = harness(() => new Promise<void>((resolve) => (answer = resolve)));
    h.pruner.delete({ namespace: 'qa', name: 'old', labelled: false });
    h.pruner.delete({ namespace: 'qa', name: 'old', labelled: false });
    h.pruner.delete(labelled('qa', 'old'));
    await h.pruner.flush('qa');
    expect(h.sent).toHaveLength(1);
    answer();
    // Answered, it may be asked for again (a Job the API server had not yet deleted).
    await vi.waitFor(() => {
      h.pruner.delete({ namespace: 'qa', name: 'old', labelled: false });
      expect(h.sent).toHaveLength(2);
    });
  });

  it('sends the batch of a namespace when its window closes, counted from its first name', async () => {
    vi.useFakeTimers();
    const h = harness();
    h.pruner.delete(labelled('qa', 'a'));
    await vi.advanceTimersByTimeAsync(59_000);
    h.pruner.delete(labelled('qa', 'b'));
    expect(h.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.sent.map((s) => s.query?.labelSelector)).toEqual(['runner.stakater.com/job in (a,b)']);
  });

  it('at a drain, sends what it gathered, waits for deletes still unanswered, and then takes no more', async () => {
    const answers: (() => void)[] = [];
    const h = harness(() => new Promise<void>((resolve) => answers.push(resolve)));
    h.pruner.delete({ namespace: 'qa', name: 'by-name', labelled: false });
    h.pruner.delete(labelled('shop', 'x'));
    h.pruner.delete(labelled('shop', 'y'));
    let drained = false;
    const drain = h.pruner.drain(60_000).then(() => (drained = true));
    await vi.waitFor(() => expect(h.sent).toHaveLength(2));
    answers[0]!();
    await Promise.resolve();
    expect(drained).toBe(false);
    answers[1]!();
    await drain;
    h.pruner.delete(labelled('qa', 'late'));
    h.pruner.delete({ namespace: 'qa', name: 'late-too', labelled: false });
    await h.pruner.flush('qa');
    expect(h.sent).toHaveLength(2);
  });

  it('splits a long batch so that no selector names more than NAMES_PER_REQUEST Jobs', () => {
    const names = Array.from({ length: NAMES_PER_REQUEST * 2 + 1 }, (_, i) => `job-${i}`);
    expect(batches(names).map((b) => b.length)).toEqual([NAMES_PER_REQUEST, NAMES_PER_REQUEST, 1]);
    expect(batchSelector(['z', 'a'])).toBe('runner.stakater.com/job in (a,z)');
  });

  it('counts a Job as labelled only when the label holds its own name', () => {
    const job = (labels: Record<string, string>) => ({ metadata: { namespace: 'qa', name: 'smoke-1', labels } });
    expect(jobToDelete(job({ 'runner.stakater.com/job': 'smoke-1' })).labelled).toBe(true);
    expect(jobToDelete(job({ 'runner.stakater.com/job': 'other' })).labelled).toBe(false);
    expect(jobToDelete(job({})).labelled).toBe(false);
  });
});

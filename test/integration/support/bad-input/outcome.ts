// How one bad-input case ended, against the real API server and the running operator. SPEC §6 allows three
// endings: refused at admission (saying what is wrong), reported as Stalled/InvalidSpec naming the field, or correct
// behaviour; anything else is a `wrong` ending, which fails the suite with the reason.
import { request, type RequestOptions } from 'node:https';
import { ApiException } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type Runner } from '../../../../src/api/runner.ts';
import { validateRunnerSpec } from '../../../../src/runner/spec/spec.ts';
import { batch, custom, getRunner, kc, waitFor } from '../kube.ts';

export type Outcome =
  | { kind: 'refused'; code: number; message: string }
  | { kind: 'invalidSpec'; message: string }
  | { kind: 'accepted'; state: string }
  /** Admitted, but the Job API refused the pod template: the run failed, and the status says why (a known gap). */
  | { kind: 'jobRefused'; message: string }
  | { kind: 'wrong'; why: string };

/** What a refusal must say: a field of the object (`spec.x`, `metadata.x`, `.x` in a CEL message), or its size. */
const NAMES_A_FIELD = /(^|[\s[(:"])(spec|metadata|\.[a-zA-Z]+)[.[:\]]|\bspec\b|too large|too long|exceeds/i;

const FIELD_VALIDATION_WARN = undefined; // what programmatic clients send: unknown fields are dropped, not refused

/**
 * Creates a Runner from a manifest, or from JSON text for values too deep for this process's own JSON.stringify
 * (the API server decodes JSON up to 10,000 levels deep; V8 serialises about 4,000).
 */
export async function createCase(namespace: string, manifest: object | string): Promise<{ created?: Runner; refusal?: { code: number; message: string } }> {
  if (typeof manifest === 'string') return createFromText(namespace, manifest);
  try {
    const created = (await custom.createNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace, plural: PLURAL, body: manifest, fieldValidation: FIELD_VALIDATION_WARN,
    })) as Runner;
    return { created };
  } catch (error) {
    if (!(error instanceof ApiException)) return { refusal: { code: 0, message: `client error: ${String(error)}` } };
    return { refusal: { code: error.code, message: statusMessage(error.body) } };
  }
}

async function createFromText(namespace: string, text: string): Promise<{ created?: Runner; refusal?: { code: number; message: string } }> {
  const server = new URL(kc.getCurrentCluster()!.server);
  const options: RequestOptions = {
    method: 'POST',
    hostname: server.hostname,
    port: server.port,
    path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
  };
  await kc.applyToHTTPSOptions(options);
  const { code, body } = await new Promise<{ code: number; body: string }>((resolve, reject) => {
    const req = request(options, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (data += chunk)).on('end', () => resolve({ code: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject).end(text);
  });
  if (code >= 200 && code < 300) return { created: JSON.parse(body) as Runner };
  return { refusal: { code, message: statusMessage(body) } };
}

function statusMessage(body: unknown): string {
  try {
    const status = typeof body === 'string' ? JSON.parse(body) : body;
    return typeof status?.message === 'string' ? status.message : String(body);
  } catch {
    return String(body);
  }
}

const SETTLE_MS = 60_000;
const stalledOf = (r: Runner) => r.status?.conditions?.find((c) => c.type === 'Stalled');
const current = (r: Runner) => r.status?.observedGeneration === r.metadata.generation && !!r.status?.state;

/**
 * Applies one case and waits for its ending. An admitted Runner's stored spec (after the API server dropped
 * unknown fields) is judged by the operator's own rules: with problems, it must end Stalled/InvalidSpec naming
 * the first problem's field; without, in a state of the machine other than Invalid, having created any Job it
 * started in its own namespace.
 */
export async function outcomeOf(namespace: string, manifest: object | string): Promise<Outcome> {
  const { created, refusal } = await createCase(namespace, manifest);
  if (refusal) {
    if (refusal.code < 400 || refusal.code >= 500) return { kind: 'wrong', why: `the API server answered ${refusal.code}: ${refusal.message.slice(0, 300)}` };
    if (!NAMES_A_FIELD.test(refusal.message)) return { kind: 'wrong', why: `refused without naming a field: ${refusal.message.slice(0, 300)}` };
    return { kind: 'refused', ...refusal };
  }
  const name = created!.metadata.name!;
  const problems = validateRunnerSpec(created!.spec);
  let settled: Runner;
  try {
    settled = await waitFor(`Runner ${name} to be acted on`, async () => {
      const r = await getRunner(namespace, name);
      return current(r) && (problems.length > 0) === (r.status?.state === 'Invalid') ? r : undefined;
    }, SETTLE_MS);
  } catch {
    const last = await getRunner(namespace, name).catch(() => undefined);
    return { kind: 'wrong', why: `not acted on within ${SETTLE_MS} ms (expected ${problems.length ? 'Invalid' : 'a valid state'}); status: ${statusText(last)}` };
  }
  if (problems.length > 0) {
    const stalled = stalledOf(settled);
    const field = problems[0]!.field;
    if (stalled?.status !== 'True' || stalled.reason !== 'InvalidSpec') return { kind: 'wrong', why: `Invalid but not Stalled/InvalidSpec: ${statusText(settled)}` };
    if (!stalled.message.includes(field)) return { kind: 'wrong', why: `InvalidSpec message does not name ${field}: ${stalled.message.slice(0, 300)}` };
    return { kind: 'invalidSpec', message: stalled.message };
  }
  return acceptedOutcome(namespace, settled);
}

/** A valid Runner that started a run must have its Job, in its own namespace; the API server must not have refused it. */
async function acceptedOutcome(namespace: string, runner: Runner): Promise<Outcome> {
  const state = runner.status!.state!;
  const reconciled = runner.status?.conditions?.find((c) => c.type === 'ReconcileSuccess');
  if (reconciled?.status !== 'True') return { kind: 'wrong', why: `ReconcileSuccess is not True: ${statusText(runner)}` };
  const jobName = runner.status?.lastRun?.jobName;
  const stalled = stalledOf(runner)?.status === 'True';
  if (runner.spec.suspend === true && (jobName || !['Suspended', 'Stalled'].includes(state))) {
    return { kind: 'wrong', why: `suspended, yet ${jobName ? `ran Job ${jobName}` : `in state ${state}`}` };
  }
  if (runner.spec.schedule && !runner.spec.suspend && !stalled && !runner.status?.nextScheduleTime) {
    return { kind: 'wrong', why: `scheduled, but no nextScheduleTime: ${statusText(runner)}` };
  }
  const shown = stalled ? `${state}/${stalledOf(runner)!.reason}` : state;
  if (!jobName) return { kind: 'accepted', state: shown };
  const ending = await waitFor(`Job ${jobName}, or word that it could not be created`, async () => {
    const r = await getRunner(namespace, runner.metadata.name!);
    if (r.status?.lastRun?.message?.startsWith('could not create Job')) return { refusedBy: r };
    const job = await batch.readNamespacedJob({ namespace, name: jobName }).catch(() => undefined);
    return job?.metadata?.ownerReferences?.some((o) => o.uid === runner.metadata.uid && o.controller) ? { refusedBy: null } : undefined;
  }, SETTLE_MS).catch(() => undefined);
  if (!ending) {
    const last = await getRunner(namespace, runner.metadata.name!).catch(() => undefined);
    if (last && jobRemovedAfterItEnded(last, Date.now())) return { kind: 'accepted', state: `${shown}, its Job removed once ended` };
    return { kind: 'wrong', why: `its Job ${jobName} never appeared (state ${state}): ${statusText(last)}` };
  }
  return ending.refusedBy ? jobRefusedOutcome(namespace, ending.refusedBy) : { kind: 'accepted', state: shown };
}

/**
 * A run's Job may be gone by the time it is looked for, rightly: the operator saw it end (lastRun has its completion
 * time and result) and then the TTL controller deleted it (ttlSecondsAfterFinished elapsed, e.g. 0 with a
 * deadlineSeconds of 0 that ends it at once), or the history limit for its result keeps none.
 */
function jobRemovedAfterItEnded(runner: Runner, now: number): boolean {
  const run = runner.status?.lastRun;
  if (!run?.completionTime || !run.result) return false;
  const ttl = runner.spec.ttlSecondsAfterFinished;
  const ttlElapsed = ttl !== undefined && Date.parse(run.completionTime) + ttl * 1000 <= now;
  const limit = run.result === 'Succeeded' ? runner.spec.successfulRunsHistoryLimit : runner.spec.failedRunsHistoryLimit;
  return ttlElapsed || limit === 0;
}

/**
 * The Job API checks the values of a pod template in full (env names, port ranges, ...), which neither the CRD nor
 * the operator does: such a run fails at once. It must say so where users look: state Failed, JobCompleted
 * False/Failed, and the API server's message, which names the field under spec.template.
 */
async function jobRefusedOutcome(namespace: string, runner: Runner): Promise<Outcome> {
  const settled = await waitFor('the refused run to be reported', async () => {
    const r = await getRunner(namespace, runner.metadata.name!);
    const completed = r.status?.conditions?.find((c) => c.type === 'JobCompleted');
    return r.status?.state === 'Failed' && completed?.status === 'False' && completed.reason === 'Failed' ? r : undefined;
  }, SETTLE_MS).catch(() => undefined);
  const message = settled?.status?.lastRun?.message ?? '';
  if (!settled) return { kind: 'wrong', why: `its Job was refused, but it is not Failed with JobCompleted False/Failed: ${statusText(runner)}` };
  if (!/spec\.template\b/.test(message)) return { kind: 'wrong', why: `its Job was refused without naming a field: ${message.slice(0, 400)}` };
  return { kind: 'jobRefused', message };
}

function statusText(runner: Runner | undefined): string {
  if (!runner) return 'the Runner is gone';
  const { snapshot: _snapshot, conditions, ...status } = runner.status ?? {};
  const stalled = conditions?.find((c) => c.type === 'Stalled');
  return JSON.stringify({ generation: runner.metadata.generation, stalled, ...status }).slice(0, 1200);
}

/** The row of the per-outcome table a case counts in. */
export function outcomeKey(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'refused':
      if (outcome.code === 413) return 'refused at admission: request too large';
      return /\bmetadata\./.test(outcome.message) ? 'refused at admission: name or labels' : 'refused at admission: CRD schema or CEL rule';
    case 'invalidSpec':
      return 'Stalled/InvalidSpec';
    case 'accepted':
      return `correct behaviour: ${outcome.state}`;
    case 'jobRefused':
      return 'correct behaviour: run Failed, the API server refused its Job';
    case 'wrong':
      return 'WRONG';
  }
}

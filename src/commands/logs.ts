// `hestia logs RUNNER`: the logs of a run's pods, read with the user's own kubeconfig (pods list, pods/log get).
// What to read and how to label it is decided in run-logs.ts; this file fetches and streams.
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { Log, type CoreV1Event, type V1Job, type V1Pod } from '@kubernetes/client-node';
import type { Runner } from '../api/runner.ts';
import { apiErrorText, connect, UsageError, type Connection, type ConnectionFlags } from './kube.ts';
import { jobPodsSelector } from '../runner/job.ts';
import { runHistory } from './run-history.ts';
import {
  containerEnded, containerStarted, containerState, containersToShow, explainMissing, explainNoPods, followsSection, needsHeaders,
  refusal, sectionHeader, sectionsOf, selectJob, wholeNumber, type LogTarget, type Section,
} from './run-logs.ts';
import { EXIT } from './wait-verdict.ts';

export interface LogsFlags extends ConnectionFlags {
  run?: string | undefined;
  job?: string | undefined;
  container?: string | undefined;
  tail?: string | undefined;
  follow: boolean;
}

/** How often a followed pod is read, to notice it ended. */
const POLL_MS = 1000;
/** How long a stream may stay open after its container ended: the kubelet closes it itself, some servers never do. */
const DRAIN_MS = 2000;

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codeOf = (err: unknown): number | undefined => (err as { code?: number }).code;

export function targetFrom(flags: Pick<LogsFlags, 'run' | 'job'>): LogTarget {
  if (flags.run !== undefined && flags.job !== undefined) throw new UsageError('hestia logs: pass --run or --job, not both');
  if (flags.job !== undefined) return { kind: 'job', name: flags.job };
  if (flags.run === undefined) return { kind: 'latest' };
  const n = wholeNumber(flags.run);
  if (n === null || n < 1) throw new UsageError(`hestia logs: --run takes a run number (1, 2, …; see kubectl hestia runs), got "${flags.run}"`);
  return { kind: 'run', n };
}

function tailFrom(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = wholeNumber(text);
  if (n === null) throw new UsageError(`hestia logs: --tail takes a number of lines, got "${text}"`);
  return n;
}

/** Writes sections to stdout, each header on a line of its own after a blank line. */
class Output {
  private atLineStart = true;
  private sections = 0;
  write(text: string | Buffer): void {
    if (text.length === 0) return;
    process.stdout.write(text);
    this.atLineStart = text.at(-1) === '\n' || text.at(-1) === 10;
  }
  header(line: string): void {
    this.write(`${this.atLineStart ? '' : '\n'}${this.sections++ > 0 ? '\n' : ''}${line}\n`);
  }
  end(): void {
    if (!this.atLineStart) this.write('\n');
  }
}

export async function logsCommand(flags: LogsFlags, name: string): Promise<number> {
  // `hestia logs R | head`: the reader has gone, as with kubectl logs; that is no error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const target = targetFrom(flags);
  const tail = tailFrom(flags.tail);
  const conn = connect(flags);
  const id = `Runner ${conn.namespace}/${name}`;
  const runner = await conn.getRunner(name).catch((err: unknown) => {
    throw new Error(apiErrorText(err, id));
  });
  const jobs = await conn.jobsOf(runner).catch((err: unknown) => {
    throw new Error(codeOf(err) === 403 ? refusal({ verb: 'list', resource: 'jobs', of: id }, conn.namespace) : apiErrorText(err, `the Jobs of ${id}`));
  });

  const selection = selectJob(runner, jobs, target);
  if (selection.kind === 'none') {
    process.stderr.write(`hestia logs: ${selection.message}\n`);
    return EXIT.error;
  }
  if (selection.kind === 'missing') {
    const { code, text } = explainMissing(runner, selection, runHistory(runner, jobs, await eventsOf(conn, runner)));
    process.stderr.write(text);
    return code;
  }
  const job = selection.job;
  const shown = containersToShow(job, flags.container);
  if (!shown.ok) throw new UsageError(`hestia logs: ${shown.message}`);

  let pods = await podsOf(conn, job);
  if (pods.length === 0 && flags.follow) pods = await firstPodOf(conn, job);
  if (pods.length === 0) {
    const entry = runHistory(runner, jobs, await eventsOf(conn, runner)).find((e) => e.job === job.metadata!.name);
    process.stderr.write(explainNoPods(runner, job, entry));
    return 1;
  }

  const sections = sectionsOf(pods, shown.containers);
  const headers = needsHeaders(sections);
  const out = new Output();
  let read = 0;
  for (const section of sections) {
    if (headers) out.header(sectionHeader(section));
    const ok = flags.follow && followsSection(section) ? await followLog(conn, section, tail, out) : await printLog(conn, section, tail, out);
    if (ok) read++;
  }
  out.end();
  return read > 0 ? 0 : 1;
}

/** The Runner's Events, for the run history; without the right to read them, the status and Jobs still tell. */
const eventsOf = (conn: Connection, runner: Runner): Promise<CoreV1Event[]> =>
  conn.core
    .listNamespacedEvent({ namespace: conn.namespace, fieldSelector: `involvedObject.uid=${runner.metadata.uid}` })
    .then((l) => l.items)
    .catch(() => []);

async function podsOf(conn: Connection, job: V1Job): Promise<V1Pod[]> {
  const list = await conn.core.listNamespacedPod({ namespace: conn.namespace, labelSelector: jobPodsSelector(job) }).catch((err: unknown) => {
    throw new Error(codeOf(err) === 403 ? refusal({ verb: 'list', resource: 'pods', of: `Job ${conn.namespace}/${job.metadata!.name}` }, conn.namespace) : apiErrorText(err, `the pods of Job ${conn.namespace}/${job.metadata!.name}`));
  });
  return list.items;
}

const jobFinished = (job: V1Job) => (job.status?.conditions ?? []).some((c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'));

/** With -f on a Job that has no pod yet: waits for its first pod, or for the Job to end without one. */
async function firstPodOf(conn: Connection, job: V1Job): Promise<V1Pod[]> {
  const name = job.metadata!.name!;
  process.stderr.write(`waiting for Job ${name} to start a pod\n`);
  for (let current = job; !jobFinished(current); ) {
    await delay(POLL_MS);
    const pods = await podsOf(conn, current);
    if (pods.length > 0) return pods;
    const read = await conn.batch.readNamespacedJob({ namespace: conn.namespace, name }).catch((err: unknown) => (codeOf(err) === 404 ? undefined : Promise.reject(err)));
    if (!read) return [];
    current = read;
  }
  return podsOf(conn, job);
}

/** What a failed log read means for this section: a 403 ends the command, anything else is noted and skipped. */
function logError(err: unknown, s: Section): false {
  const pod = s.pod.metadata!.name!;
  const namespace = s.pod.metadata!.namespace!;
  const code = codeOf(err);
  if (code === 403) throw new Error(refusal({ verb: 'get', resource: 'pods/log', pod }, namespace));
  const why = code === 404 ? 'the pod is gone' : code === 400 ? `no log yet: ${containerState(s.pod, s.container)}` : apiErrorText(err, `the log of pod ${namespace}/${pod}`);
  process.stderr.write(`hestia logs: pod ${pod}, container ${s.container}: ${why}\n`);
  return false;
}

async function printLog(conn: Connection, s: Section, tail: number | undefined, out: Output): Promise<boolean> {
  try {
    const text = await conn.core.readNamespacedPodLog({ namespace: s.pod.metadata!.namespace!, name: s.pod.metadata!.name!, container: s.container, ...(tail === undefined ? {} : { tailLines: tail }) });
    out.write(text);
    return true;
  } catch (err) {
    return logError(err, s);
  }
}

/**
 * Streams a running container's log (follow=true) until the container ends. A container not started yet has no
 * log: it is waited for. The pod is read while streaming, so a stream the server keeps open past the
 * container's end is closed.
 */
async function followLog(conn: Connection, s: Section, tail: number | undefined, out: Output): Promise<boolean> {
  const namespace = s.pod.metadata!.namespace!;
  const name = s.pod.metadata!.name!;
  const readPod = () => conn.core.readNamespacedPod({ namespace, name }).catch(() => undefined);
  let pod: V1Pod | undefined = s.pod;
  if (!containerStarted(pod, s.container)) process.stderr.write(`waiting for container ${s.container} of pod ${name} to start\n`);
  while (pod && !containerStarted(pod, s.container) && !containerEnded(pod, s.container)) {
    await delay(POLL_MS);
    pod = await readPod();
  }
  if (!pod) return logError({ code: 404 }, s);

  const sink = new PassThrough();
  let stopping = false;
  let failure: unknown;
  // The Log class pipes the response into sink; an aborted or broken response errors that source stream.
  sink.on('pipe', (source: Readable) =>
    source.on('error', (err) => {
      if (!stopping) failure = err;
      sink.end();
    }),
  );
  sink.on('data', (chunk: Buffer) => out.write(chunk));
  const ended = once(sink, 'end');
  // --tail=0 with -f: only what comes from now on (tailLines=0 would be dropped as unset).
  const options = { follow: true, ...(tail === undefined ? {} : tail === 0 ? { sinceTime: new Date().toISOString() } : { tailLines: tail }) };
  let controller: AbortController;
  try {
    controller = await new Log(conn.kc).log(namespace, name, s.container, sink, options);
  } catch (err) {
    return logError(err, s);
  }
  let done = false;
  const watch = (async () => {
    while (!done) {
      await delay(POLL_MS);
      const now = await readPod();
      if (done) return;
      if (!now || containerEnded(now, s.container)) {
        await delay(DRAIN_MS);
        stopping = true;
        controller.abort();
        sink.end();
        return;
      }
    }
  })();
  await ended;
  done = true;
  await watch;
  if (failure !== undefined) return logError(failure, s);
  return true;
}

// `hestia ui`'s HTTP server: it binds 127.0.0.1 only, lets every request through the gate (src/ui/security.ts) before
// any route, and serves the page's static files, its JSON (src/ui/views.ts), the live feed (src/ui/feed.ts) and the one
// write, Trigger. The cluster is behind one interface (UiSource): the user's kubeconfig in use, a stub in the tests.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig, V1Job } from '@kubernetes/client-node';
import { ANNOTATION_TRIGGER, type Runner } from '../api/runner.ts';
import { connectWith, loadKubeConfig } from '../commands/kube.ts';
import { containersToShow, containerState, refusal, sectionsOf } from '../commands/run-logs.ts';
import { newTriggerValue } from '../commands/wait.ts';
import { clusterSource } from './cluster-source.ts';
import { machineDiagrams, type DiagramRenderer } from './diagram.ts';
import { Feed } from './feed.ts';
import { CSRF_HEADER, gate, newSecret, SECURITY_HEADERS, sessionCookie, type Secrets } from './security.ts';
import { scopeWords, type Scope, type UiSource } from './source.ts';
import { LOG_TAIL_LINES, logsSelection, logsView, noPodsView, readRefusal, runnerDetail, runnerRows, triggerRefusal } from './views.ts';

/** The page's files, served from src/ui/static/ by these paths and no others. */
const STATIC_FILES = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  '/list.js': { file: 'list.js', type: 'text/javascript; charset=utf-8' },
  '/runner.js': { file: 'runner.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/icon.svg': { file: 'icon.svg', type: 'image/svg+xml' },
  '/favicon.ico': { file: 'icon.svg', type: 'image/svg+xml' },
} as const;
type StaticPath = keyof typeof STATIC_FILES;

export type Route =
  | { kind: 'static'; path: StaticPath }
  | { kind: 'list' }
  | { kind: 'events' }
  | { kind: 'runner' | 'diagram' | 'trigger'; namespace: string; name: string }
  | { kind: 'logs'; namespace: string; name: string; job: string | null }
  | { kind: 'method'; allowed: string }
  | { kind: 'not-found' };

/** A Kubernetes object name (DNS subdomain) or namespace: nothing else can name a Runner or a Job. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function decoded(segment: string): string | null {
  try {
    const text = decodeURIComponent(segment);
    return OBJECT_NAME.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** Which route a request means; pure. */
export function route(method: string, url: URL): Route {
  const read = method === 'GET' || method === 'HEAD';
  if (Object.hasOwn(STATIC_FILES, url.pathname)) return read ? { kind: 'static', path: url.pathname as StaticPath } : { kind: 'method', allowed: 'GET, HEAD' };
  if (url.pathname === '/api/runners') return read ? { kind: 'list' } : { kind: 'method', allowed: 'GET, HEAD' };
  if (url.pathname === '/api/events') return method === 'GET' ? { kind: 'events' } : { kind: 'method', allowed: 'GET' };
  const m = /^\/api\/runners\/([^/]+)\/([^/]+)(?:\/(diagram\.svg|logs|trigger))?$/.exec(url.pathname);
  if (!m) return { kind: 'not-found' };
  const namespace = decoded(m[1]!);
  const name = decoded(m[2]!);
  if (namespace === null || name === null) return { kind: 'not-found' };
  const sub = m[3];
  if (sub === 'trigger') return method === 'POST' ? { kind: 'trigger', namespace, name } : { kind: 'method', allowed: 'POST' };
  if (!read) return { kind: 'method', allowed: 'GET, HEAD' };
  if (sub === 'diagram.svg') return { kind: 'diagram', namespace, name };
  if (sub === 'logs') {
    const job = url.searchParams.get('job');
    if (job !== null && job !== '' && !OBJECT_NAME.test(job)) return { kind: 'not-found' };
    return { kind: 'logs', namespace, name, job: job || null };
  }
  return { kind: 'runner', namespace, name };
}

export interface UiDeps {
  source: UiSource;
  diagrams: DiagramRenderer;
  secrets: Secrets;
  /** The port the server listens on: the Host and Origin it accepts name it. */
  port: number;
  /** The page's static files, by name. */
  files: ReadonlyMap<string, Buffer>;
  /** The trigger annotation's next value (default: as `hestia trigger` makes it). */
  triggerValue?: () => string;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(body.endsWith('\n') ? body : `${body}\n`);
};

const UNAUTHORIZED = `Not signed in to this Hestia web view.

Open the URL that \`hestia ui\` printed when it started (http://127.0.0.1:PORT/?token=...): the token in it lets
this browser in, once, and is then kept in a cookie for this server only. Run \`hestia ui\` again for a new URL.
`;

/** The request handler: the gate first, then the route. */
export function uiHandler(deps: UiDeps): ((req: IncomingMessage, res: ServerResponse) => void) & { close(): void } {
  const feed = new Feed(deps.source);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    // No route reads a body; what a client sends is read and dropped, so the connection can be reused.
    req.resume();
    const decision = gate(
      { method: req.method ?? 'GET', url: req.url ?? '/', host: req.headers.host, cookie: req.headers.cookie, origin: req.headers.origin, csrf: headerValue(req.headers[CSRF_HEADER]) },
      deps.secrets,
      deps.port,
    );
    switch (decision.kind) {
      case 'bad-request':
        return text(res, 400, 'Bad request: the target must be a path.');
      case 'misdirected':
        return text(res, 421, `This server answers only to http://127.0.0.1:${deps.port} and http://localhost:${deps.port}.`);
      case 'unauthorized':
        return text(res, 401, UNAUTHORIZED);
      case 'forbidden':
        return text(res, 403, `Refused: ${decision.why}.`);
      case 'method':
        return text(res, 405, 'Method not allowed.', { allow: decision.allowed });
      case 'exchange':
        deps.secrets.tokenSpent = true;
        res.writeHead(303, { location: decision.location, 'set-cookie': sessionCookie(deps.port, deps.secrets.session), 'cache-control': 'no-store' });
        return res.end();
      case 'pass':
        break;
    }
    serve(deps, feed, req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: `the web view failed: ${err instanceof Error ? err.message : String(err)}` });
      else res.end();
    });
  };
  return Object.assign(handler, { close: () => feed.close() });
}

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

async function serve(deps: UiDeps, feed: Feed, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const r = route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://127.0.0.1'));
  switch (r.kind) {
    case 'not-found':
      return text(res, 404, 'Not found.');
    case 'method':
      return text(res, 405, 'Method not allowed.', { allow: r.allowed });
    case 'static': {
      const { file, type } = STATIC_FILES[r.path];
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
      return void res.end(deps.files.get(file));
    }
    case 'list':
      return json(res, 200, { scope: scopeWords(deps.source.scope), allNamespaces: !('namespace' in deps.source.scope), rows: runnerRows(deps.source.runners()), health: deps.source.health() });
    case 'events':
      return feed.attach(res);
  }
  const runner = deps.source.runner(r.namespace, r.name);
  if (!runner) return json(res, 404, { error: `Runner ${r.namespace}/${r.name} is not among the Runners this view watches (${scopeWords(deps.source.scope)})` });
  switch (r.kind) {
    case 'runner':
      return json(res, 200, { ...(await detailOf(deps.source, runner)), litKey: deps.diagrams.litKey(runner) });
    case 'diagram': {
      const svg = await deps.diagrams.svg(runner);
      res.writeHead(200, { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-store', 'x-hestia-lit-key': encodeURIComponent(deps.diagrams.litKey(runner)) });
      return void res.end(svg);
    }
    case 'logs':
      return logsOf(deps.source, runner, r.job, res);
    case 'trigger': {
      const value = (deps.triggerValue ?? newTriggerValue)();
      try {
        await deps.source.requestRun(runner, value);
      } catch (err) {
        const refused = triggerRefusal(runner, err);
        return json(res, refused.status, { error: refused.message, apiServer: refused.apiServer });
      }
      return json(res, 202, { runner: `${r.namespace}/${r.name}`, annotation: ANNOTATION_TRIGGER, trigger: value });
    }
  }
}

/** The Runner's page: Jobs and Events are extra detail; without the right to read them the status still tells. */
async function detailOf(source: UiSource, runner: Runner) {
  const problems: string[] = [];
  const id = `Runner ${runner.metadata.namespace}/${runner.metadata.name}`;
  const [jobs, events] = await Promise.all([
    source.jobsOf(runner).catch((err: unknown) => (problems.push(readRefusal(`the Jobs of ${id}`, err)), [])),
    source.eventsOf(runner).catch((err: unknown) => (problems.push(readRefusal(`the Events of ${id}`, err)), [])),
  ]);
  return runnerDetail(runner, jobs, events, problems);
}

/** A run's logs, as `hestia logs --job` reads them: every attempt's pod, every container of the template. */
async function logsOf(source: UiSource, runner: Runner, jobName: string | null, res: ServerResponse): Promise<void> {
  const namespace = runner.metadata.namespace!;
  const id = `Runner ${namespace}/${runner.metadata.name}`;
  let jobs: V1Job[];
  try {
    jobs = await source.jobsOf(runner);
  } catch (err) {
    return json(res, codeOf(err) === 403 ? 403 : 502, { error: codeOf(err) === 403 ? refusal({ verb: 'list', resource: 'jobs', of: id }, namespace) : readRefusal(`the Jobs of ${id}`, err) });
  }
  const events = await source.eventsOf(runner).catch(() => []);
  const selected = logsSelection(runner, jobs, events, jobName);
  if (selected.kind !== 'found') return json(res, 200, selected);
  const job = selected.job;
  const shown = containersToShow(job, undefined);
  const containers = shown.ok ? shown.containers : [];
  let pods;
  try {
    pods = await source.podsOf(job);
  } catch (err) {
    const of = `Job ${namespace}/${job.metadata!.name}`;
    return json(res, codeOf(err) === 403 ? 403 : 502, { error: codeOf(err) === 403 ? refusal({ verb: 'list', resource: 'pods', of }, namespace) : readRefusal(`the pods of ${of}`, err) });
  }
  if (pods.length === 0) return json(res, 200, noPodsView(runner, job, jobs, events));
  const sections = sectionsOf(pods, containers);
  const read = await Promise.all(
    sections.map((s) =>
      source.podLog(s.pod, s.container, LOG_TAIL_LINES).then(
        (log) => ({ text: log }),
        (err: unknown) => {
          const pod = s.pod.metadata!.name!;
          const code = codeOf(err);
          return {
            problem:
              code === 403
                ? refusal({ verb: 'get', resource: 'pods/log', pod }, namespace)
                : code === 404
                  ? 'the pod is gone'
                  : code === 400
                    ? `no log yet: ${containerState(s.pod, s.container)}`
                    : readRefusal(`the log of pod ${namespace}/${pod}`, err),
          };
        },
      ),
    ),
  );
  return json(res, 200, logsView(job, sections, read));
}

const codeOf = (err: unknown): number | undefined => {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
};

export async function readStaticFiles(): Promise<Map<string, Buffer>> {
  const dir = new URL('./static/', import.meta.url);
  const names = [...new Set(Object.values(STATIC_FILES).map((f) => f.file))];
  return new Map(await Promise.all(names.map(async (name) => [name, await readFile(new URL(name, dir))] as const)));
}

export interface UiOptions {
  /** A loaded kubeconfig; else `kubeconfig` (a file) and `context`, else KUBECONFIG or ~/.kube/config. */
  kubeConfig?: KubeConfig;
  kubeconfig?: string;
  context?: string;
  /** The namespace whose Runners are shown (default: the context's, else "default"); ignored with allNamespaces. */
  namespace?: string;
  allNamespaces?: boolean;
  /** 0 (the default): any free port. */
  port?: number;
  /** Instead of the cluster: for tests of the server. Left open by close(). */
  source?: UiSource;
  /** Instead of Graphviz: for tests of the server. */
  diagrams?: DiagramRenderer;
}

export interface RunningUi {
  /** The URL to open: it carries the token. */
  url: string;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  close(): Promise<void>;
}

/** Starts the web view: the watch of Runners, then the server on 127.0.0.1. */
export async function startUi(options: UiOptions = {}): Promise<RunningUi> {
  const files = await readStaticFiles();
  let source = options.source;
  let ownSource = false;
  if (!source) {
    const conn = connectWith(options.kubeConfig ?? loadKubeConfig(options), options.namespace);
    const scope: Scope = options.allNamespaces ? { allNamespaces: true } : { namespace: conn.namespace };
    source = await clusterSource(conn, scope);
    ownSource = true;
  }
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    if (ownSource) await source.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const secrets = { token: newSecret(), session: newSecret() };
  const handler = uiHandler({ source, diagrams: options.diagrams ?? machineDiagrams(), secrets, port, files });
  server.on('request', handler);
  const origin = `http://127.0.0.1:${port}`;
  const src = source;
  return {
    url: `${origin}/?token=${secrets.token}`,
    origin,
    async close() {
      handler.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownSource) await src.close();
    },
  };
}

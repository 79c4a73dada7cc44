// The processes a benchmark measures — the operator as users run it (`node src/main.ts`) and the
// floor — and what is read off them: readiness, resident memory and CPU time from /proc, and the
// heap in use after a full collection through the Node inspector (so the operator itself runs
// exactly as shipped, with its own defaults).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import WebSocket from 'ws';

export interface Measured {
  proc: ChildProcess;
  healthPort: number;
  inspectorUrl: Promise<string>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts `node <script>` with the inspector on a free port; stderr is passed on, minus the inspector's banner. */
export async function startNode(script: string, env: NodeJS.ProcessEnv): Promise<Measured> {
  const healthPort = await freePort();
  const proc = spawn(process.execPath, ['--inspect=127.0.0.1:0', script], {
    env: { ...process.env, ...env, HESTIA_HEALTH_PORT: String(healthPort), HESTIA_METRICS_PORT: '0' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const inspectorUrl = new Promise<string>((resolve) => {
    let text = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => {
      text += chunk;
      const m = text.match(/Debugger listening on (ws:\/\/\S+)/);
      if (m) resolve(m[1]!);
      for (const line of chunk.split('\n')) {
        if (line && !/Debugger listening|Debugger ending|For help, see|Debugger attached|Waiting for the debugger/.test(line)) process.stderr.write(line + '\n');
      }
    });
  });
  return { proc, healthPort, inspectorUrl };
}

export async function waitReady(m: Measured, timeoutMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${m.healthPort}/readyz`).then((r) => r.ok, () => false);
    if (ok) return performance.now() - start;
    if (m.proc.exitCode !== null) throw new Error(`process exited with ${m.proc.exitCode}`);
    if (performance.now() - start > timeoutMs) throw new Error(`not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stop(m: Measured, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (m.proc.exitCode !== null || m.proc.signalCode !== null) return;
  const exited = new Promise((r) => m.proc.once('exit', r));
  m.proc.kill(signal);
  await exited;
}

/** Resident set size in MiB, from /proc (what the kernel charges to the process). */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

/** User + system CPU seconds so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Evaluates `expression` in the process through the inspector protocol; `gc` collects garbage first. */
async function inspectorSession(m: Measured): Promise<{ ws: WebSocket; call(method: string, params?: object): Promise<Record<string, unknown>> }> {
  const ws = new WebSocket(await m.inspectorUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const me = ++id;
      const onMessage = (data: WebSocket.RawData) => {
        const msg = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown> };
        if (msg.id === me) {
          ws.off('message', onMessage);
          resolve(msg.result ?? {});
        }
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id: me, method, params }));
    });
  return { ws, call };
}

/** Starts V8's CPU profiler in the process; `stop` writes what it sampled to `path` (a .cpuprofile for DevTools). */
export async function cpuProfile(m: Measured): Promise<{ stop(path: string): Promise<void> }> {
  const { ws, call } = await inspectorSession(m);
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 500 });
  await call('Profiler.start');
  return {
    async stop(path) {
      const { profile } = await call('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      ws.close();
    },
  };
}

export async function inspect(m: Measured, expression: string, gc = false): Promise<unknown> {
  const { ws, call } = await inspectorSession(m);
  if (gc) await call('HeapProfiler.collectGarbage');
  const result = await call('Runtime.evaluate', { expression, returnByValue: true });
  ws.close();
  return (result.result as { value: unknown }).value;
}

/** Writes a heap snapshot of the process to `path` (a .heapsnapshot for DevTools' Memory panel), after a full collection. */
export async function heapSnapshot(m: Measured, path: string): Promise<void> {
  const { ws, call } = await inspectorSession(m);
  const chunks: string[] = [];
  const onChunk = (data: WebSocket.RawData) => {
    const msg = JSON.parse(String(data)) as { method?: string; params?: { chunk: string } };
    if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(msg.params!.chunk);
  };
  ws.on('message', onChunk);
  await call('HeapProfiler.collectGarbage');
  await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  ws.off('message', onChunk);
  ws.close();
  writeFileSync(path, chunks.join(''));
}

/** Heap in use after a full garbage collection, in MiB. */
export async function heapAfterGcMiB(m: Measured): Promise<number> {
  return Number(await inspect(m, 'process.memoryUsage().heapUsed', true)) / 1048576;
}

/** V8's heap spaces (committed MiB), to tell what the resident memory is made of. */
export async function heapSpaces(m: Measured): Promise<Record<string, number>> {
  const spaces = (await inspect(m, "process.getBuiltinModule('v8').getHeapSpaceStatistics()")) as { space_name: string; physical_space_size: number }[];
  return Object.fromEntries(spaces.map((s) => [s.space_name, Math.round(s.physical_space_size / 1048576)]));
}

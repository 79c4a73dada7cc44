// Live inspection (`hestia run --inspect[=ws://host:port]`, or HESTIA_INSPECT=ws://host:port): every Runner actor's
// events and snapshots are sent, in the Stately inspector protocol of @statelyai/inspect, to a WebSocket server, such
// as the bridge that `@statelyai/inspect/server`'s createInspectorServer() starts for the browser inspector
// (docs/machine.md, "Watch a Runner's actor live").
// @statelyai/inspect (with its WebSocket client) is loaded only when inspection is asked for.
import type { InspectionEvent } from 'xstate';

/** Where `--inspect` without a value sends: the default port of @statelyai/inspect's createInspectorServer(). */
export const DEFAULT_INSPECT_URL = 'ws://localhost:8080';

export class InspectUrlError extends Error {
  readonly url: string;
  constructor(url: string) {
    super(`--inspect / HESTIA_INSPECT: ${JSON.stringify(url)} is not a ws:// or wss:// URL`);
    this.name = 'InspectUrlError';
    this.url = url;
  }
}

/**
 * The inspector URL asked for by the command line (`--inspect` or `--inspect=URL`) or, failing that, by
 * `HESTIA_INSPECT`; undefined when neither asks. Pure, so that the CLI's reading of it is unit-testable.
 */
export function inspectUrlFrom(args: readonly string[], env: Readonly<Record<string, string | undefined>>): string | undefined {
  for (const a of args) {
    if (a === '--inspect') return DEFAULT_INSPECT_URL;
    if (a.startsWith('--inspect=')) return checked(a.slice('--inspect='.length));
  }
  const fromEnv = env.HESTIA_INSPECT;
  return fromEnv ? checked(fromEnv) : undefined;
}

function checked(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InspectUrlError(url);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new InspectUrlError(url);
  return url;
}

export interface RunnerInspector {
  /** Pass as the Operator's `inspect` option. */
  inspect: (event: InspectionEvent) => void;
  /** Closes the WebSocket. */
  stop(): void;
}

/**
 * A @statelyai/inspect WebSocket inspector sending to `url`. It connects at once; events that happen before the
 * connection is open are held (the latest 200, @statelyai/inspect's default) and sent when it opens. A failed
 * connection is retried by @statelyai/inspect every 5 s; the operator never waits for it.
 */
export async function createRunnerInspector(url: string): Promise<RunnerInspector> {
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const inspector = createWebSocketInspector({ url: checked(url) });
  return {
    inspect: (event) => inspector.inspect.next?.(event),
    stop: () => inspector.stop(),
  };
}

// `hestia ui`: the local web view of Runners (src/ui/). Serves on 127.0.0.1, prints the URL with its token, opens it
// in the browser unless --no-open, and runs until interrupted.
import { openInBrowser } from '../ui/open-browser.ts';
import { startUi } from '../ui/server.ts';
import { UsageError, type ConnectionFlags } from './kube.ts';
import { wholeNumber } from './run-logs.ts';

export interface UiFlags extends ConnectionFlags {
  port?: string | undefined;
  allNamespaces: boolean;
  open: boolean;
}

export function portFrom(text: string | undefined): number {
  if (text === undefined) return 0;
  const port = wholeNumber(text);
  if (port === null || port > 65535) throw new UsageError(`hestia ui: --port takes a port number from 1 to 65535, or 0 for any free one (got "${text}")`);
  return port;
}

export async function uiCommand(flags: UiFlags): Promise<number> {
  if (flags.allNamespaces && flags.namespace !== undefined) throw new UsageError('hestia ui: pass -n NAMESPACE or -A, not both');
  const port = portFrom(flags.port);
  const ui = await startUi({ kubeconfig: flags.kubeconfig, context: flags.context, namespace: flags.namespace, allNamespaces: flags.allNamespaces, port });
  process.stdout.write(`Hestia web view: ${ui.url}\n(only this machine can reach it; the token lets one browser in. Ctrl-C stops it.)\n`);
  if (flags.open && !(await openInBrowser(ui.url))) process.stderr.write('hestia ui: could not open a browser; open the URL above yourself\n');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await ui.close();
  // client-node's informer may still open a watch after its stop (a LIST in flight): nothing is left to do, so go.
  process.exit(0);
}

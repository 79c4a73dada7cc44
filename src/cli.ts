#!/usr/bin/env node
// hestia — the operator and its tools. Also usable as a kubectl plugin (kubectl-hestia):
//   hestia run [--inspect[=ws://h:p]]   run the operator (KUBECONFIG or in-cluster); --inspect (or HESTIA_INSPECT)
//                                       sends the Runner actors to a Stately inspector WebSocket
//   hestia describe <runner> [-n ns]    why a Runner did or did not run
//   hestia diagram                      write the machine's diagrams to docs/
import { BatchV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type Runner } from './api/runner.ts';
import { describeRunner } from './describe.ts';

async function describe(args: string[]): Promise<void> {
  let namespace: string | undefined;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-n' || a === '--namespace') namespace = args[++i];
    else if (a.startsWith('--namespace=')) namespace = a.slice('--namespace='.length);
    else names.push(a);
  }
  const name = names[0];
  if (!name) throw new Error('usage: hestia describe <runner> [-n namespace]');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const ns = namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const runner = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, name })) as Runner;
  const jobs = await kc.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: ns, labelSelector: `runner.stakater.com/name=${name}` });
  process.stdout.write(describeRunner(runner, jobs.items.filter((j) => j.metadata?.ownerReferences?.some((o) => o.uid === runner.metadata.uid))));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
    case undefined: {
      const [{ runOperator }, { inspectUrlFrom }] = await Promise.all([import('./main.ts'), import('./inspect.ts')]);
      return runOperator({ inspectUrl: inspectUrlFrom(rest, process.env) });
    }
    case 'describe':
      return describe(rest);
    case 'diagram': {
      const { writeDiagrams } = await import('../scripts/diagram.ts');
      return writeDiagrams();
    }
    default:
      throw new Error(`unknown command ${command}: use run, describe or diagram`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { code?: number; body?: unknown; message?: string };
  console.error(`hestia: ${e.code === 404 ? 'not found' : (e.message ?? String(err))}`);
  process.exit(1);
});

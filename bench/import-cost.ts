// What loading a module costs a fresh Node.js process: resident memory after importing it and a
// full collection, against a bare process. Each module in a process of its own.
//
//   node bench/import-cost.ts [module ...]     (defaults: the operator's entry point as it ships and as sources, and its dependencies)
import { execFileSync } from 'node:child_process';

const modules = process.argv.slice(2).length > 0
  ? process.argv.slice(2)
  : ['', './dist/src/main.js', './src/main.ts', '@kubernetes/client-node', 'xstate', 'pino', 'cron-parser', 'prom-client', 'js-yaml'];

const probe = (module: string) => `
  ${module ? `await import(${JSON.stringify(module)});` : ''}
  globalThis.gc();
  const u = process.memoryUsage();
  console.log(JSON.stringify({ rss: u.rss, heapUsed: u.heapUsed }));`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`Node ${process.version}; median of 3 fresh processes each`);
console.log('module'.padEnd(28), 'RSS MiB'.padStart(8), 'heap used MiB'.padStart(14));
for (const module of modules) {
  const runs = [0, 1, 2].map(() => JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', probe(module)], { encoding: 'utf8' })) as { rss: number; heapUsed: number });
  const mib = (n: number) => (n / 1048576).toFixed(0);
  console.log((module || '(bare node)').padEnd(28), mib(median(runs.map((r) => r.rss))).padStart(8), mib(median(runs.map((r) => r.heapUsed))).padStart(14));
}

#!/usr/bin/env node
// hestia — the operator and its tools; also a kubectl plugin (kubectl-hestia). `hestia --help`
// lists the commands, src/commands/help.ts holds every command's help.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeRunner } from './commands/describe.ts';
import { ownershipOf } from './shard/owner.ts';
import type { DiagramFormat } from './commands/diagram.ts';
import { COMMANDS, HELP, type Command } from './commands/help.ts';
import { apiErrorText, connect, UsageError } from './commands/kube.ts';
import { EXIT } from './commands/wait-verdict.ts';

const CONNECTION = {
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
const OUTPUT = { output: { type: 'string', short: 'o' } } as const;

const OPTIONS = {
  wait: { ...CONNECTION, ...OUTPUT, timeout: { type: 'string' }, 'after-now': { type: 'boolean' } },
  trigger: { ...CONNECTION, ...OUTPUT, timeout: { type: 'string' }, wait: { type: 'boolean' }, value: { type: 'string' } },
  runs: { ...CONNECTION, ...OUTPUT },
  logs: { ...CONNECTION, run: { type: 'string' }, job: { type: 'string' }, container: { type: 'string', short: 'c' }, tail: { type: 'string' }, follow: { type: 'boolean', short: 'f' } },
  describe: CONNECTION,
  diagram: { ...CONNECTION, ...OUTPUT, file: { type: 'string' } },
  ui: { ...CONNECTION, port: { type: 'string' }, 'all-namespaces': { type: 'boolean', short: 'A' }, 'no-open': { type: 'boolean' } },
} satisfies Record<Exclude<Command, 'run'>, ParseArgsConfig['options']>;

/** The values each command's -o/--output takes. */
const OUTPUTS: Record<keyof typeof OPTIONS, readonly string[]> = {
  wait: ['json'],
  trigger: ['json'],
  runs: ['json'],
  logs: [],
  describe: [],
  diagram: ['svg', 'png'] satisfies DiagramFormat[],
  ui: [],
};
const either = (values: readonly string[]): string => values.map((v) => `"${v}"`).join(' or ');

/** Flags and the one RUNNER argument of a command, or a UsageError that says what to change. */
function parse<C extends keyof typeof OPTIONS>(command: C, args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS[command], allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`hestia ${command}: ${(err as Error).message.split('. ')[0]} (see hestia ${command} --help)`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const output = values.output as string | undefined;
  const outputs = OUTPUTS[command];
  if (output !== undefined && !outputs.includes(output)) {
    throw new UsageError(`hestia ${command}: -o/--output takes ${outputs.length === 1 ? 'only ' : ''}${either(outputs)} (got "${output}")`);
  }
  return { values, json: output === 'json', positionals: parsed.positionals };
}

function runnerName(command: string, positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new UsageError(`hestia ${command}: expected one RUNNER name, got ${positionals.length === 0 ? 'none' : positionals.join(' ')} (see hestia ${command} --help)`);
  }
  return positionals[0]!;
}

const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);
const connection = (v: Record<string, string | boolean | undefined>) => ({ namespace: str(v.namespace), kubeconfig: str(v.kubeconfig), context: str(v.context) });

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP[(COMMANDS as readonly string[]).includes(rest[0] ?? '') ? (rest[0] as Command) : 'hestia']);
    return 0;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`hestia: unknown command "${command}": use ${COMMANDS.join(', ')} (see hestia --help)`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP[command as Command]);
    return 0;
  }
  switch (command as Command) {
    case 'run': {
      const [{ runOperator }, { inspectUrlFrom }, { probeOptionsFrom }, { notifyOptionsFrom }] = await Promise.all([import('./main.ts'), import('./process/inspect.ts'), import('./operator/prober.ts'), import('./notify/notifier.ts')]);
      await runOperator({ inspectUrl: inspectUrlFrom(rest, process.env), probes: probeOptionsFrom(rest, process.env), notify: notifyOptionsFrom(rest, process.env) });
      return 0;
    }
    case 'wait': {
      const { values, json, positionals } = parse('wait', rest);
      const { waitCommand } = await import('./commands/wait.ts');
      return waitCommand({ ...connection(values), timeout: str(values.timeout), afterNow: values['after-now'] === true, json }, runnerName('wait', positionals));
    }
    case 'trigger': {
      const { values, json, positionals } = parse('trigger', rest);
      const { triggerCommand } = await import('./commands/wait.ts');
      return triggerCommand({ ...connection(values), timeout: str(values.timeout), value: str(values.value), wait: values.wait === true, json }, runnerName('trigger', positionals));
    }
    case 'runs': {
      const { values, json, positionals } = parse('runs', rest);
      const { runsCommand } = await import('./commands/runs.ts');
      return runsCommand({ ...connection(values), json }, runnerName('runs', positionals));
    }
    case 'logs': {
      const { values, positionals } = parse('logs', rest);
      const { logsCommand } = await import('./commands/logs.ts');
      return logsCommand({ ...connection(values), run: str(values.run), job: str(values.job), container: str(values.container), tail: str(values.tail), follow: values.follow === true }, runnerName('logs', positionals));
    }
    case 'describe': {
      const { values, positionals } = parse('describe', rest);
      return describe(connection(values), runnerName('describe', positionals));
    }
    case 'diagram': {
      const { values, positionals } = parse('diagram', rest);
      if (positionals.length === 0) {
        // Without a RUNNER: the machine's diagrams in the docs, as `make diagram` writes them.
        const given = Object.keys(values);
        if (given.length > 0) throw new UsageError(`hestia diagram: ${given.map((f) => `--${f}`).join(', ')} ${given.length === 1 ? 'needs' : 'need'} a RUNNER (see hestia diagram --help)`);
        // scripts/ is not part of the built operator (dist/): there the docs' diagrams are not ours to write.
        const script = await import('../scripts/diagram.ts').catch((err: unknown) => {
          if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return null;
          throw err;
        });
        if (!script) throw new UsageError('hestia diagram: without a RUNNER it writes the diagrams of the docs, from a source checkout (make diagram); give a RUNNER to draw one');
        await script.writeDiagrams();
        return 0;
      }
      const { diagramCommand } = await import('./commands/diagram.ts');
      const format = (str(values.output) ?? 'svg') as DiagramFormat;
      return diagramCommand({ ...connection(values), format, file: str(values.file), stdoutIsTerminal: process.stdout.isTTY === true }, runnerName('diagram', positionals));
    }
    case 'ui': {
      const { values, positionals } = parse('ui', rest);
      if (positionals.length > 0) throw new UsageError(`hestia ui: takes no RUNNER, got ${positionals.join(' ')} (see hestia ui --help)`);
      const { uiCommand } = await import('./commands/ui.ts');
      return uiCommand({ ...connection(values), port: str(values.port), allNamespaces: values['all-namespaces'] === true, open: values['no-open'] !== true });
    }
  }
}

async function describe(flags: ReturnType<typeof connection>, name: string): Promise<number> {
  const conn = connect(flags);
  const runner = await conn.getRunner(name).catch((err: unknown) => {
    throw new Error(apiErrorText(err, `Runner ${conn.namespace}/${name}`));
  });
  const [jobs, leases] = await Promise.all([conn.jobsOf(runner), conn.memberLeases()]);
  process.stdout.write(describeRunner(runner, jobs, ownershipOf(runner.metadata.uid ?? '', leases, Date.now())));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // A UsageError names its command already; other errors are the cluster's or the Runner's.
    console.error(err instanceof UsageError ? err.message : `hestia: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = EXIT.error;
  },
);

// `hestia diagram RUNNER`: the Runner machine's diagram with the state that Runner is in lit, as SVG or PNG. The
// picture is drawn here from machines/runner.ts, so it is the machine of this version of the CLI.
import { writeFile } from 'node:fs/promises';
import { runnerMachine } from '../../machines/runner.ts';
import { activePaths, machineGraph } from '../diagram/graph.ts';
import { svgToPng } from '../diagram/png.ts';
import { litStateOf, runnerMachineSvg } from '../diagram/svg.ts';
import { apiErrorText, connect, UsageError, type ConnectionFlags } from './kube.ts';

export type DiagramFormat = 'svg' | 'png';

export interface DiagramFlags extends ConnectionFlags {
  format: DiagramFormat;
  /** Where to write the picture; stdout without it. */
  file?: string | undefined;
  /** Whether stdout is a terminal, which a PNG's bytes would garble. */
  stdoutIsTerminal: boolean;
}

export async function diagramCommand(flags: DiagramFlags, name: string): Promise<number> {
  if (flags.format === 'png' && flags.file === undefined && flags.stdoutIsTerminal) {
    throw new UsageError('hestia diagram: a PNG is no text for a terminal: pass --file PATH or redirect stdout (see hestia diagram --help)');
  }
  const conn = connect(flags);
  const id = `Runner ${conn.namespace}/${name}`;
  const runner = await conn.getRunner(name).catch((err: unknown) => {
    throw new Error(apiErrorText(err, id));
  });
  const lit = litStateOf(runner);
  if (activePaths(machineGraph(runnerMachine), lit).size === 0) {
    process.stderr.write(`hestia diagram: ${id} ${lit === undefined ? 'has no state yet' : `is in a state this machine does not have (${JSON.stringify(lit)})`}: nothing is lit\n`);
  }
  const svg = await runnerMachineSvg(lit);
  const picture = flags.format === 'png' ? await svgToPng(svg) : svg;
  if (flags.file === undefined) process.stdout.write(picture);
  else await writeFile(flags.file, picture);
  return 0;
}

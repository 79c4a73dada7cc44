// Writes the Runner machine's diagrams (SPEC §7), all derived from machines/runner.ts by src/diagram/:
//   docs/runner-machine.mmd   Mermaid stateDiagram-v2 (the text that test/unit/diagram.test.ts compares)
//   docs/runner-machine.svg   Graphviz, rendered by @viz-js/viz (Graphviz as WebAssembly: no browser, no system dot)
//   docs/machine.md           its generated blocks (between markers): the Mermaid text, and the code for the
//                             Stately editor's Import
// Run with `make diagram`, `hestia diagram` or `node scripts/diagram.ts`.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnerMachine } from '../machines/runner.ts';
import { toDot } from '../src/diagram/dot.ts';
import { renderDot } from '../src/diagram/graphviz.ts';
import { embedBlock } from '../src/diagram/markdown.ts';
import { toMermaid } from '../src/diagram/mermaid.ts';
import { toStatelyCode } from '../src/diagram/stately.ts';

/** The repository's docs/ folder, wherever the command is run from. */
export const DOCS_DIR = fileURLToPath(new URL('../docs/', import.meta.url));

export const renderSvg = renderDot;

export const README = fileURLToPath(new URL('../README.md', import.meta.url));

export async function writeDiagrams(docsDir: string = DOCS_DIR, readme: string = README): Promise<void> {
  const mermaid = toMermaid(runnerMachine);
  const page = join(docsDir, 'machine.md');
  await writeFile(join(docsDir, 'runner-machine.mmd'), mermaid);
  await writeFile(join(docsDir, 'runner-machine.svg'), await renderSvg(toDot(runnerMachine)));
  const markdown = embedBlock(await readFile(page, 'utf8'), 'runner-machine.mmd', 'mermaid', mermaid);
  await writeFile(page, embedBlock(markdown, 'stately-import', 'ts', toStatelyCode(runnerMachine)));
  await writeFile(readme, embedBlock(await readFile(readme, 'utf8'), 'runner-machine.mmd', 'mermaid', mermaid));
  console.log(`wrote ${['runner-machine.mmd', 'runner-machine.svg', 'machine.md'].map((f) => join(docsDir, f)).join(', ')}, ${readme}`);
}

if (import.meta.main) await writeDiagrams();

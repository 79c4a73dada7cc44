// Graphviz DOT text to SVG, with @viz-js/viz (Graphviz as WebAssembly: no browser, no system `dot`).
import type { Viz } from '@viz-js/viz';

// Loading the WebAssembly takes a good part of a second; one instance renders any number of graphs.
let viz: Promise<Viz> | undefined;

function loadViz(): Promise<Viz> {
  viz ??= import('@viz-js/viz').then(
    (m) => m.instance(),
    (err: unknown) => {
      viz = undefined; // the next render tries again
      throw err;
    },
  );
  return viz;
}

export async function renderDot(dot: string): Promise<string> {
  const result = (await loadViz()).render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') throw new Error(`Graphviz: ${result.errors.map((e) => e.message).join('; ')}`);
  return result.output;
}

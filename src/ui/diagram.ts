// A Runner's statechart for its page: the machine's SVG (src/diagram/svg.ts) with the Runner's state lit. The SVG
// depends on the state value only, so one drawing serves every Runner in that state; drawings are kept by that key.
import type { Runner } from '../api/runner.ts';
import { litStateOf, runnerMachineSvg } from '../diagram/svg.ts';

export interface DiagramRenderer {
  /** Equal keys, equal drawings: the page asks for a new one only when its Runner's key changes. */
  litKey(runner: Runner): string;
  svg(runner: Runner): Promise<string>;
}

/** A machine has few states, so few keys; the bound only guards against a status no operator wrote. */
const KEPT_DRAWINGS = 64;

export function machineDiagrams(): DiagramRenderer {
  const drawings = new Map<string, Promise<string>>();
  const litKey = (runner: Runner) => JSON.stringify(litStateOf(runner) ?? null);
  return {
    litKey,
    async svg(runner) {
      const key = litKey(runner);
      let drawing = drawings.get(key);
      if (!drawing) {
        // Graphviz (WebAssembly) is loaded by the first drawing, when a Runner's page is first opened.
        drawing = runnerMachineSvg(litStateOf(runner));
        drawing.catch(() => drawings.delete(key));
        if (drawings.size >= KEPT_DRAWINGS) drawings.delete(drawings.keys().next().value!);
        drawings.set(key, drawing);
      }
      return drawing;
    },
  };
}

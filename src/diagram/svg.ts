// One Runner's picture: the Runner machine drawn by Graphviz with the state the Runner is in lit (SPEC §7). Each state's
// box is addressable (`<g id="state-atRest.blocked" class="cluster state">`), so that a page can find it and style
// the class `lit`; the lit boxes are also coloured in the SVG itself, for a viewer without the page's stylesheet.
import type { Runner } from '../api/runner.ts';
import { runnerMachine } from '../../machines/runner.ts';
import { toDot } from './dot.ts';
import { renderDot } from './graphviz.ts';

/** The Runner machine (machines/runner.ts) as SVG; each state's box is a <g> with id "state-<dotted.path>" and class "state"; the boxes of `lit` (an XState state value as in a snapshot, e.g. {atRest:{blocked:'WaitingForWorkloads'}} or 'Running', or a plain state name such as 'Succeeded') and of its parent groups also carry class "lit". */
export async function runnerMachineSvg(lit?: unknown): Promise<string> {
  return renderDot(toDot(runnerMachine, { addressable: true, lit }));
}

/** The state a Runner is in, as the machine's state value: status.snapshot.value when present, else status.state, else undefined. Pure. */
export function litStateOf(runner: Runner): unknown {
  return runner.status?.snapshot?.value ?? runner.status?.state;
}

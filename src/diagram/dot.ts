// A state machine as Graphviz DOT text, for the SVG (docs/runner-machine.svg). Pure.
// Groups are clusters with a header (the group's name and its internal transitions) and a dot marking the child
// entered first; an arrow into a group ends at that dot, an arrow out of a group starts at its header. Decisions are
// diamonds, states rounded boxes listing their entry actions and internal transitions. A state's `description` is the
// SVG tooltip of its box. With options, each state's box carries an SVG id and class, and the states a Runner is in are
// drawn lit (and carry the class `lit`), for a picture of one Runner rather than of the machine.
import type { AnyStateMachine } from 'xstate';
import { GENERATED } from './markdown.ts';
import { activePaths, machineGraph, type DiagramState, type MachineGraph } from './graph.ts';

const quoted = (s: string): string => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
const html = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

const FONT = 'Helvetica';
const GROUP_COLOUR = '#5b6b7f';
const DECISION_FILL = '#f4f1e8';
// Set in the drawing itself, so that the lit state shows where no stylesheet reaches it (a PNG, an image viewer).
const LIT_COLOUR = '#d9480f';
const LIT_FILL = '#ffd8a8';
const LIT_GROUP_FILL = '#fff8f0';

export interface DotOptions {
  /** Give each state's box the SVG id `state-<path>` (e.g. `state-atRest.blocked`) and the class `state`. */
  addressable?: boolean;
  /** A state value (as a snapshot holds it) or a state's name: its states and their groups are drawn lit, class `lit`. */
  lit?: unknown;
}

/** A state box's attributes beyond its drawing in the docs: its SVG id and class, and the look of a lit state. */
type Marks = (s: DiagramState) => string[];

function marksFor(g: MachineGraph, options: DotOptions): Marks {
  const lit = options.lit === undefined ? new Set<string>() : activePaths(g, options.lit);
  return (s) => {
    const classes = [...(options.addressable ? ['state'] : []), ...(lit.has(s.path) ? ['lit'] : [])];
    return [
      ...(options.addressable ? [`id=${quoted(`state-${s.path}`)}`] : []),
      ...(classes.length > 0 ? [`class=${quoted(classes.join(' '))}`] : []),
      ...(lit.has(s.path) ? litStyle(s) : []),
    ];
  };
}

/** A lit state stands out most; the groups that hold it are lit more lightly, so that the eye goes to the state. */
function litStyle(s: DiagramState): string[] {
  if (s.kind === 'group') return [`color=${quoted(LIT_COLOUR)}`, 'penwidth=1.5', 'style="rounded,filled"', `fillcolor=${quoted(LIT_GROUP_FILL)}`];
  return [`color=${quoted(LIT_COLOUR)}`, 'penwidth=3', `style=${quoted(s.kind === 'decision' ? 'filled' : 'rounded,filled')}`, `fillcolor=${quoted(LIT_FILL)}`];
}

/** The node an arrow into this state ends at, and out of it starts from. */
const entryOf = (s: DiagramState): string => (s.kind === 'group' ? `${s.id}.__initial` : s.id);
const exitOf = (s: DiagramState): string => (s.kind === 'group' ? `${s.id}.__header` : s.id);

/** A box's text: the name in bold, then its lines, left-aligned. */
function boxLabel(name: string, lines: string[]): string {
  const rows = [`<tr><td align="center"><b>${html(name)}</b></td></tr>`, ...lines.map((l) => `<tr><td align="left">${html(l)}</td></tr>`)];
  return `<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">${rows.join('')}</table>>`;
}

function tooltip(s: DiagramState): string {
  return s.description ? `, tooltip=${quoted(s.description)}` : '';
}

/** A node's attributes after its own: the later of two equal names wins in Graphviz. */
const after = (marks: string[]): string => marks.map((m) => `, ${m}`).join('');

function nodes(g: MachineGraph, marks: Marks, group: string | null, indent: string): string[] {
  const out: string[] = [];
  // Graphviz stacks a rank's nodes from the bottom up in the order they are declared (rankdir=LR): declared in reverse
  // within a group, a decision's targets read top down in the order its guards are tried.
  const inside = g.states.filter((x) => x.parent === group);
  for (const s of group === null ? inside : inside.reverse()) {
    if (s.kind === 'group') {
      out.push(
        `${indent}subgraph ${quoted(`cluster_${s.id}`)} {`,
        `${indent}  style="rounded,dashed"; color=${quoted(GROUP_COLOUR)}; label="";${marks(s).map((m) => ` ${m};`).join('')}`,
        `${indent}  ${quoted(exitOf(s))} [shape=plaintext, label=${boxLabel(s.name, s.lines)}${tooltip(s)}];`,
        `${indent}  ${quoted(entryOf(s))} [shape=point, width=0.1, label=""];`,
        ...nodes(g, marks, s.id, `${indent}  `),
        `${indent}}`,
      );
    } else if (s.kind === 'decision') {
      out.push(`${indent}${quoted(s.id)} [shape=diamond, style=filled, fillcolor=${quoted(DECISION_FILL)}, fontsize=9, label=${quoted(s.name)}${tooltip(s)}${after(marks(s))}];`);
    } else {
      out.push(`${indent}${quoted(s.id)} [label=${boxLabel(s.name, s.lines)}${tooltip(s)}${after(marks(s))}];`);
    }
  }
  return out;
}

/** Graphviz DOT text of the machine; without options, the drawing in docs/runner-machine.svg. */
export function toDot(machine: AnyStateMachine, options: DotOptions = {}): string {
  const g = machineGraph(machine);
  const byId = new Map(g.states.map((s) => [s.id, s]));
  const lines = [
    `// ${GENERATED}`,
    `digraph ${quoted(g.id)} {`,
    '  rankdir=LR;',
    `  graph [fontname=${quoted(FONT)}, fontsize=11, nodesep=0.35, ranksep=0.45, newrank=true];`,
    // A wide margin, so that text set in a wider font than Graphviz measured (a renderer without Helvetica) still fits.
    `  node [shape=box, style=rounded, fontname=${quoted(FONT)}, fontsize=11, margin="0.3,0.05"];`,
    `  edge [fontname=${quoted(FONT)}, fontsize=9, color="#444444"];`,
    ...nodes(g, marksFor(g, options), null, '  '),
  ];
  if (g.initial !== null) {
    lines.push('  "__initial" [shape=point, width=0.15, label=""];', `  "__initial" -> ${quoted(entryOf(byId.get(g.initial)!))};`);
  }
  for (const s of g.states) {
    if (s.kind === 'group' && s.initial !== null) lines.push(`  ${quoted(entryOf(s))} -> ${quoted(entryOf(byId.get(s.initial)!))};`);
  }
  for (const e of g.edges) {
    const [from, to] = [byId.get(e.from)!, byId.get(e.to)!];
    const label = e.label ? ` [label=${quoted(e.label).replace(' / ', '\\n/ ')}]` : '';
    lines.push(`  ${quoted(exitOf(from))} -> ${quoted(entryOf(to))}${label};`);
  }
  if (g.everywhere.length > 0) {
    const note = ['In every state:', ...g.everywhere].map((l) => `${l.replaceAll('"', '\\"')}\\l`).join('');
    lines.push(`  "__everywhere" [shape=note, style="", fontsize=10, label="${note}"];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

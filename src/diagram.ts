// Diagrams of a state machine, derived from its definition (SPEC §7): Mermaid `stateDiagram-v2` text for the docs
// (GitHub renders it) and Graphviz DOT for the SVG. Pure: no I/O; scripts/diagram.ts writes the files.
//
// What is drawn, all read from the machine's state nodes:
// - each state, with its entry/exit actions; the initial state;
// - each transition, labelled `EVENT [guard] / actions` (eventless ones have no event);
// - transitions of the machine's root that have no target ("in every state") go into one note;
// - eventless transitions whose guard routes to its own target — a parameterised guard such as
//   `restsIn(Failed)` on a transition to `Failed` — are drawn through one choice node per guard type:
//   `source → restsIn` (labelled with the rest of the guard, if any, and with the choice's targets that this source
//   has no route to, other than itself) and `restsIn → Failed [restsIn Failed]`. So the choice node draws the
//   machine exactly while keeping the 70-odd routes readable.
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

// ---------------------------------------------------------------------------------------------
// Guards and actions as text.

type GuardTree =
  | { kind: 'ref'; type: string; params: unknown }
  | { kind: 'and' | 'or'; of: GuardTree[] }
  | { kind: 'not'; of: GuardTree }
  | { kind: 'inline'; name: string };

const COMBINATORS = new Set(['and', 'or', 'not']);

function guardTree(guard: unknown): GuardTree | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return { kind: 'ref', type: guard, params: undefined };
  if (typeof guard === 'function') {
    const parts = (guard as { guards?: unknown }).guards;
    if (COMBINATORS.has(guard.name) && Array.isArray(parts)) {
      const of = parts.map(guardTree).filter((g): g is GuardTree => g !== undefined);
      if (guard.name === 'not' && of[0] !== undefined) return { kind: 'not', of: of[0] };
      return { kind: guard.name as 'and' | 'or', of };
    }
    return { kind: 'inline', name: guard.name || 'inline guard' };
  }
  if (typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string') {
    return { kind: 'ref', type: guard.type, params: (guard as { params?: unknown }).params };
  }
  return { kind: 'inline', name: 'inline guard' };
}

function paramsText(params: unknown): string {
  if (params === undefined || params === null) return '';
  if (typeof params !== 'object') return ` ${String(params)}`;
  const values = Object.values(params);
  if (values.length === 1 && ['string', 'number', 'boolean'].includes(typeof values[0])) return ` ${String(values[0])}`;
  return `(${Object.entries(params)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')})`;
}

function treeText(g: GuardTree, nested = false): string {
  switch (g.kind) {
    case 'ref':
      return `${g.type}${paramsText(g.params)}`;
    case 'inline':
      return g.name;
    case 'not':
      return `not ${treeText(g.of, true)}`;
    case 'and':
    case 'or': {
      const text = g.of.map((x) => treeText(x, true)).join(` ${g.kind} `);
      return nested && g.of.length > 1 ? `(${text})` : text;
    }
  }
}

/** A guard as written in the machine: `name`, `name param`, or `a and b`, `not a`. Empty for no guard. */
export function guardText(guard: unknown): string {
  const tree = guardTree(guard);
  return tree === undefined ? '' : treeText(tree);
}

function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'function') return action.name || 'inline action';
  if (typeof action === 'object' && action !== null && 'type' in action && typeof action.type === 'string') return action.type;
  return 'inline action';
}

const actionNames = (actions: readonly unknown[] | undefined): string[] => (actions ?? []).map(actionName);

const targetsOf = (t: AnyTransitionDefinition): AnyStateNode[] => (t.target ?? []) as AnyStateNode[];

/** One line for a transition, e.g. `Running → Failed: always [runFinished and restsIn Failed]`. */
export function describeTransition(t: AnyTransitionDefinition): string {
  const source = t.source as AnyStateNode;
  const targets = targetsOf(t);
  const to = targets.length === 0 ? `${source.key} (no target)` : targets.map((n) => n.key).join(', ');
  const guard = guardText(t.guard);
  const actions = actionNames(t.actions);
  return (
    `${source.key} → ${to}: ${t.eventType === '' ? 'always' : t.eventType}` +
    `${guard ? ` [${guard}]` : ''}${actions.length ? ` / ${actions.join(', ')}` : ''}${t.reenter ? ' (re-enters)' : ''}`
  );
}

// ---------------------------------------------------------------------------------------------
// The machine as a small graph.

interface Edge {
  from: string;
  to: string;
  label: string;
  /** A targetless transition: actions only, the state is not left. */
  internal: boolean;
}

interface StateBox {
  key: string;
  lines: string[];
}

export interface MachineGraph {
  id: string;
  initial: string | undefined;
  states: StateBox[];
  choices: string[];
  edges: Edge[];
  /** Targetless transitions of the root, which apply in every state. */
  everywhere: string[];
}

function labelOf(eventType: string, guard: string, actions: string[], reenter: boolean): string {
  const parts = [eventType, guard ? `[${guard}]` : '', actions.length ? `/ ${actions.join(', ')}` : ''];
  return `${parts.filter(Boolean).join(' ')}${reenter ? ' (re-enters)' : ''}`;
}

/** `[guard]` of transitions; an unguarded transition after guarded ones for the same event reads `[else]`. */
function guardLabels(transitions: AnyTransitionDefinition[]): string[] {
  return transitions.map((t, i) => {
    const text = guardText(t.guard);
    if (text !== '') return text;
    const earlier = transitions.slice(0, i).some((u) => u.eventType === t.eventType && u.guard !== undefined);
    return earlier ? 'else' : '';
  });
}

/** The conjuncts of a guard (a guard that is not an `and` is its own only conjunct). */
const conjuncts = (g: GuardTree | undefined): GuardTree[] => (g === undefined ? [] : g.kind === 'and' ? g.of.flatMap((x) => conjuncts(x)) : [g]);

/** A conjunct `type(params)` whose only parameter names the transition's own target: a route, drawn via a choice. */
function routeOf(t: AnyTransitionDefinition): { type: string; rest: GuardTree[] } | undefined {
  const targets = targetsOf(t);
  if (t.eventType !== '' || targets.length !== 1) return undefined;
  // Entering through the choice runs the target's entry actions: keep a route to the source that does not re-enter apart.
  if (targets[0] === t.source && !t.reenter) return undefined;
  const all = conjuncts(guardTree(t.guard));
  const routes = all.filter(
    (g) =>
      g.kind === 'ref' &&
      typeof g.params === 'object' &&
      g.params !== null &&
      Object.values(g.params).length === 1 &&
      Object.values(g.params)[0] === targets[0]!.key,
  );
  if (routes.length !== 1) return undefined;
  const route = routes[0] as Extract<GuardTree, { kind: 'ref' }>;
  return { type: route.type, rest: all.filter((g) => g !== route) };
}

export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const root = machine.root as AnyStateNode;
  const children = Object.values(root.states) as AnyStateNode[];
  const nested = children.filter((n) => Object.keys(n.states).length > 0).map((n) => n.key);
  if (nested.length > 0) throw new Error(`diagram: nested states are not supported (${nested.join(', ')})`);

  const rootTransitions = [...root.transitions.values()].flat() as AnyTransitionDefinition[];
  const withTarget = rootTransitions.filter((t) => targetsOf(t).length > 0);
  if (withTarget.length > 0 || (root.always ?? []).length > 0)
    throw new Error(`diagram: root transitions with a target are not supported (${withTarget.map(describeTransition).join('; ')})`);
  const rootGuards = guardLabels(rootTransitions);
  const everywhere = rootTransitions.map((t, i) => labelOf(t.eventType, rootGuards[i]!, actionNames(t.actions), false));

  const states: StateBox[] = children.map((n) => ({
    key: n.key,
    lines: [
      ...(n.entry.length ? [`entry / ${actionNames(n.entry).join(', ')}`] : []),
      ...(n.exit.length ? [`exit / ${actionNames(n.exit).join(', ')}`] : []),
    ],
  }));

  const edges: Edge[] = [];
  const add = (edge: Edge) => {
    if (!edges.some((e) => e.from === edge.from && e.to === edge.to && e.label === edge.label)) edges.push(edge);
  };
  interface Route {
    from: string;
    choice: string;
    /** The guard's other conjuncts, drawn on the edge into the choice. */
    rest: string;
    to: string;
    /** The edge out of the choice. */
    label: string;
    /** The same transition drawn without the choice. */
    direct: Edge;
  }
  const routes: Route[] = [];
  for (const node of children) {
    const transitions = [...[...node.transitions.values()].flat(), ...(node.always ?? [])] as AnyTransitionDefinition[];
    const guards = guardLabels(transitions);
    for (const [i, t] of transitions.entries()) {
      const actions = actionNames(t.actions);
      const targets = targetsOf(t);
      const label = labelOf(t.eventType, guards[i]!, actions, t.reenter && targets.length > 0);
      const route = routeOf(t);
      if (route !== undefined) {
        const to = targets[0]!.key;
        routes.push({
          from: node.key,
          choice: route.type,
          rest: route.rest.map((g) => treeText(g, true)).join(' and '),
          to,
          label: labelOf('', `${route.type} ${to}`, actions, false),
          direct: { from: node.key, to, label, internal: false },
        });
        continue;
      }
      if (targets.length === 0) add({ from: node.key, to: node.key, label, internal: true });
      for (const target of targets) add({ from: node.key, to: target.key, label, internal: false });
    }
  }

  // Routes to one target that differ in their actions cannot share the choice's edge: they are drawn directly.
  const labels = new Map<string, Set<string>>();
  for (const r of routes) labels.set(`${r.choice}\n${r.to}`, (labels.get(`${r.choice}\n${r.to}`) ?? new Set()).add(r.label));
  const viaChoice = routes.filter((r) => labels.get(`${r.choice}\n${r.to}`)!.size === 1);
  for (const r of routes) if (!viaChoice.includes(r)) add(r.direct);
  const choices = [...new Set(viaChoice.map((r) => r.choice))];
  // Into the choice: one edge per source and guard rest, naming the choice's targets this source has no route to.
  for (const r of viaChoice) {
    const own = viaChoice.filter((x) => x.from === r.from && x.choice === r.choice && x.rest === r.rest).map((x) => x.to);
    const missing = [...new Set(viaChoice.filter((x) => x.choice === r.choice).map((x) => x.to))].filter(
      (to) => to !== r.from && !own.includes(to),
    );
    const label = [r.rest ? `[${r.rest}]` : '', missing.length ? `(not to ${missing.join(', ')})` : ''].filter(Boolean).join(' ');
    add({ from: r.from, to: r.choice, label, internal: false });
  }
  for (const r of viaChoice) add({ from: r.choice, to: r.to, label: r.label, internal: false });

  // Each state's transitions in the machine's order of states, then each choice's routes.
  const order = (key: string) => children.findIndex((n) => n.key === key);
  const fromChoice = (e: Edge) => choices.includes(e.from);
  edges.sort((x, y) =>
    fromChoice(x) !== fromChoice(y)
      ? Number(fromChoice(x)) - Number(fromChoice(y))
      : fromChoice(x)
        ? choices.indexOf(x.from) - choices.indexOf(y.from) || order(x.to) - order(y.to)
        : order(x.from) - order(y.from),
  );
  const clash = choices.filter((c) => children.some((n) => n.key === c));
  if (clash.length > 0) throw new Error(`diagram: choice node names clash with states: ${clash.join(', ')}`);

  const initial = (root.initial?.target as AnyStateNode[] | undefined)?.[0]?.key;
  return { id: root.id, initial, states, choices, edges, everywhere };
}

// ---------------------------------------------------------------------------------------------
// Renderings.

const GENERATED = 'Generated from the machine definition by scripts/diagram.ts: do not edit, run `make diagram`.';

/** Mermaid `stateDiagram-v2` text of the machine. */
export function toMermaid(machine: AnyStateMachine): string {
  const g = machineGraph(machine);
  const mermaidText = (s: string) => s.replaceAll(';', ',').replaceAll('#', '');
  const lines = ['stateDiagram-v2', `  %% ${GENERATED}`];
  for (const c of g.choices) lines.push(`  state ${c} <<choice>>`);
  if (g.initial !== undefined) lines.push(`  [*] --> ${g.initial}`);
  for (const s of g.states) for (const line of s.lines) lines.push(`  ${s.key} : ${mermaidText(line)}`);
  for (const e of g.edges) {
    const label = e.internal ? `${e.label} (internal)` : e.label;
    lines.push(`  ${e.from} --> ${e.to}${label ? ` : ${mermaidText(label)}` : ''}`);
  }
  if (g.everywhere.length > 0 && g.initial !== undefined) {
    lines.push(`  note left of ${g.initial}`, '    In every state:');
    for (const t of g.everywhere) lines.push(`    ${mermaidText(t)}`);
    lines.push('  end note');
  }
  return `${lines.join('\n')}\n`;
}

const dotString = (s: string): string => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/** Graphviz DOT text of the machine. */
export function toDot(machine: AnyStateMachine): string {
  const g = machineGraph(machine);
  const lines = [
    `// ${GENERATED}`,
    `digraph ${dotString(g.id)} {`,
    '  rankdir=LR;',
    '  graph [fontname="Helvetica", fontsize=11, nodesep=0.4, ranksep=0.6];',
    '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=12];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  if (g.initial !== undefined) {
    lines.push('  "__initial" [shape=point, width=0.15, label=""];', `  "__initial" -> ${dotString(g.initial)};`);
  }
  for (const s of g.states) {
    const label = [s.key, ...s.lines].join('\\n');
    lines.push(`  ${dotString(s.key)} [label="${label.replaceAll('"', '\\"')}"];`);
  }
  for (const c of g.choices) lines.push(`  ${dotString(c)} [shape=diamond, style="", fontsize=10, label=${dotString(c)}];`);
  for (const e of g.edges) {
    // Edges into a choice node do not rank it, so that it sits before the states it routes to.
    const intoChoice = g.choices.includes(e.to);
    const attrs = [
      e.label ? `label=${dotString(e.label).replace(' / ', '\\n/ ')}` : '',
      e.internal ? 'style=dashed' : '',
      intoChoice ? 'constraint=false, color="#777777"' : '',
    ].filter(Boolean);
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  if (g.everywhere.length > 0) {
    const note = ['In every state:', ...g.everywhere].map((l) => `${l.replaceAll('"', '\\"')}\\l`).join('');
    lines.push(`  "__everywhere" [shape=note, style="", fontsize=10, label="${note}"];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Code for the Stately editor's "Import" (stately.ai/editor): the machine's config written out literally, with guards
// and actions by name. Its importer reads code statically, so configs built by helper functions (as
// machines/runner.ts builds its many `always` routes) are expanded here into plain object literals.

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function codeOf(value: unknown, indent: string): string {
  if (typeof value === 'string') return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  if (typeof value !== 'object' || value === null) return String(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const items = value.map((v) => codeOf(v, inner));
    const flat = `[${items.join(', ')}]`;
    return flat.length <= 100 && !flat.includes('\n') ? flat : `[\n${items.map((i) => `${inner}${i},`).join('\n')}\n${indent}]`;
  }
  if (value instanceof Code) return value.text;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  const items = entries.map(([k, v]) => `${IDENTIFIER.test(k) ? k : codeOf(k, inner)}: ${codeOf(v, inner)}`);
  const flat = `{ ${items.join(', ')} }`;
  if (items.length === 0) return '{}';
  return flat.length <= 100 && !flat.includes('\n') ? flat : `{\n${items.map((i) => `${inner}${i},`).join('\n')}\n${indent}}`;
}

/** Code that is printed as is (a call such as `and([...])`). */
class Code {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

function guardCode(g: GuardTree): unknown {
  switch (g.kind) {
    case 'ref':
      return g.params === undefined ? g.type : { type: g.type, params: g.params };
    case 'inline':
      return `${g.name} (an inline guard: name it in setup() to import it)`;
    case 'not':
      return new Code(`not(${codeOf(guardCode(g.of), '')})`);
    case 'and':
    case 'or':
      return new Code(`${g.kind}([${g.of.map((x) => codeOf(guardCode(x), '')).join(', ')}])`);
  }
}

function transitionConfig(t: AnyTransitionDefinition): Record<string, unknown> {
  const targets = targetsOf(t);
  const tree = guardTree(t.guard);
  const actions = actionNames(t.actions);
  return {
    target: targets.length === 0 ? undefined : targets.length === 1 ? targets[0]!.key : targets.map((n) => n.key),
    reenter: t.reenter ? true : undefined,
    guard: tree === undefined ? undefined : guardCode(tree),
    actions: actions.length === 0 ? undefined : actions.length === 1 ? actions[0] : actions,
  };
}

function nodeConfig(node: AnyStateNode): Record<string, unknown> {
  const on: Record<string, unknown> = {};
  for (const [event, list] of node.transitions as Map<string, AnyTransitionDefinition[]>) {
    const configs = list.map(transitionConfig);
    on[event] = configs.length === 1 ? configs[0] : configs;
  }
  const entry = actionNames(node.entry);
  const exit = actionNames(node.exit);
  const always = ((node.always ?? []) as AnyTransitionDefinition[]).map(transitionConfig);
  const children = Object.values(node.states) as AnyStateNode[];
  return {
    id: node.parent === undefined ? node.id : undefined,
    initial: children.length ? (node.initial?.target as AnyStateNode[] | undefined)?.[0]?.key : undefined,
    entry: entry.length ? entry : undefined,
    exit: exit.length ? exit : undefined,
    on: Object.keys(on).length ? on : undefined,
    always: always.length ? always : undefined,
    states: children.length ? Object.fromEntries(children.map((c) => [c.key, nodeConfig(c)])) : undefined,
  };
}

/** `createMachine({...})` for the Stately editor's Import: states, transitions, guards and actions by name. */
export function toStatelyCode(machine: AnyStateMachine): string {
  return `createMachine(${codeOf(nodeConfig(machine.root as AnyStateNode), '')});\n`;
}

// ---------------------------------------------------------------------------------------------
// Generated blocks of a Markdown page, between markers.

export const blockBegin = (name: string): string => `<!-- BEGIN ${name}: generated by scripts/diagram.ts, run \`make diagram\` -->`;
export const blockEnd = (name: string): string => `<!-- END ${name} -->`;

/** The page with the text between the markers of block `name` replaced by a fenced block (```lang) of `content`. */
export function embedBlock(markdown: string, name: string, lang: string, content: string): string {
  const begin = markdown.indexOf(blockBegin(name));
  const end = markdown.indexOf(blockEnd(name));
  if (begin < 0 || end < begin) throw new Error(`the page has no ${blockBegin(name)} … ${blockEnd(name)} markers`);
  const block = `${blockBegin(name)}\n\`\`\`${lang}\n${content.trimEnd()}\n\`\`\`\n`;
  return markdown.slice(0, begin) + block + markdown.slice(end);
}

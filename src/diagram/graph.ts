// A state machine as a small graph for drawing, read from its definition (SPEC §7). Pure.
//
// - A state with child states is a *group*, drawn as a box around them; a group's first child is marked.
// - A leaf state that has only eventless transitions is a *decision*: it is left as soon as it is entered, by the first
//   transition whose guard holds, so it is drawn as a choice (a diamond), never as a state a machine rests in.
// - A transition with a target is an edge labelled `EVENT [guard] / actions` (eventless ones have no event; an
//   unguarded one after guarded ones for the same event reads `[else]`).
// - A transition without a target neither leaves nor enters a state: it is a line inside its state's box, as UML
//   writes internal transitions; those of the machine's root apply in every state and are drawn once, in a note.
//   So is a leaf state's transition to itself (marked `(re-enters)`): in the box, a state's reactions to one event
//   read in the order in which they are tried.
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { actionNames, describeTransition, targetsOf, transitionLabels, transitionsOf } from './labels.ts';

export interface DiagramState {
  /** The state node's id (unique in the machine), e.g. `runner.atRest.blocked`. */
  id: string;
  /** The keys from the machine's root, dotted, e.g. `atRest.blocked`: the state as its state value spells it. */
  path: string;
  /** The state's key, e.g. `blocked`. */
  name: string;
  kind: 'state' | 'group' | 'decision';
  /** The id of the group it is in, or null at the top. */
  parent: string | null;
  /** For a group: the id of the child entered first. */
  initial: string | null;
  /** Entry and exit actions, then internal transitions. */
  lines: string[];
  /** The state's `description` in the machine, if any. */
  description: string | null;
}

export interface DiagramEdge {
  from: string;
  to: string;
  label: string;
}

export interface MachineGraph {
  id: string;
  /** The id of the top-level state entered first. */
  initial: string | null;
  /** Depth-first, in the machine's order (a group before its children). */
  states: DiagramState[];
  edges: DiagramEdge[];
  /** Internal transitions of the machine's root: they apply in every state. */
  everywhere: string[];
}

const childrenOf = (node: AnyStateNode): AnyStateNode[] => Object.values(node.states) as AnyStateNode[];

export const isDecision = (node: AnyStateNode): boolean =>
  childrenOf(node).length === 0 && node.transitions.size === 0 && (node.always ?? []).length > 0;

const initialOf = (node: AnyStateNode): string | null =>
  (node.initial?.target as AnyStateNode[] | undefined)?.[0]?.id ?? null;

export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const root = machine.root as AnyStateNode;
  const rootTransitions = transitionsOf(root);
  const withTarget = rootTransitions.filter((t) => targetsOf(t).length > 0);
  if (withTarget.length > 0)
    throw new Error(`diagram: transitions of the machine's root with a target are not supported (${withTarget.map(describeTransition).join('; ')})`);

  const states: DiagramState[] = [];
  const edges: DiagramEdge[] = [];
  const visit = (node: AnyStateNode, parent: string | null) => {
    const children = childrenOf(node);
    const transitions = transitionsOf(node);
    const labels = transitionLabels(transitions);
    const inBox = (t: (typeof transitions)[number]) =>
      targetsOf(t).length === 0 || (children.length === 0 && targetsOf(t).every((target) => target === node));
    const internal = transitions.flatMap((t, i) => (inBox(t) ? [labels[i]!] : []));
    states.push({
      id: node.id,
      path: node.path.join('.'),
      name: node.key,
      kind: children.length > 0 ? 'group' : isDecision(node) ? 'decision' : 'state',
      parent,
      initial: children.length > 0 ? initialOf(node) : null,
      lines: [
        ...(node.entry.length ? [`entry / ${actionNames(node.entry).join(', ')}`] : []),
        ...(node.exit.length ? [`exit / ${actionNames(node.exit).join(', ')}`] : []),
        ...internal,
      ],
      description: node.description ?? null,
    });
    for (const [i, t] of transitions.entries()) {
      if (!inBox(t)) for (const target of targetsOf(t)) edges.push({ from: node.id, to: target.id, label: labels[i]! });
    }
    for (const child of children) visit(child, node.id);
  };
  for (const child of childrenOf(root)) visit(child, null);

  const names = states.map((s) => s.name);
  const clash = names.filter((n, i) => names.indexOf(n) !== i);
  if (clash.length > 0) throw new Error(`diagram: state names must be unique to be drawn: ${[...new Set(clash)].join(', ')}`);

  return { id: root.id, initial: initialOf(root), states, edges, everywhere: transitionLabels(rootTransitions) };
}

/** The groups that hold a state, innermost first. */
export function ancestorsOf(graph: MachineGraph, id: string): string[] {
  const byId = new Map(graph.states.map((s) => [s.id, s]));
  const out: string[] = [];
  for (let p = byId.get(id)?.parent ?? null; p !== null; p = byId.get(p)?.parent ?? null) out.push(p);
  return out;
}

/** The innermost group that holds both ends of an edge (a group does not hold itself), or null for the top. */
export function scopeOf(graph: MachineGraph, edge: DiagramEdge): string | null {
  const to = new Set(ancestorsOf(graph, edge.to));
  return ancestorsOf(graph, edge.from).find((g) => to.has(g)) ?? null;
}

/**
 * The paths of the states that a state value is in: each state it names and the groups that hold them. The value is
 * one as a snapshot holds it (`'Running'`, `{ atRest: 'Succeeded' }`), or a state's name or path (`'Succeeded'`,
 * `'atRest.Succeeded'`). A value that names a state the graph does not have, in any part, is in none: empty.
 */
export function activePaths(graph: MachineGraph, value: unknown): Set<string> {
  const byPath = new Map(graph.states.map((s) => [s.path, s]));
  const named = typeof value === 'string' ? graph.states.find((s) => s.name === value) : undefined;
  const leaves = named && !byPath.has(value as string) ? [named.path] : leafPathsOf(value);
  if (leaves === null || leaves.length === 0 || !leaves.every((p) => byPath.has(p))) return new Set();
  const byId = new Map(graph.states.map((s) => [s.id, s]));
  return new Set(leaves.flatMap((p) => [p, ...ancestorsOf(graph, byPath.get(p)!.id).map((id) => byId.get(id)!.path)]));
}

/** The dotted paths a state value ends in (several for parallel states), or null if it is not a state value. */
function leafPathsOf(value: unknown, prefix = ''): string[] | null {
  if (typeof value === 'string') return value === '' ? null : [`${prefix}${value}`];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value);
  if (entries.length === 0) return null;
  const paths: string[] = [];
  for (const [key, child] of entries) {
    // An atomic state inside a parallel one: XState writes its key with an empty object.
    const inner = typeof child === 'object' && child !== null && Object.keys(child).length === 0 ? [`${prefix}${key}`] : leafPathsOf(child, `${prefix}${key}.`);
    if (inner === null) return null;
    paths.push(...inner);
  }
  return paths;
}

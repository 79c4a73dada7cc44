// A state machine as Mermaid `stateDiagram-v2` text (GitHub renders it in Markdown). Pure.
// Groups are composite states, decisions are `<<choice>>` states, internal transitions are lines of their state (of a
// group: a note beside it), and the root's internal transitions a note beside the first state.
import type { AnyStateMachine } from 'xstate';
import { GENERATED } from './markdown.ts';
import { machineGraph, scopeOf, type MachineGraph } from './graph.ts';

/** Mermaid reads `;` as the end of a statement and `#` as the start of an entity code. */
const text = (s: string): string => s.replaceAll(';', ',').replaceAll('#', '');

function block(g: MachineGraph, group: string | null, indent: string): string[] {
  const name = (id: string) => g.states.find((s) => s.id === id)!.name;
  const lines: string[] = [];
  const inside = g.states.filter((s) => s.parent === group);
  const first = group === null ? g.initial : g.states.find((s) => s.id === group)!.initial;
  for (const s of inside) {
    if (s.kind === 'decision') lines.push(`${indent}state ${s.name} <<choice>>`);
  }
  if (first !== null) lines.push(`${indent}[*] --> ${name(first)}`);
  for (const s of inside) {
    if (s.kind === 'group') {
      lines.push(`${indent}state ${s.name} {`, ...block(g, s.id, `${indent}  `), `${indent}}`);
      if (s.lines.length > 0) lines.push(`${indent}note right of ${s.name}`, ...s.lines.map((l) => `${indent}  ${text(l)}`), `${indent}end note`);
    } else if (s.kind === 'state') {
      // Mermaid shows a state's first description as its title: the name goes first.
      lines.push(s.lines.length === 0 ? `${indent}${s.name}` : `${indent}${s.name} : ${s.name}`);
      for (const l of s.lines) lines.push(`${indent}${s.name} : ${text(l)}`);
    }
  }
  for (const e of g.edges.filter((e) => scopeOf(g, e) === group)) {
    lines.push(`${indent}${name(e.from)} --> ${name(e.to)}${e.label ? ` : ${text(e.label)}` : ''}`);
  }
  return lines;
}

/** Mermaid `stateDiagram-v2` text of the machine. */
export function toMermaid(machine: AnyStateMachine): string {
  const g = machineGraph(machine);
  const lines = ['stateDiagram-v2', `  %% ${GENERATED}`, ...block(g, null, '  ')];
  const first = g.states.find((s) => s.id === g.initial);
  if (g.everywhere.length > 0 && first !== undefined) {
    lines.push(`  note left of ${first.name}`, '    In every state:', ...g.everywhere.map((l) => `    ${text(l)}`), '  end note');
  }
  return `${lines.join('\n')}\n`;
}

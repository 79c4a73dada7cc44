// The machine for the Stately editor's Import (stately.ai/editor), which reads a `createMachine({...})` call: the
// machine's own config as JSON, guards and actions by name. Pure.
import type { AnyStateMachine } from 'xstate';

/** Where the config holds a function (an inline guard, action or combinator), which JSON cannot carry. */
function functionsIn(value: unknown, path: string): string[] {
  if (typeof value === 'function') return [path];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => functionsIn(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`));
}

/**
 * The machine's config as JSON, as the Stately editor imports it: states, transitions, guards and actions by name.
 * The context is left out (it is a function of the actor's input). A config with an inline function elsewhere would
 * not import unchanged: that is an error naming where, so that the function gets a name in `setup()`.
 */
export function machineJson(machine: AnyStateMachine): Record<string, unknown> {
  const { context: _context, ...config } = machine.config as Record<string, unknown>;
  const inline = functionsIn(config, 'config');
  if (inline.length > 0) throw new Error(`the machine's config holds functions (name them in setup()): ${inline.join(', ')}`);
  return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A value as TypeScript source, one entry per line once it no longer fits in 100 characters. */
function codeOf(value: unknown, indent: string): string {
  if (typeof value === 'string') return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  if (typeof value !== 'object' || value === null) return String(value);
  const inner = `${indent}  `;
  const items = Array.isArray(value)
    ? value.map((v) => codeOf(v, inner))
    : Object.entries(value).map(([k, v]) => `${IDENTIFIER.test(k) ? k : codeOf(k, inner)}: ${codeOf(v, inner)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{ ', ' }'];
  if (items.length === 0) return Array.isArray(value) ? '[]' : '{}';
  const flat = `${open}${items.join(', ')}${close}`;
  return flat.length <= 100 && !flat.includes('\n') ? flat : `${open.trim()}\n${items.map((i) => `${inner}${i},`).join('\n')}\n${indent}${close.trim()}`;
}

/** `createMachine({...})` for the Stately editor's Import. */
export function toStatelyCode(machine: AnyStateMachine): string {
  return `createMachine(${codeOf(machineJson(machine), '')});\n`;
}

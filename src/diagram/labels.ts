// Guards, actions and transitions of a state machine as text, read from its definition. Pure.
import type { AnyStateNode, AnyTransitionDefinition } from 'xstate';

/** A guard as the machine's definition holds it: a named guard (with params), a combinator, or an inline function. */
export type GuardTree =
  | { kind: 'ref'; type: string; params: unknown }
  | { kind: 'and' | 'or'; of: GuardTree[] }
  | { kind: 'not'; of: GuardTree }
  | { kind: 'inline'; name: string };

const COMBINATORS = new Set(['and', 'or', 'not']);

export function guardTree(guard: unknown): GuardTree | undefined {
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

export const actionNames = (actions: readonly unknown[] | undefined): string[] => (actions ?? []).map(actionName);

export const targetsOf = (t: AnyTransitionDefinition): AnyStateNode[] => (t.target ?? []) as AnyStateNode[];

/** A state's transitions in the order the machine tries them: on events, then eventless. */
export const transitionsOf = (node: AnyStateNode): AnyTransitionDefinition[] =>
  [...[...node.transitions.values()].flat(), ...(node.always ?? [])] as AnyTransitionDefinition[];

/** One line for a transition, e.g. `Running → atRest: JOB.FINISHED [tickBlocked] / recordResult, runFinished`. */
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

/**
 * The label of each of a state's transitions, `EVENT [guard] / actions`: an unguarded transition after guarded ones
 * for the same event reads `[else]`, a transition that neither moves nor acts reads `(ignored)`.
 */
export function transitionLabels(transitions: AnyTransitionDefinition[]): string[] {
  return transitions.map((t, i) => {
    let guard = guardText(t.guard);
    if (guard === '' && transitions.slice(0, i).some((u) => u.eventType === t.eventType && u.guard !== undefined)) guard = 'else';
    const actions = actionNames(t.actions);
    const moves = targetsOf(t).length > 0;
    const parts = [t.eventType, guard ? `[${guard}]` : '', actions.length ? `/ ${actions.join(', ')}` : ''];
    const note = moves && t.reenter ? ' (re-enters)' : !moves && actions.length === 0 ? ' (ignored)' : '';
    return `${parts.filter(Boolean).join(' ')}${note}`;
  });
}

// `readyWhen` (SPEC §2.3): a CEL expression over `object`, for kinds whose readiness kstatus cannot tell
// (an Argo CD Application's health, an Argo Rollout's phase). Evaluated with @marcbachmann/cel-js, the way
// Kubernetes' own CEL sees an object: whole numbers are CEL ints, so `object.status.readyReplicas >= 2`
// and `object.metadata.generation == 3` mean what they say. An expression that does not parse, names any
// variable but `object`, or cannot give a bool is refused when the Runner is checked (Stalled/InvalidSpec).
// Pure: compiled expressions are kept by their text, so each is parsed once however many objects it judges.
//
// The CEL library is loaded on first use (src/runner/when-needed.ts): an operator whose Runners write no readyWhen
// does not pay its resident memory (docs/behaviour.md has the figures and the command).
import type { Environment } from '@marcbachmann/cel-js';
import { whenNeeded } from '../when-needed.ts';
import type { Readiness } from './readiness.ts';

const celLibrary = whenNeeded<typeof import('@marcbachmann/cel-js')>('@marcbachmann/cel-js');

/** Longer expressions are refused by the CRD already; the parser's limits bound what a short one may build. */
export const READY_WHEN_MAX_LENGTH = 2048;

let loaded: Environment | undefined;

function celEnvironment(): Environment {
  if (loaded) return loaded;
  loaded = new (celLibrary().Environment)({
    homogeneousAggregateLiterals: false,
    limits: { maxAstNodes: 512, maxDepth: 32, maxListElements: 64, maxMapEntries: 64, maxCallArguments: 8 },
  }).registerVariable('object', 'map');
  return loaded;
}

export type CompiledReadyWhen =
  | { ok: true; evaluate(object: unknown): Readiness }
  | { ok: false; problem: string };

const compiled = new Map<string, CompiledReadyWhen>();
/** Distinct expressions remembered; beyond this the oldest is compiled again when next needed. */
const REMEMBERED = 1000;

/** The expression, compiled; or why it is not a readyWhen expression. */
export function compileReadyWhen(expression: string): CompiledReadyWhen {
  const known = compiled.get(expression);
  if (known) return known;
  const result = compile(expression);
  if (compiled.size >= REMEMBERED) compiled.delete(compiled.keys().next().value!);
  compiled.set(expression, result);
  return result;
}

function compile(expression: string): CompiledReadyWhen {
  if (expression.trim() === '') return { ok: false, problem: 'is empty: write a CEL expression over object, e.g. object.status.phase == "Healthy"' };
  if (expression.length > READY_WHEN_MAX_LENGTH) return { ok: false, problem: `is ${expression.length} characters long; at most ${READY_WHEN_MAX_LENGTH}` };
  let program: ReturnType<Environment['parse']>;
  try {
    program = celEnvironment().parse(expression);
  } catch (err) {
    return { ok: false, problem: `is not a CEL expression: ${summary(err)}` };
  }
  const checked = program.check();
  if (!checked.valid) return { ok: false, problem: `is not a valid CEL expression over object: ${summary(checked.error)}` };
  if (checked.type !== 'bool' && checked.type !== 'dyn') return { ok: false, problem: `gives a ${checked.type}, not true or false` };
  return {
    ok: true,
    evaluate(object: unknown): Readiness {
      let value: unknown;
      try {
        value = program({ object: celValue(object, 0) });
      } catch (err) {
        return { ready: false, message: `readyWhen: ${summary(err)}` };
      }
      if (value === true) return { ready: true, message: 'readyWhen is true' };
      if (value === false) return { ready: false, message: 'readyWhen is false' };
      return { ready: false, message: `readyWhen gave ${typeof value === 'bigint' ? 'an int' : typeof value}, not true or false` };
    },
  };
}

/** The first line of a cel-js error (its later lines point at the expression's text). */
function summary(err: unknown): string {
  const e = err as { summary?: unknown; message?: unknown } | undefined;
  const text = typeof e?.summary === 'string' && e.summary ? e.summary : typeof e?.message === 'string' ? e.message : String(err);
  return text.split('\n')[0]!.trim();
}

/** Deeper than any real object's fields; what lies below is left out rather than walked. */
const MAX_DEPTH = 64;

/** JSON as CEL sees it in Kubernetes: whole numbers become ints (bigint), other numbers stay doubles. */
function celValue(value: unknown, depth: number): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return null;
  if (Array.isArray(value)) return value.map((v) => celValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = celValue(v, depth + 1);
  return out;
}

// What a TypeScript module imports, read from its text: the specifiers of its static value imports and re-exports
// (not `import type`) and side-effect imports, and with `dynamic` its literal dynamic imports too.
import { readFileSync } from 'node:fs';

const STATIC = /^\s*(?:(?:import|export)\s+(?!type\b)[^'";]*?from\s*|import\s*)['"]([^'"\n]+)['"]/gm;
const DYNAMIC = /\bimport\s*\(\s*['"]([^'"\n]+)['"]/g;

export function importsOf(file: string, { dynamic }: { dynamic: boolean }): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(STATIC), ...(dynamic ? text.matchAll(DYNAMIC) : [])].map((m) => m[1]!);
}

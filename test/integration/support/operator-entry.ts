// The operator's entry point as it ships: dist/src/main.js, built by `make build` (part of `make prereqs`, so before
// any test runs; scripts/build-js.ts). A dist/ older than a source it was built from would test other code than
// the tree holds: that is refused, with the command that mends it, rather than built here.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const OPERATOR_ENTRY = 'dist/src/main.js';
const BUILT_DIRS = ['src', 'machines'];

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSourceMs(path) : stat.mtimeMs);
  }
  return newest;
}

/** The entry point to spawn; throws when dist/ is missing or older than the sources. */
export function operatorEntry(): string {
  if (!existsSync(OPERATOR_ENTRY) || !existsSync('dist/package.json')) throw new Error(`${OPERATOR_ENTRY} is missing: run make build (make prereqs does)`);
  const built = statSync('dist/package.json').mtimeMs;
  const changed = Math.max(...BUILT_DIRS.map(newestSourceMs));
  if (changed > built) throw new Error(`dist/ is older than src/ or machines/: run make build`);
  return OPERATOR_ENTRY;
}

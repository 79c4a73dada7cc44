// The operator as it ships: src/ and machines/ with their types stripped ahead of time into dist/ (JavaScript, the
// same lines and columns), relative imports of .ts files pointing at the .js files beside them. Node.js can run the
// TypeScript sources as they are, but its type stripping costs every process about 28 MiB of resident memory for
// as long as it runs (docs/scale.md); a process that runs dist/src/main.js pays none of it.
//
//   node --no-warnings=ExperimentalWarning scripts/build-js.ts [--out dist]     (make build)
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';

/** What is built: the folders the operator's code lives in. */
export const BUILT_DIRS = ['src', 'machines'];

/** A relative import of a .ts file, static (`from`, `import '…'`) or dynamic with a literal (`import('…')`). */
const TS_IMPORT = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"\n]+?)\.ts\2/g;

/** A module's JavaScript: its types stripped (whitespace in their place) and its relative .ts imports made .js. */
export function moduleJs(source: string): string {
  return stripTypeScriptTypes(source, { mode: 'strip' }).replace(TS_IMPORT, (_, keyword: string, quote: string, path: string) => `${keyword}${quote}${path}.js${quote}`);
}

function* filesUnder(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

/** Writes dist/ afresh from the sources in `root`; returns how many modules it wrote. */
export function buildJs(root: string, out: string): number {
  rmSync(out, { recursive: true, force: true });
  let modules = 0;
  for (const dir of BUILT_DIRS) {
    for (const file of filesUnder(join(root, dir))) {
      const target = join(out, relative(root, file));
      mkdirSync(dirname(target), { recursive: true });
      if (file.endsWith('.ts')) {
        writeFileSync(target.replace(/\.ts$/, '.js'), moduleJs(readFileSync(file, 'utf8')));
        modules += 1;
      } else cpSync(file, target); // the web view's static files
    }
  }
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
  return modules;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist' } } });
  const started = performance.now();
  const modules = buildJs('.', values.out);
  console.log(`build-js: ${modules} modules in ${values.out}/ (${Math.round(performance.now() - started)} ms)`);
}

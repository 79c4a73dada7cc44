// The operator as it ships (scripts/build-js.ts): each module's types stripped, its relative .ts imports pointing at
// .js, lines kept, so that `node dist/src/main.js` runs the same code the sources say — checked here on a small tree
// of fixture modules (the project's own dist/ is built by `make build`, never by a test).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILT_DIRS, buildJs, moduleJs } from '../../scripts/build-js.ts';
import { importsOf } from './support/module-imports.ts';

describe('moduleJs', () => {
  it('points relative imports of .ts files at .js: static, re-exports, side effects and literal dynamic imports', () => {
    const js = moduleJs([
      "import { a } from './a.ts';",
      "export * from '../b/c.ts';",
      "import './side.ts';",
      'const d = await import("./d.ts");',
      "import { e } from 'some-package.ts';",
      "const text = 'see ./notes.ts for why';",
    ].join('\n'));
    expect(js.split('\n')).toEqual([
      "import { a } from './a.js';",
      "export * from '../b/c.js';",
      "import './side.js';",
      'const d = await import("./d.js");',
      "import { e } from 'some-package.ts';",
      "const text = 'see ./notes.ts for why';",
    ]);
  });

  it('strips types where they were, keeping every line where it was (stack traces point at the sources)', () => {
    const source = "import type { T } from './t.ts';\nconst n: number = 1;\nfunction f(x: T): string {\n  return String(x);\n}\n";
    const js = moduleJs(source);
    expect(js.split('\n')).toHaveLength(source.split('\n').length);
    expect(js).not.toContain(': number');
    expect(js.split('\n')[2]).toMatch(/^function f\(x\s*\)\s*{$/);
  });
});

describe('buildJs', () => {
  it('builds a tree that Node.js runs without type stripping, static files beside it', () => {
    const root = mkdtempSync(join(tmpdir(), 'build-js-'));
    mkdirSync(join(root, 'src', 'static'), { recursive: true });
    mkdirSync(join(root, 'machines'));
    writeFileSync(join(root, 'machines', 'm.ts'), 'export const twice = (n: number): number => n * 2;\n');
    writeFileSync(join(root, 'src', 'main.ts'), "import { twice } from '../machines/m.ts';\nconsole.log(twice(21));\n");
    writeFileSync(join(root, 'src', 'static', 'page.html'), '<p>hi</p>\n');
    expect(buildJs(root, join(root, 'dist'))).toBe(2);
    const out = execFileSync(process.execPath, ['--no-experimental-strip-types', join(root, 'dist', 'src', 'main.js')], { encoding: 'utf8' });
    expect(out.trim()).toBe('42');
    expect(readFileSync(join(root, 'dist', 'src', 'static', 'page.html'), 'utf8')).toBe('<p>hi</p>\n');
    expect(JSON.parse(readFileSync(join(root, 'dist', 'package.json'), 'utf8'))).toMatchObject({ type: 'module' });
  });
});

describe('the operator\'s own modules', () => {
  it('import nothing outside what is built, but the one script the CLI does without when it is absent', () => {
    const outside: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts')) {
          for (const spec of importsOf(path, { dynamic: true }).filter((s) => s.startsWith('.'))) {
            const top = relative('.', resolve(dirname(path), spec)).split(sep)[0]!;
            if (!BUILT_DIRS.includes(top)) outside.push(`${path} → ${spec}`);
          }
        }
      }
    };
    for (const dir of BUILT_DIRS) walk(dir);
    expect(outside).toEqual([`src${sep}cli.ts → ../scripts/diagram.ts`]);
  });
});

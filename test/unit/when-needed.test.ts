// Dependencies only some Runners need are loaded when first needed (src/runner/when-needed.ts): the operator's own
// static imports, from its entry point, reach none of cron-parser, saxes and the CEL library, and a loader gives one
// module, once.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { whenNeeded } from '../../src/runner/when-needed.ts';
import { importsOf } from './support/module-imports.ts';

/** Every package a module reaches through static value imports (not `import type`), from `entry` on. */
function packagesReached(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of importsOf(file, { dynamic: false })) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (existsSync(target)) walk(target);
      } else if (!spec.startsWith('node:')) packages.add(spec);
    }
  };
  walk(resolve(entry));
  return packages;
}

describe('what the operator loads when it starts', () => {
  it('does not load cron-parser, saxes or CEL until a Runner needs them', () => {
    const reached = packagesReached('src/main.ts');
    expect(reached).toContain('xstate'); // the walk does follow the operator's imports
    expect(reached).not.toContain('cron-parser');
    expect(reached).not.toContain('saxes');
    expect(reached).not.toContain('@marcbachmann/cel-js');
  });

  it('loads a module once, when first asked', () => {
    const cron = whenNeeded<typeof import('cron-parser')>('cron-parser');
    expect(typeof cron().CronExpressionParser.parse).toBe('function');
    expect(cron()).toBe(cron());
  });
});

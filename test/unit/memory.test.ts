// The operator's heap settings (src/process/memory.ts) are set from code after V8 has started; this proves
// they still take effect on the Node.js in use, by comparing a process that applies them with one
// that asks for V8's defaults, both allocating the same garbage.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const probe = `
  const { tuneHeap } = await import('./src/process/memory.ts');
  tuneHeap();
  const v8 = await import('node:v8');
  const keep = [];
  for (let i = 0; i < 200; i++) keep.push(JSON.parse(JSON.stringify(Array.from({ length: 2000 }, (_, k) => ({ k, s: 'x'.repeat(100) })))).slice(0, 5));
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
  console.log(Math.round(young / 1048576));
`;

const youngGenerationMiB = (env: NodeJS.ProcessEnv) =>
  Number(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim());

describe('the heap settings of the operator process', () => {
  it('keep the young generation small where V8 by itself lets it grow', () => {
    const tuned = youngGenerationMiB({});
    const defaults = youngGenerationMiB({ HESTIA_V8_DEFAULTS: 'true' });
    expect(tuned).toBeLessThanOrEqual(8);
    expect(defaults).toBeGreaterThan(tuned * 2);
  }, 60_000);
});

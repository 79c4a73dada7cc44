// Prints the closing line of `make test`: "tests: N passed, M failed" over every suite's report
// (vitest JSON reports and the harness self-test's own closing line), so CI reads one total.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.error(`test-summary: ${file} is missing: that suite did not report`);
    failed += 1;
    continue;
  }
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    const report = JSON.parse(text) as { numPassedTests: number; numFailedTests: number };
    passed += report.numPassedTests;
    failed += report.numFailedTests;
  } else {
    // e.g. "6 passed, 0 failed (8.11 s)"
    const line = text.trim().split('\n').reverse().find((l) => /^\d+ passed, \d+ failed\b/.test(l.trim()));
    const [p, f] = (line ?? '0 passed, 1 failed').match(/\d+/g)!.map(Number);
    passed += p!;
    failed += f!;
  }
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

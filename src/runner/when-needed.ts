// Dependencies that only some Runners need — cron parsing for scheduled ones, an XML parser for JUnit results, CEL
// for readyWhen — are loaded on first use: an operator whose Runners never need one does not keep its code resident
// (docs/scale.md). Synchronous, because the callers are pure functions (require of an ES module is, in Node.js 24).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The module `specifier`, loaded the first time the returned function is called. */
export function whenNeeded<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}

// How the operator's process uses memory. V8 sizes its heap for the machine it runs on, not for
// the work: on a large node its young generation grows to about 100 MiB, and its old generation
// waits for a lot of garbage before it collects. An operator keeps a modest working set and
// allocates in bursts (LIST pages at start-up, status renders), so with those defaults most of
// its resident memory is garbage not yet collected (docs/scale.md has the figures, and the command
// that measures them with and without these settings). These two settings trade a little CPU for a footprint that follows
// the working set. They are V8 settings read each time the heap grows, so they take effect when
// set at start-up from code — the operator's own default, with no flag for a manifest to carry.
import { setFlagsFromString } from 'node:v8';

export const HEAP_SETTINGS = [
  // The young generation keeps its initial size instead of doubling up to ~100 MiB.
  '--semi-space-growth-factor=1',
  // After each full collection, the old generation may grow by half of what is live before the next.
  '--heap-growing-percent=50',
] as const;

/** Applies HEAP_SETTINGS unless HESTIA_V8_DEFAULTS=true asks for V8's own (to compare, or to diagnose). */
export function tuneHeap(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  if (env.HESTIA_V8_DEFAULTS === 'true') return [];
  for (const setting of HEAP_SETTINGS) setFlagsFromString(setting);
  return HEAP_SETTINGS;
}

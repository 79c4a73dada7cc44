// Preloaded into an operator process (`node --import ./test/integration/support/skewed-wall-clock.ts`)
// to run its wall clock HESTIA_TEST_WALL_CLOCK_SKEW_MS ahead (negative: behind), as on a machine
// whose clock is off: `Date.now()` and `new Date()` are skewed, while the monotonic clock
// (`performance.now()`) and the TLS stack's view of time are not — as on that machine.
const skew = Number(process.env.HESTIA_TEST_WALL_CLOCK_SKEW_MS ?? 0);
const RealDate = Date;

globalThis.Date = new Proxy(RealDate, {
  construct: (target, args: unknown[]) => (args.length === 0 ? new target(target.now() + skew) : Reflect.construct(target, args)),
  apply: (target) => new target(target.now() + skew).toString(),
  get: (target, property, receiver) => (property === 'now' ? () => target.now() + skew : Reflect.get(target, property, receiver)),
});

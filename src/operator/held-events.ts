// Watch events that come while the operator starts. Start-up reads the caches' lists, waits (for the kinds that
// spec.resources names to be listed: seconds, when one is slow), then restores the actors; a handler attached only
// after that wait would miss every Runner created, changed or deleted during it, until the next restart. So the
// handlers are attached before the first wait, and what they are told is held, in order, until the actors are
// restored, then handled as it would have been at once.

export class HeldEvents {
  private held: (() => void)[] | null = [];

  /** Handles an event now, or, while held, once `release` is called. */
  handle(fn: () => void): void {
    if (this.held) this.held.push(fn);
    else fn();
  }

  /** Drops what is held so far: start-up reads the state those events told of from the caches now. */
  forget(): void {
    if (this.held) this.held.length = 0;
  }

  /** Handles what is held, in the order it came, and every later event at once; returns how many were held. */
  release(): number {
    const held = this.held ?? [];
    this.held = null;
    for (const fn of held) fn();
    return held.length;
  }
}

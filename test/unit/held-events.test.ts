// The watch events that come while the operator starts (src/operator/held-events.ts; issue 21, gap 6): held in
// order until the actors are restored, then handled; nothing after that waits.
import { describe, expect, it } from 'vitest';
import { HeldEvents } from '../../src/operator/held-events.ts';

describe('HeldEvents', () => {
  it('holds events until released, then handles them in the order they came, and later ones at once', () => {
    const held = new HeldEvents();
    const handled: string[] = [];
    held.handle(() => handled.push('created a'));
    held.handle(() => handled.push('changed a'));
    held.handle(() => handled.push('deleted b'));
    expect(handled).toEqual([]);
    expect(held.release()).toBe(3);
    expect(handled).toEqual(['created a', 'changed a', 'deleted b']);
    held.handle(() => handled.push('created c'));
    expect(handled.at(-1)).toBe('created c');
    expect(held.release()).toBe(0);
  });

  it('forgets what came before start-up read the caches (the first LISTs), not what came after', () => {
    const held = new HeldEvents();
    const handled: string[] = [];
    held.handle(() => handled.push('listed a'));
    held.forget();
    held.handle(() => handled.push('created b'));
    held.release();
    expect(handled).toEqual(['created b']);
  });
});

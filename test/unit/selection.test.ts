import { describe, expect, it } from 'vitest';
import { LabelIndex, Relation, SelectorIndex, StringSets } from '../../src/runner/selection/selection.ts';

describe('SelectorIndex', () => {
  it('finds a selector by any one of its matchLabels pairs the object carries', () => {
    const index = new SelectorIndex();
    index.set('qa/smoke', { matchLabels: { app: 'cart', tier: 'web' } });
    index.set('qa/other', { matchLabels: { app: 'billing' } });
    expect([...index.candidates({ app: 'cart', tier: 'web', x: 'y' })]).toEqual(['qa/smoke']);
    expect([...index.candidates({ app: 'shop' })]).toEqual([]);
  });

  it('offers selectors without matchLabels as candidates for every object', () => {
    const index = new SelectorIndex();
    index.set('qa/expr', { matchExpressions: [{ key: 'app', operator: 'Exists' }] });
    index.set('qa/all', {});
    expect([...index.candidates({})].sort()).toEqual(['qa/all', 'qa/expr']);
  });

  it('forgets a selector that is replaced or deleted', () => {
    const index = new SelectorIndex();
    index.set('qa/a', { matchLabels: { app: 'one' } });
    index.set('qa/a', { matchLabels: { app: 'two' } });
    expect([...index.candidates({ app: 'one' })]).toEqual([]);
    expect([...index.candidates({ app: 'two' })]).toEqual(['qa/a']);
    index.delete('qa/a');
    expect([...index.candidates({ app: 'two' })]).toEqual([]);
    index.set('qa/b', undefined);
    expect([...index.candidates({})]).toEqual([]);
  });
});

describe('Relation', () => {
  it('answers both directions and reports whether a link changed', () => {
    const r = new Relation();
    expect(r.link('runner', 'w1')).toBe(true);
    expect(r.link('runner', 'w1')).toBe(false);
    r.link('runner', 'w2');
    r.link('other', 'w1');
    expect([...r.targetsOf('runner')]).toEqual(['w1', 'w2']);
    expect([...r.ownersOf('w1')]).toEqual(['runner', 'other']);
    expect(r.setLinked('runner', 'w1', false)).toBe(true);
    r.forgetTarget('w1');
    expect([...r.ownersOf('w1')]).toEqual([]);
    r.forgetOwner('runner');
    expect([...r.targetsOf('runner')]).toEqual([]);
  });
});

describe('LabelIndex', () => {
  it('offers only the objects carrying the rarest pair of a selector', () => {
    const index = new LabelIndex();
    for (let i = 0; i < 50; i++) index.set(`ns/web-${i}`, { tier: 'web', app: `app-${i}` });
    index.set('ns/cart', { tier: 'web', app: 'cart' });
    expect([...index.candidates({ matchLabels: { tier: 'web', app: 'cart' } })]).toEqual(['ns/cart']);
    expect([...index.candidates({ matchLabels: { app: 'nothing' } })]).toEqual([]);
  });

  it('offers every object to a selector without matchLabels, and forgets removed or relabelled ones', () => {
    const index = new LabelIndex();
    index.set('ns/a', { app: 'a' });
    index.set('ns/b', { app: 'b' });
    expect([...index.candidates({ matchExpressions: [{ key: 'app', operator: 'Exists' }] })].sort()).toEqual(['ns/a', 'ns/b']);
    index.set('ns/a', { app: 'z' });
    index.delete('ns/b');
    expect([...index.candidates({ matchLabels: { app: 'a' } })]).toEqual([]);
    expect([...index.candidates({ matchLabels: { app: 'z' } })]).toEqual(['ns/a']);
    expect([...index.candidates({})]).toEqual(['ns/a']);
  });
});

describe('sets of strings by key, a set of one kept as its member', () => {
  it('answers as a Map of Sets would through adding a second member and deleting back to none', () => {
    const sets = new StringSets();
    sets.add('app=cart', 'shop/cart');
    sets.add('app=cart', 'shop/cart');
    expect([...sets.get('app=cart')]).toEqual(['shop/cart']);
    expect(sets.count('app=cart')).toBe(1);
    expect(sets.has('app=cart', 'shop/cart')).toBe(true);
    expect(sets.has('app=cart', 'shop/other')).toBe(false);
    sets.add('app=cart', 'qa/cart');
    expect([...sets.get('app=cart')].sort()).toEqual(['qa/cart', 'shop/cart']);
    expect(sets.count('app=cart')).toBe(2);
    sets.delete('app=cart', 'nobody');
    sets.delete('app=cart', 'shop/cart');
    expect([...sets.get('app=cart')]).toEqual(['qa/cart']);
    expect(sets.has('app=cart', 'shop/cart')).toBe(false);
    sets.delete('app=cart', 'shop/cart');
    sets.delete('app=cart', 'qa/cart');
    expect(sets.count('app=cart')).toBe(0);
    expect([...sets.get('app=cart')]).toEqual([]);
    expect([...sets.keys()]).toEqual([]);
  });
});

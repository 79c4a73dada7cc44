import { describe, expect, it } from 'vitest';
import { isEnabledWorkload, matchesLabelSelector, selectorKeyValues, selectorProblem } from '../../src/runner/selection/selectors.ts';

describe('matchesLabelSelector', () => {
  const labels = { app: 'shop', tier: 'web', 'runner.stakater.com/enable': 'true' };

  it('matches everything with an empty selector, even an object without labels', () => {
    expect(matchesLabelSelector({}, labels)).toBe(true);
    expect(matchesLabelSelector({}, undefined)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: {}, matchExpressions: [] }, {})).toBe(true);
  });

  it('matches nothing with an absent selector', () => {
    expect(matchesLabelSelector(undefined, labels)).toBe(false);
  });

  it('requires every matchLabels pair', () => {
    expect(matchesLabelSelector({ matchLabels: { app: 'shop' } }, labels)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { app: 'shop', tier: 'web' } }, labels)).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { app: 'shop', tier: 'db' } }, labels)).toBe(false);
    expect(matchesLabelSelector({ matchLabels: { app: 'shop' } }, undefined)).toBe(false);
  });

  it('compares values exactly', () => {
    expect(matchesLabelSelector({ matchLabels: { app: 'Shop' } }, labels)).toBe(false);
    expect(matchesLabelSelector({ matchLabels: { app: '' } }, { app: '' })).toBe(true);
    expect(matchesLabelSelector({ matchLabels: { app: '' } }, {})).toBe(false);
  });

  it('In matches a present key with one of the values', () => {
    const sel = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] };
    expect(matchesLabelSelector(sel, labels)).toBe(true);
    expect(matchesLabelSelector(sel, { tier: 'db' })).toBe(false);
    expect(matchesLabelSelector(sel, {})).toBe(false);
  });

  it('NotIn matches an absent key and a value outside the list', () => {
    const sel = { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] };
    expect(matchesLabelSelector(sel, labels)).toBe(true);
    expect(matchesLabelSelector(sel, {})).toBe(true);
    expect(matchesLabelSelector(sel, undefined)).toBe(true);
    expect(matchesLabelSelector(sel, { tier: 'db' })).toBe(false);
  });

  it('Exists matches a present key whatever its value, including empty', () => {
    const sel = { matchExpressions: [{ key: 'tier', operator: 'Exists' }] };
    expect(matchesLabelSelector(sel, { tier: '' })).toBe(true);
    expect(matchesLabelSelector(sel, { app: 'shop' })).toBe(false);
  });

  it('DoesNotExist matches only an absent key', () => {
    const sel = { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] };
    expect(matchesLabelSelector(sel, { app: 'shop' })).toBe(true);
    expect(matchesLabelSelector(sel, { tier: '' })).toBe(false);
  });

  it('ANDs matchLabels with every expression', () => {
    const sel = {
      matchLabels: { app: 'shop' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['web'] },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    };
    expect(matchesLabelSelector(sel, labels)).toBe(true);
    expect(matchesLabelSelector(sel, { ...labels, canary: 'yes' })).toBe(false);
    expect(matchesLabelSelector(sel, { ...labels, app: 'blog' })).toBe(false);
  });

  it('matches nothing for an unknown operator, so a bad selector never widens the selection', () => {
    const sel = { matchExpressions: [{ key: 'tier', operator: 'Equals', values: ['web'] }] };
    expect(matchesLabelSelector(sel, labels)).toBe(false);
  });

  it('does not treat inherited object properties as labels', () => {
    const sel = { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] };
    expect(matchesLabelSelector(sel, {})).toBe(false);
  });
});

describe('selectorProblem', () => {
  it('accepts well-formed selectors', () => {
    expect(selectorProblem({})).toBeNull();
    expect(
      selectorProblem({
        matchLabels: { a: 'b' },
        matchExpressions: [
          { key: 'x', operator: 'In', values: ['1'] },
          { key: 'y', operator: 'Exists' },
        ],
      }),
    ).toBeNull();
  });

  it('names the expression with an unknown operator', () => {
    expect(selectorProblem({ matchExpressions: [{ key: 'x', operator: 'Exists' }, { key: 'y', operator: 'Equals' }] })).toBe(
      'matchExpressions[1].operator: "Equals" is not one of In, NotIn, Exists, DoesNotExist',
    );
  });

  it('requires values for In and NotIn, and none for Exists and DoesNotExist', () => {
    expect(selectorProblem({ matchExpressions: [{ key: 'x', operator: 'In', values: [] }] })).toMatch(/values: must be non-empty/);
    expect(selectorProblem({ matchExpressions: [{ key: 'x', operator: 'NotIn' }] })).toMatch(/values: must be non-empty/);
    expect(selectorProblem({ matchExpressions: [{ key: 'x', operator: 'Exists', values: ['a'] }] })).toMatch(/values: must be empty/);
  });

  it('requires a key', () => {
    expect(selectorProblem({ matchExpressions: [{ key: '', operator: 'Exists' }] })).toBe('matchExpressions[0].key: must not be empty');
  });
});

describe('isEnabledWorkload', () => {
  it('accepts only the label runner.stakater.com/enable with the exact value "true"', () => {
    expect(isEnabledWorkload({ 'runner.stakater.com/enable': 'true' })).toBe(true);
    expect(isEnabledWorkload({ 'runner.stakater.com/enable': 'True' })).toBe(false);
    expect(isEnabledWorkload({ 'runner.stakater.com/enable': 'yes' })).toBe(false);
    expect(isEnabledWorkload({ 'runner.stakater.com/enable': '' })).toBe(false);
    expect(isEnabledWorkload({ app: 'shop' })).toBe(false);
    expect(isEnabledWorkload(undefined)).toBe(false);
  });
});

describe('selectorKeyValues', () => {
  it('returns the matchLabels pairs sorted by key', () => {
    expect(selectorKeyValues({ matchLabels: { tier: 'web', app: 'shop' } })).toEqual([
      ['app', 'shop'],
      ['tier', 'web'],
    ]);
  });

  it('returns no pairs for a selector that must be checked against every object', () => {
    expect(selectorKeyValues({})).toEqual([]);
    expect(selectorKeyValues(undefined)).toEqual([]);
    expect(selectorKeyValues({ matchExpressions: [{ key: 'app', operator: 'In', values: ['shop'] }] })).toEqual([]);
  });

  it('returns pairs that every matching object carries', () => {
    const selector = { matchLabels: { app: 'shop', tier: 'web' }, matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] };
    const labels = { app: 'shop', tier: 'web', other: '1' };
    expect(matchesLabelSelector(selector, labels)).toBe(true);
    for (const [key, value] of selectorKeyValues(selector)) expect(labels[key as keyof typeof labels]).toBe(value);
  });
});

import { describe, expect, it } from 'vitest';
import { findCycles } from '../../src/runner/selection/cycles.ts';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

describe('findCycles', () => {
  it('finds nothing in a chain or a fan-in', () => {
    expect(findCycles(graph({ a: [], b: ['a'], c: ['b'], d: ['a', 'b', 'c'] }))).toEqual([]);
  });

  it('reports a Runner that selects itself as a cycle of one', () => {
    expect(findCycles(graph({ a: ['a'], b: ['a'] }))).toEqual([['a']]);
  });

  it('reports a three-Runner loop once, with every member', () => {
    expect(findCycles(graph({ a: ['c'], b: ['a'], c: ['b'], d: ['a'] }))).toEqual([['a', 'b', 'c']]);
  });

  it('reports separate loops separately', () => {
    const cycles = findCycles(graph({ a: ['b'], b: ['a'], c: ['d'], d: ['c'] }));
    expect(cycles.sort()).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('handles a chain of 20,000 Runners without overflowing the stack', () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 20_000; i++) edges[`r${i}`] = i === 0 ? [] : [`r${i - 1}`];
    expect(findCycles(graph(edges))).toEqual([]);
    edges.r0 = ['r19999'];
    expect(findCycles(graph(edges))[0]).toHaveLength(20_000);
  });
});

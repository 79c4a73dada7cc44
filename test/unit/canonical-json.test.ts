import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/runner/canonical-json.ts';

/** The specification, written recursively: keys sorted, null and absent fields dropped, Dates as ISO text. */
function reference(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((item) => reference(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

describe('canonicalJson', () => {
  it('writes one text per value, whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: null, c: 'x' }] })).toBe('{"a":[2,{"c":"x"}],"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson({ at: new Date('2026-01-02T03:04:05Z'), gone: undefined })).toBe('{"at":"2026-01-02T03:04:05.000Z"}');
    expect(canonicalJson([undefined, null])).toBe('[null,null]');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('agrees with the recursive definition on any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => canonicalJson(value) === reference(value)), { seed: 1, numRuns: 500 });
  });

  it('copes with values nested as deep as the API server accepts (10,000 levels), objects and lists alike', () => {
    let deepObject: unknown = 'leaf';
    let deepList: unknown = 'leaf';
    for (let i = 0; i < 10_000; i += 1) {
      deepObject = { a: deepObject };
      deepList = [deepList];
    }
    expect(canonicalJson(deepObject)).toBe(`${'{"a":'.repeat(10_000)}"leaf"${'}'.repeat(10_000)}`);
    expect(canonicalJson(deepList)).toBe(`${'['.repeat(10_000)}"leaf"${']'.repeat(10_000)}`);
  });
});

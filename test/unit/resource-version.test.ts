// Resource versions compared as KEP-5504 defines them; anything else is not comparable.
import { describe, expect, it } from 'vitest';
import { compareResourceVersions } from '../../src/k8s/resource-version.ts';

describe('compareResourceVersions', () => {
  it('orders positive integers by value, however long', () => {
    expect(compareResourceVersions('9', '10')).toBe(-1);
    expect(compareResourceVersions('10', '9')).toBe(1);
    expect(compareResourceVersions('123456789012345678901234567890', '123456789012345678901234567891')).toBe(-1);
    expect(compareResourceVersions('42', '42')).toBe(0);
  });

  it('refuses to compare what is not a well-formed version: zero, leading zeros, empty, opaque', () => {
    for (const bad of ['0', '010', '', 'abc', '-1', '1.5', ' 1']) {
      expect(compareResourceVersions(bad, '5'), bad).toBeNull();
      expect(compareResourceVersions('5', bad), bad).toBeNull();
    }
  });
});

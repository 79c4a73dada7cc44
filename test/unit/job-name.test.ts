import { describe, expect, it } from 'vitest';
import { jobNameFor, MAX_JOB_NAME_LENGTH, sanitizeNamePrefix, shortHash } from '../../src/runner/job-name.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('shortHash', () => {
  it('is 10 hex digits by default and the same for the same text', () => {
    expect(shortHash('abc')).toMatch(/^[0-9a-f]{10}$/);
    expect(shortHash('abc')).toBe(shortHash('abc'));
  });

  it('is the start of the SHA-256 digest', () => {
    // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    expect(shortHash('abc', 16)).toBe('ba7816bf8f01cfea');
  });

  it('differs for different text', () => {
    expect(shortHash('revision:a')).not.toBe(shortHash('revision:b'));
  });

  it('clamps the length to what a SHA-256 digest has', () => {
    expect(shortHash('abc', 0)).toHaveLength(1);
    expect(shortHash('abc', 100)).toHaveLength(64);
  });
});

describe('sanitizeNamePrefix', () => {
  it('lowercases and turns runs of invalid characters into one dash', () => {
    expect(sanitizeNamePrefix('My_Runner..E2E')).toBe('my-runner-e2e');
  });

  it('trims dashes from both ends', () => {
    expect(sanitizeNamePrefix('--smoke--')).toBe('smoke');
    expect(sanitizeNamePrefix('_smoke.')).toBe('smoke');
  });

  it('keeps a valid name unchanged', () => {
    expect(sanitizeNamePrefix('my-generic-runner')).toBe('my-generic-runner');
  });
});

describe('jobNameFor', () => {
  it('gives the same name for the same prefix and run key, so a restart or retry cannot create a second Job', () => {
    expect(jobNameFor('my-runner', 'revision:abc')).toBe(jobNameFor('my-runner', 'revision:abc'));
  });

  it('gives different names for different run keys', () => {
    expect(jobNameFor('my-runner', 'revision:abc')).not.toBe(jobNameFor('my-runner', 'revision:abd'));
    expect(jobNameFor('my-runner', 'schedule:2024-05-01T12:00:00.000Z')).not.toBe(
      jobNameFor('my-runner', 'schedule:2024-05-01T12:01:00.000Z'),
    );
  });

  it('reads as the prefix, a dash and a 10-digit hash', () => {
    expect(jobNameFor('my-runner', 'k')).toMatch(/^my-runner-[0-9a-f]{10}$/);
  });

  it('keeps a 200-character prefix within 63 valid characters', () => {
    const name = jobNameFor('a'.repeat(200), 'revision:abc');
    expect(name.length).toBeLessThanOrEqual(MAX_JOB_NAME_LENGTH);
    expect(name).toMatch(DNS1123_LABEL);
  });

  it('never leaves a double dash where truncation cuts the prefix after a dash', () => {
    // 51 letters then a dash at position 52: a cut at 52 characters would end in '-'.
    const name = jobNameFor(`${'a'.repeat(51)}-bbbbbbbb`, 'k');
    expect(name).not.toContain('--');
    expect(name).toMatch(DNS1123_LABEL);
  });

  it('sanitises an invalid prefix into a DNS-1123 label', () => {
    for (const prefix of ['My.Runner', '_x_', 'UPPER CASE', '-lead', 'trail-', 'ünïcode', '123']) {
      const name = jobNameFor(prefix, 'k');
      expect(name, prefix).toMatch(DNS1123_LABEL);
      expect(name.length, prefix).toBeLessThanOrEqual(MAX_JOB_NAME_LENGTH);
    }
  });

  it('falls back to "run" when nothing of the prefix survives sanitising', () => {
    expect(jobNameFor('...', 'k')).toMatch(/^run-[0-9a-f]{10}$/);
    expect(jobNameFor('', 'k')).toMatch(/^run-[0-9a-f]{10}$/);
  });

  it('distinguishes prefixes that sanitise or truncate to the same text', () => {
    expect(jobNameFor('A_b', 'k')).not.toBe(jobNameFor('a-b', 'k'));
    expect(jobNameFor(`${'x'.repeat(100)}1`, 'k')).not.toBe(jobNameFor(`${'x'.repeat(100)}2`, 'k'));
  });
});

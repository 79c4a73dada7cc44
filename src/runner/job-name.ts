// Deterministic Job names (SPEC §4): the name is a pure function of the Runner's prefix and the run,
// so a retry or an operator restart computes the same name and the API server's 409 on create tells
// us the run's Job already exists. A second Job for the same run cannot be created.
import { createHash } from 'node:crypto';

/** A Job's name ends up in its pods' `job-name` label, and a label value is at most 63 characters. */
export const MAX_JOB_NAME_LENGTH = 63;

const HASH_LENGTH = 10;
const FALLBACK_PREFIX = 'run';

/** The first `length` hex digits of the SHA-256 of `text` (1–64); 10 digits = 40 bits. */
export function shortHash(text: string, length = HASH_LENGTH): string {
  const digits = Math.min(64, Math.max(1, Math.trunc(length)));
  return createHash('sha256').update(text).digest('hex').slice(0, digits);
}

/**
 * The prefix as a DNS-1123 label fragment: lowercase, every run of other characters turned into
 * one '-', no '-' at either end. May be empty (e.g. a prefix of only symbols).
 */
export function sanitizeNamePrefix(prefix: string): string {
  return prefix
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * `<prefix>-<hash>`, a valid DNS-1123 label of at most 63 characters.
 *
 * The hash covers the *unsanitised* prefix and the run key, so prefixes that sanitise or truncate
 * to the same text still get different names. The run key must identify the run within the
 * namespace: two Runners that share a `jobName` need the Runner's identity in their keys.
 */
export function jobNameFor(prefix: string, runKey: string): string {
  const hash = shortHash(`${prefix}\n${runKey}`, HASH_LENGTH);
  const room = MAX_JOB_NAME_LENGTH - HASH_LENGTH - 1;
  // Truncating can leave a trailing '-' ("a-b" cut after "a-"), which would double up with ours.
  const head = sanitizeNamePrefix(prefix).slice(0, room).replace(/-+$/, '') || FALLBACK_PREFIX;
  return `${head}-${hash}`;
}

// Resource versions of one resource are comparable (KEP-5504, stable since Kubernetes 1.35): positive decimal
// integers without leading zeros, the larger the newer. A server that still serves opaque ones is met with null.

const WELL_FORMED = /^[1-9][0-9]*$/;

/** -1, 0 or 1 as `a` is older than, the same as or newer than `b`; null when either is not comparable. */
export function compareResourceVersions(a: string, b: string): -1 | 0 | 1 | null {
  if (!WELL_FORMED.test(a) || !WELL_FORMED.test(b)) return null;
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

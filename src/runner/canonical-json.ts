// One JSON text per value, whatever its key order: for hashing (revisions, pod templates) and
// for telling whether a status changed. Absent and null fields are the same; Dates are ISO text
// (client-node's typed lists give Dates where watch events give strings).
//
// Iterative, with a stack of its own: a Runner's template may hold unknown fields nested as deep as
// the API server decodes (10,000 levels), far deeper than the JavaScript call stack allows.
type Work = { value: unknown } | string;

export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const work: Work[] = [{ value }];
  while (work.length > 0) {
    const item = work.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    const v = item.value;
    if (v instanceof Date) {
      out.push(JSON.stringify(v.toISOString()));
    } else if (Array.isArray(v)) {
      // Pushed in reverse: the first element is popped (written) first.
      out.push('[');
      work.push(']');
      for (let i = v.length - 1; i >= 0; i -= 1) {
        work.push({ value: v[i] ?? null });
        if (i > 0) work.push(',');
      }
    } else if (v !== null && typeof v === 'object') {
      const fields = Object.entries(v)
        .filter(([, f]) => f !== undefined && f !== null)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      out.push('{');
      work.push('}');
      for (let i = fields.length - 1; i >= 0; i -= 1) {
        const [key, field] = fields[i]!;
        work.push({ value: field });
        work.push(`${i > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      }
    } else {
      out.push(JSON.stringify(v) ?? 'null');
    }
  }
  return out.join('');
}

/**
 * Equal as JSON whatever the order of their keys; absent and null alike. canonicalJson, not JSON.stringify: it does not
 * recurse, so no Runner is too deeply nested to compare.
 */
export const sameJson = (a: unknown, b: unknown): boolean => canonicalJson(a ?? null) === canonicalJson(b ?? null);

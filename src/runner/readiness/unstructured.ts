// Reading fields of an object of any kind as Kubernetes' Go libraries read them (apimachinery's
// `unstructured` helpers and its converter), so that src/runner/readiness/kstatus.ts judges an object exactly as the
// kstatus library does. Objects arrive as JSON: a number is a Go int64 when it is whole and fits,
// otherwise a float64; a field that holds the wrong type is an error, an absent one is not found.

/** A field that exists but holds another type than the reader needs: kstatus then cannot judge the object. */
export class FieldTypeError extends Error {
  override readonly name = 'FieldTypeError';
}

export type JsonMap = Record<string, unknown>;

export const isMap = (value: unknown): value is JsonMap => typeof value === 'object' && value !== null && !Array.isArray(value);

const INT64_LIMIT = 2 ** 63;

/** Whether Go's JSON decoding (as client-go does it) makes this number an int64. */
export const isInt64 = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= -INT64_LIMIT && value < INT64_LIMIT;

const goType = (value: unknown): string => {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return isInt64(value) ? 'int64' : 'float64';
  return Array.isArray(value) ? '[]interface {}' : 'map[string]interface {}';
};

export interface Lookup {
  found: boolean;
  value: unknown;
}

/** NestedFieldNoCopy: a null or absent step is "not found"; a step through a non-object is an error. */
export function nestedField(object: JsonMap, path: readonly string[]): Lookup {
  let value: unknown = object;
  for (const [i, field] of path.entries()) {
    if (value === null || value === undefined) return { found: false, value: undefined };
    if (!isMap(value)) throw new FieldTypeError(`.${path.slice(0, i + 1).join('.')} accessor error: the value is of the type ${goType(value)}, expected map[string]interface{}`);
    if (!Object.hasOwn(value, field) || value[field] === undefined) return { found: false, value: undefined };
    value = value[field];
  }
  return { found: true, value };
}

/** NestedInt64: found but not an int64 (null included) is an error. */
export function nestedInt64(object: JsonMap, path: readonly string[]): { found: boolean; value: number } {
  const { found, value } = nestedField(object, path);
  if (!found) return { found: false, value: 0 };
  if (!isInt64(value)) throw new FieldTypeError(`.${path.join('.')} accessor error: the value is of the type ${goType(value)}, expected int64`);
  return { found: true, value };
}

/** NestedString: found but not a string (null included) is an error. */
export function nestedString(object: JsonMap, path: readonly string[]): { found: boolean; value: string } {
  const { found, value } = nestedField(object, path);
  if (!found) return { found: false, value: '' };
  if (typeof value !== 'string') throw new FieldTypeError(`.${path.join('.')} accessor error: the value is of the type ${goType(value)}, expected string`);
  return { found: true, value };
}

/** A string field, or `fallback` when it is absent, of another type, or cannot be reached. */
export function stringField(object: JsonMap, path: readonly string[], fallback: string): string {
  try {
    const { found, value } = nestedField(object, path);
    return found && typeof value === 'string' ? value : fallback;
  } catch {
    return fallback;
  }
}

/** An int64 field, or `fallback` when it is absent, of another type, or cannot be reached. */
export function intField(object: JsonMap, path: readonly string[], fallback: number): number {
  try {
    const { found, value } = nestedField(object, path);
    return found && isInt64(value) ? value : fallback;
  } catch {
    return fallback;
  }
}

export interface BasicCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

const CONDITION_FIELDS = ['type', 'status', 'reason', 'message'] as const;

/**
 * `status.conditions` decoded into {type, status, reason, message} as apimachinery's converter does:
 * null or absent parts are empty, and a part of the wrong shape (a status that is not an object,
 * conditions that are not a list, a condition field that is not a string) is an error.
 */
export function conditionsOf(object: JsonMap): BasicCondition[] {
  const status = object.status;
  if (status === null || status === undefined) return [];
  if (!isMap(status)) throw new FieldTypeError(`status: cannot restore struct from ${goType(status)}`);
  const list = status.conditions;
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) throw new FieldTypeError(`status.conditions: cannot restore slice from ${goType(list)}`);
  return list.map((item: unknown, index) => {
    const condition: BasicCondition = { type: '', status: '', reason: '', message: '' };
    if (item === null || item === undefined) return condition;
    if (!isMap(item)) throw new FieldTypeError(`status.conditions[${index}]: cannot restore struct from ${goType(item)}`);
    for (const field of CONDITION_FIELDS) {
      const value = item[field];
      if (value === null || value === undefined) continue;
      if (typeof value !== 'string') throw new FieldTypeError(`status.conditions[${index}].${field}: cannot convert ${goType(value)} to string`);
      condition[field] = value;
    }
    return condition;
  });
}

/** The group of an apiVersion as Go parses it: "" for the core group, null when it is malformed (two slashes). */
export function groupOf(apiVersion: string): string | null {
  if (apiVersion === '' || apiVersion === '/') return '';
  const slashes = apiVersion.split('/').length - 1;
  if (slashes === 0) return '';
  return slashes === 1 ? apiVersion.slice(0, apiVersion.indexOf('/')) : null;
}

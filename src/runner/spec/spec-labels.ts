// Label keys and values, labels and annotations, and label selectors, checked as the API server checks them on any
// object: for the selectors of a Runner, and for its pod template's metadata (which the Job API would otherwise refuse).
import { isRecord, problem, quoted, type Problems } from './spec-problem.ts';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
// What the API server allows for an object's annotations together (keys and values).
const ANNOTATIONS_MAX_BYTES = 256 * 1024;

// The Job API refuses a pod template whose labels or annotations the API server would refuse on any object.
export function checkPodMetadata(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [problem(field, 'must be an object (labels, annotations)')];
  return [...checkLabels(value.labels, `${field}.labels`), ...checkAnnotations(value.annotations, `${field}.annotations`)];
}

export function checkLabels(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [problem(field, 'must be a map of label keys to values')];
  return Object.entries(value).flatMap(([key, labelValue]) => [
    ...checkLabelKey(key, `${field}[${key}]`),
    ...checkLabelValue(labelValue, `${field}[${key}]`),
  ]);
}

function checkAnnotations(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [problem(field, 'must be a map of annotation keys to string values')];
  const out: Problems = Object.entries(value).flatMap(([key, text]) => [
    ...checkLabelKey(key, `${field}[${key}]`).map((p) => ({ ...p, message: p.message.replace('label key', 'annotation key') })),
    ...(typeof text === 'string' ? [] : [problem(`${field}[${key}]`, `must be a string, got ${quoted(text)}`)]),
  ]);
  const bytes = Object.entries(value).reduce((n, [k, v]) => n + Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0), 0);
  if (bytes > ANNOTATIONS_MAX_BYTES) out.push(problem(field, `are ${bytes} bytes together; at most ${ANNOTATIONS_MAX_BYTES} are allowed`));
  return out;
}

// A label key is an optional DNS subdomain prefix and "/" followed by a name of at most 63 characters.
export function checkLabelKey(value: unknown, field: string): Problems {
  const bad = (why: string) => [problem(field, `${quoted(value)} is not a valid label key: ${why}`)];
  if (typeof value !== 'string' || value === '') return bad('it must be a non-empty string');
  const slash = value.lastIndexOf('/');
  const prefix = slash >= 0 ? value.slice(0, slash) : undefined;
  const name = value.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    return bad('the prefix must be a DNS subdomain such as "example.com"');
  }
  if (name.length > 63 || !LABEL_NAME.test(name)) {
    return bad('the name must be at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric');
  }
  return [];
}

export function checkLabelValue(value: unknown, field: string): Problems {
  if (typeof value === 'string' && (value === '' || (value.length <= 63 && LABEL_NAME.test(value)))) return [];
  return [
    problem(field, `${quoted(value)} is not a valid label value (at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric)`),
  ];
}

const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export function checkSelector(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [problem(field, 'must be a label selector object (matchLabels, matchExpressions)')];
  return [
    ...checkLabels(value.matchLabels, `${field}.matchLabels`),
    ...checkMatchExpressions(value.matchExpressions, `${field}.matchExpressions`),
  ];
}

function checkMatchExpressions(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return [problem(field, 'must be a list of {key, operator, values}')];
  return value.flatMap((expression: unknown, index) => checkRequirement(expression, `${field}[${index}]`));
}

function checkRequirement(value: unknown, field: string): Problems {
  if (!isRecord(value)) return [problem(field, 'must be an object {key, operator, values}')];
  const { key, operator, values } = value;
  const out: Problems = [...checkLabelKey(key, `${field}.key`)];
  const valueList = values === undefined || values === null ? [] : values;
  if (!Array.isArray(valueList)) return [...out, problem(`${field}.values`, 'must be a list of strings')];

  if (typeof operator !== 'string' || !SELECTOR_OPERATORS.includes(operator)) {
    out.push(problem(`${field}.operator`, `${quoted(operator)} is not a valid operator (use ${SELECTOR_OPERATORS.join(', ')})`));
  } else if ((operator === 'In' || operator === 'NotIn') && valueList.length === 0) {
    out.push(problem(`${field}.values`, `must list at least one value for operator ${operator}`));
  } else if ((operator === 'Exists' || operator === 'DoesNotExist') && valueList.length > 0) {
    out.push(problem(`${field}.values`, `must be empty for operator ${operator}`));
  }
  valueList.forEach((item: unknown, index) => out.push(...checkLabelValue(item, `${field}.values[${index}]`)));
  return out;
}

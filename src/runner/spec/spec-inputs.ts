// The inputs beyond workloads and upstreams (SPEC §2.3), checked without I/O: `spec.resources` (objects of any
// kind, ready by kstatus or by a readyWhen CEL expression) and `spec.probes` (HTTP endpoints). Whether a kind is
// served, readable, or a probe's address allowed depends on the cluster and the operator's settings, and is
// reported in status at run time, not here.
import { compileReadyWhen } from '../readiness/ready-when.ts';
import { checkSelector } from './spec-labels.ts';
import { isRecord, problem, quoted, type Problems } from './spec-problem.ts';

export const MAX_RESOURCES = 16;
export const MAX_PROBES = 16;
export const MAX_PROBE_TIMEOUT_SECONDS = 60;
export const MAX_PROBE_PERIOD_SECONDS = 3600;
export const MAX_PROBE_URL_LENGTH = 2048;

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const KIND = /^[A-Za-z][A-Za-z0-9]*$/;
// RFC 9110 field names (tokens); a value may hold neither CR nor LF, which would end the header.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `v1` or `group/version`, as the API server names a kind's API. */
export function apiVersionProblem(value: string): string | undefined {
  const parts = value.split('/');
  if (parts.length > 2) return 'has more than one "/" (expected "version" or "group/version", e.g. "helm.toolkit.fluxcd.io/v2")';
  const version = parts.at(-1)!;
  const group = parts.length === 2 ? parts[0]! : '';
  if (parts.length === 2 && (group.length > 253 || !DNS1123_SUBDOMAIN.test(group))) return `has a group ${quoted(group)} that is not a DNS subdomain`;
  if (version.length > 63 || !DNS1035_LABEL.test(version)) return `has a version ${quoted(version)} that is not a version name such as "v1" or "v2beta1"`;
  return undefined;
}

export function checkResources(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return [problem(field, 'must be a list of {apiVersion, kind, selector, readyWhen}')];
  if (value.length > MAX_RESOURCES) return [problem(field, `lists ${value.length} entries; at most ${MAX_RESOURCES}`)];
  return value.flatMap((entry: unknown, index) => checkResource(entry, `${field}[${index}]`));
}

function checkResource(value: unknown, field: string): Problems {
  if (!isRecord(value)) return [problem(field, 'must be an object {apiVersion, kind, selector, readyWhen}')];
  const out: Problems = [];
  const { apiVersion, kind, selector, readyWhen } = value;
  if (typeof apiVersion !== 'string' || apiVersion === '') out.push(problem(`${field}.apiVersion`, 'is required, e.g. "helm.toolkit.fluxcd.io/v2"'));
  else {
    const why = apiVersionProblem(apiVersion);
    if (why) out.push(problem(`${field}.apiVersion`, `${quoted(apiVersion)} ${why}`));
  }
  if (typeof kind !== 'string' || kind === '') out.push(problem(`${field}.kind`, 'is required, e.g. "HelmRelease"'));
  else if (kind.length > 63 || !KIND.test(kind)) out.push(problem(`${field}.kind`, `${quoted(kind)} is not a kind name (letters and digits, starting with a letter)`));
  if (selector === undefined || selector === null) out.push(problem(`${field}.selector`, 'is required: a label selector ({} selects every enabled object of the kind)'));
  else out.push(...checkSelector(selector, `${field}.selector`));
  if (readyWhen !== undefined && readyWhen !== null) {
    if (typeof readyWhen !== 'string') out.push(problem(`${field}.readyWhen`, `must be a CEL expression string, got ${quoted(readyWhen)}`));
    else {
      const compiled = compileReadyWhen(readyWhen);
      if (!compiled.ok) out.push(problem(`${field}.readyWhen`, `${quoted(readyWhen)} ${compiled.problem}`));
    }
  }
  return out;
}

export function checkProbes(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return [problem(field, 'must be a list of {name, http: {url, expectStatus, headers}, timeoutSeconds, periodSeconds}')];
  if (value.length > MAX_PROBES) return [problem(field, `lists ${value.length} probes; at most ${MAX_PROBES}`)];
  const seen = new Set<string>();
  return value.flatMap((probe: unknown, index) => {
    const at = `${field}[${index}]`;
    const out = checkProbe(probe, at);
    const name = isRecord(probe) ? probe.name : undefined;
    if (typeof name === 'string' && seen.has(name)) out.push(problem(`${at}.name`, `${quoted(name)} is the name of another probe`));
    if (typeof name === 'string') seen.add(name);
    return out;
  });
}

function checkProbe(value: unknown, field: string): Problems {
  if (!isRecord(value)) return [problem(field, 'must be an object {name, http, timeoutSeconds, periodSeconds}')];
  const out: Problems = [];
  const { name, http, timeoutSeconds, periodSeconds } = value;
  if (typeof name !== 'string' || name === '') out.push(problem(`${field}.name`, 'is required'));
  else if (name.length > 63 || !DNS1123_LABEL.test(name)) out.push(problem(`${field}.name`, `${quoted(name)} must be a DNS-1123 label (lower-case letters, digits, "-"; at most 63)`));
  if (!isRecord(http)) out.push(problem(`${field}.http`, 'is required: {url, expectStatus, headers}'));
  else out.push(...checkUrl(http.url, `${field}.http.url`), ...checkExpectStatus(http.expectStatus, `${field}.http.expectStatus`), ...checkHeaders(http.headers, `${field}.http.headers`));
  out.push(...checkSeconds(timeoutSeconds, `${field}.timeoutSeconds`, MAX_PROBE_TIMEOUT_SECONDS));
  out.push(...checkSeconds(periodSeconds, `${field}.periodSeconds`, MAX_PROBE_PERIOD_SECONDS));
  return out;
}

function checkUrl(value: unknown, field: string): Problems {
  return checkHttpUrl(value, field, { example: 'http://checkout.shop.svc:8080/healthz', credentials: 'put them in http.headers (status shows the URL)', maxLength: MAX_PROBE_URL_LENGTH });
}

/**
 * An absolute http or https URL with no credentials in it, at most `maxLength` characters. `quote: false` for a value
 * that must not appear in a message (one read from a Secret).
 */
export function checkHttpUrl(value: unknown, field: string, how: { example?: string; credentials: string; maxLength: number; quote?: boolean }): Problems {
  const shown = how.quote === false ? '' : `${quoted(value)} `;
  if (typeof value !== 'string' || value === '') return [problem(field, how.example ? `is required, e.g. "${how.example}"` : 'must be an http or https URL')];
  if (value.length > how.maxLength) return [problem(field, `is ${value.length} characters long; at most ${how.maxLength}`)];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [problem(field, `${shown}is not an absolute URL`)];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return [problem(field, `${shown}must be an http or https URL`)];
  if (url.username || url.password) return [problem(field, `${shown}carries credentials; ${how.credentials}`)];
  return [];
}

function checkExpectStatus(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length === 0) return [problem(field, 'must list at least one HTTP status code, e.g. [200, 204]')];
  return value.flatMap((code: unknown, index) =>
    typeof code === 'number' && Number.isInteger(code) && code >= 100 && code <= 599 ? [] : [problem(`${field}[${index}]`, `${quoted(code)} is not an HTTP status code (100–599)`)],
  );
}

function checkHeaders(value: unknown, field: string): Problems {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return [problem(field, 'must be a map of header names to values')];
  return Object.entries(value).flatMap(([name, text]): Problems => {
    if (!HEADER_NAME.test(name)) return [problem(`${field}[${name}]`, `${quoted(name)} is not an HTTP header name`)];
    if (typeof text !== 'string') return [problem(`${field}[${name}]`, `must be a string, got ${quoted(text)}`)];
    if (/[\r\n\0]/.test(text)) return [problem(`${field}[${name}]`, 'must not contain line breaks')];
    return [];
  });
}

function checkSeconds(value: unknown, field: string, max: number): Problems {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [problem(field, `${quoted(value)} must be a whole number of seconds`)];
  if (value < 1 || value > max) return [problem(field, `${value} must be between 1 and ${max}`)];
  return [];
}

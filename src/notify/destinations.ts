// A Destination made usable: its spec checked, its Secret read (address, token, ca.crt), its address checked against
// the guard. Read when the Destination changes, again after RESOLVE_EVERY_MS (a rotated Secret is picked up without a
// watch of Secrets: the operator may only get the one a Destination names) and after the receiver answers 401 or 403.
// What it says about itself — Ready, and why not — is the Destination's status; nothing read from the Secret is ever
// put there.
import type { V1Condition } from '@kubernetes/client-node';
import { refusedLiteral } from '../net/address-guard.ts';
import type { Condition } from '../runner/kstatus-conditions.ts';
import { DESTINATION_DEFAULTS, SECRET_KEYS, type CloudEventsMode, type Destination, type DestinationType } from './api.ts';
import { originOf, type Target } from './sender.ts';
import { addressProblems, destinationProblems } from './validate.ts';

export const RESOLVE_EVERY_MS = 5 * 60_000;

export interface Resolved {
  type: DestinationType;
  mode: CloudEventsMode;
  target: Target;
  /** What status, Events and logs may say of where it delivers: the origin only. */
  origin: string;
}

export type Resolution = { ok: true; resolved: Resolved } | { ok: false; reason: 'InvalidSpec' | 'SecretNotFound' | 'SecretUnreadable' | 'SecretInvalid' | 'AddressRefused'; message: string };

/** The Secret's type and keys, decoded; null when there is no such Secret. */
export type SecretReader = (namespace: string, name: string) => Promise<{ type?: string; data: Record<string, string> } | null>;

/** Secrets that hold credentials of the cluster itself, never a destination's. */
const REFUSED_SECRET_TYPES = ['kubernetes.io/service-account-token', 'kubernetes.io/dockerconfigjson', 'kubernetes.io/dockercfg', 'kubernetes.io/tls', 'bootstrap.kubernetes.io/token'];

export async function resolveDestination(destination: Destination, readSecret: SecretReader, allowLocal: boolean): Promise<Resolution> {
  const problems = destinationProblems(destination.spec);
  if (problems.length > 0) return { ok: false, reason: 'InvalidSpec', message: problems.map((p) => p.message).join('; ') };
  const { spec } = destination;
  const namespace = destination.metadata.namespace ?? '';
  let secret: Record<string, string> = {};
  if (spec.secretRef) {
    const read = await readSecret(namespace, spec.secretRef.name);
    const where = `spec.secretRef.name: Secret ${namespace}/${spec.secretRef.name}`;
    if (!read) return { ok: false, reason: 'SecretNotFound', message: `spec.secretRef.name: no Secret ${namespace}/${spec.secretRef.name}` };
    if (read.type && REFUSED_SECRET_TYPES.includes(read.type)) return { ok: false, reason: 'SecretInvalid', message: `${where} is of type ${read.type}, which holds the cluster's credentials, not a destination's` };
    // Whoever may write a Destination but not read Secrets must not be able to send a Secret's token where they like.
    if (read.data[SECRET_KEYS.token] !== undefined && !read.data[SECRET_KEYS.address]?.trim()) {
      return { ok: false, reason: 'SecretInvalid', message: `${where} holds a "${SECRET_KEYS.token}" but no "${SECRET_KEYS.address}": a token is sent only to the address its own Secret gives` };
    }
    secret = read.data;
  }
  const fromSecret = secret[SECRET_KEYS.address]?.trim();
  const address = fromSecret || spec.address;
  if (!address) return { ok: false, reason: 'SecretInvalid', message: `spec.secretRef.name: Secret ${namespace}/${spec.secretRef?.name} has no key "${SECRET_KEYS.address}" and spec.address is not set` };
  const field = fromSecret ? `spec.secretRef.name: the key "${SECRET_KEYS.address}" of Secret ${namespace}/${spec.secretRef?.name}` : 'spec.address';
  const addressProblem = addressProblems(address, field, !fromSecret)[0];
  if (addressProblem) return { ok: false, reason: fromSecret ? 'SecretInvalid' : 'InvalidSpec', message: addressProblem.message };
  const url = new URL(address);
  const refused = allowLocal ? null : refusedLiteral(url);
  if (refused) return { ok: false, reason: 'AddressRefused', message: `${field}: ${refused}; destinations on loopback, link-local and metadata addresses are off` };
  const token = secret[SECRET_KEYS.token]?.trim();
  // A token is not sent in the clear; a local address, when those are allowed (tests, one machine), is exempt.
  const local = refusedLiteral(url) !== null || url.hostname === 'localhost';
  if (token && url.protocol !== 'https:' && !(allowLocal && local)) return { ok: false, reason: 'SecretInvalid', message: `${field}: a token is sent over https only` };
  const ca = secret[SECRET_KEYS.ca];
  return {
    ok: true,
    resolved: {
      type: spec.type,
      mode: spec.cloudEvents?.mode ?? DESTINATION_DEFAULTS.cloudEventsMode,
      target: { url, timeoutMs: (spec.timeoutSeconds ?? DESTINATION_DEFAULTS.timeoutSeconds) * 1000, allowLocal, ...(token ? { token } : {}), ...(ca ? { ca } : {}) },
      origin: originOf(url),
    },
  };
}

/** Base64 Secret data, decoded. */
export const decodeSecretData = (data: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

/** Failures in a row after which a Destination is said to be failing (a Warning Event, Ready=False). */
export const FAILING_AFTER = 3;

/** The Destination's Ready condition: usable and delivering, or why not. */
export function destinationReady(resolution: Resolution | null, failing: { streak: number; reason: string } | null): Condition {
  if (!resolution) return { type: 'Ready', status: 'Unknown', reason: 'Resolving', message: 'reading the Destination' };
  if (!resolution.ok) return { type: 'Ready', status: 'False', reason: resolution.reason, message: resolution.message };
  if (failing && failing.streak >= FAILING_AFTER) {
    return { type: 'Ready', status: 'False', reason: 'DeliveryFailing', message: `${failing.streak} deliveries in a row to ${resolution.resolved.origin} failed, the last: ${failing.reason}; retrying with backoff` };
  }
  return { type: 'Ready', status: 'True', reason: 'Ready', message: `delivers ${resolution.resolved.type} notices to ${resolution.resolved.origin}` };
}

/** Whether the conditions an object has already say what `next` says (a write would change nothing). */
export const conditionsSay = (current: V1Condition[] | undefined, next: Condition, generation: number | undefined, observed: number | undefined): boolean => {
  const c = current?.find((x) => x.type === next.type);
  return !!c && c.status === next.status && c.reason === next.reason && c.message === next.message && generation === observed;
};

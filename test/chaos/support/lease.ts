// Reading a leader-election Lease and the operator's writes from the audit log, for the
// leader-election fault tests.
import { CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { notLease, requestsBy, writes } from '../../integration/support/audit.ts';
import { OPERATOR_NAMESPACE, OPERATOR_USER } from '../../integration/support/identity.ts';
import { kc } from '../../integration/support/kube.ts';

const coordination = kc.makeApiClient(CoordinationV1Api);

/** A Lease of the operator's namespace, or of `namespace` (a chart installed in a release namespace). */
export async function readLease(name: string, namespace = OPERATOR_NAMESPACE): Promise<V1Lease | undefined> {
  return coordination.readNamespacedLease({ namespace, name }).catch(() => undefined);
}

export async function leaseHolder(name: string, namespace = OPERATOR_NAMESPACE): Promise<string | undefined> {
  return (await readLease(name, namespace))?.spec?.holderIdentity;
}

export const timeOf = (t: unknown): number => (t ? new Date(t as string | Date).getTime() : NaN);

/** When the operator's identity first wrote something in `namespace` at or after `since` (the Lease aside); NaN if never. */
export function firstWriteSince(since: number, namespace: string): number {
  const times = writes(requestsBy(OPERATOR_USER, new Date(since), namespace))
    .filter(notLease)
    .map((e) => Date.parse(e.requestReceivedTimestamp));
  return times.length > 0 ? Math.min(...times) : NaN;
}

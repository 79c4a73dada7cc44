// A Notification read for use: which Runners it hears (namespaces and selector), which happenings, to which
// Destination, and what is wrong with it, if anything. Pure.
import type { V1LabelSelector } from '@kubernetes/client-node';
import type { Runner } from '../api/runner.ts';
import { keyOf } from '../k8s/object-key.ts';
import type { Condition } from '../runner/kstatus-conditions.ts';
import { matchesLabelSelector } from '../runner/selection/selectors.ts';
import type { Happening, Notification } from './api.ts';
import type { Resolution } from './destinations.ts';
import { notificationProblems } from './validate.ts';

export interface Subscription {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  generation: number | undefined;
  /** When the Notification was created (ms). */
  createdAt: number;
  /** Since when it could send (ms): happenings from before — before it existed, while it was suspended or invalid — are never sent. */
  usableSince: number;
  events: ReadonlySet<Happening>;
  selector: V1LabelSelector | undefined;
  namespaces: readonly string[];
  destination: string;
  suspended: boolean;
  /** Why it sends nothing, if it cannot. */
  problem: { reason: 'InvalidSpec' | 'CrossNamespaceRefused'; message: string } | null;
}

export function subscriptionOf(n: Notification, crossNamespace: boolean): Subscription {
  const namespace = n.metadata.namespace ?? '';
  const name = n.metadata.name ?? '';
  const problems = notificationProblems(n.spec);
  const spec = problems.length === 0 ? n.spec : undefined;
  const namespaces = spec?.runners?.namespaces?.length ? [...new Set(spec.runners.namespaces)] : [namespace];
  const others = namespaces.filter((ns) => ns !== namespace);
  const problem = problems.length > 0
    ? { reason: 'InvalidSpec' as const, message: problems.map((p) => p.message).join('; ') }
    : others.length > 0 && !crossNamespace
      ? { reason: 'CrossNamespaceRefused' as const, message: `spec.runners.namespaces: ${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} not this Notification's namespace, and this operator lets a Notification hear only Runners of its own (HESTIA_NOTIFY_CROSS_NAMESPACE=true allows others)` }
      : null;
  return {
    key: keyOf(namespace, name),
    namespace,
    name,
    uid: n.metadata.uid ?? '',
    generation: n.metadata.generation,
    createdAt: createdAtOf(n),
    usableSince: createdAtOf(n),
    events: new Set(spec?.events ?? []),
    selector: spec?.runners?.selector,
    namespaces,
    destination: keyOf(namespace, String((n.spec as { destinationRef?: { name?: unknown } } | undefined)?.destinationRef?.name ?? '')),
    suspended: spec?.suspend === true,
    problem,
  };
}

const createdAtOf = (n: Notification): number => {
  const t: unknown = n.metadata.creationTimestamp;
  return (t instanceof Date ? t.getTime() : Date.parse(String(t ?? ''))) || 0;
};

/**
 * Since when a Notification seen for the first time has been able to send, as far as its status tells: since its
 * Ready condition last became True, when an operator before this one wrote it so; from now if that operator found it
 * suspended or invalid (what happened meanwhile is not sent later); else since its creation — so that an operator that
 * starts neither loses what was due nor sends what was not.
 */
export function sendingSince(n: Notification, createdAt: number, now: number): number {
  const sending = n.status?.conditions?.find((c) => c.type === 'Sending');
  if (!sending) return createdAt;
  if (sending.status !== 'True') return now;
  const t: unknown = sending.lastTransitionTime;
  return Math.max(createdAt, (t instanceof Date ? t.getTime() : Date.parse(String(t ?? ''))) || 0);
}

/**
 * The Notification's Sending condition: whether it sends at all (not suspended, nothing wrong with its spec), its
 * lastTransitionTime the moment it began to — what an operator that starts reads as `usableSince` (sendingSince).
 * Unlike Ready it does not follow its Destination.
 */
export function sendingCondition(s: Subscription): Condition {
  if (s.problem) return { type: 'Sending', status: 'False', reason: s.problem.reason, message: 'nothing is sent until the spec is fixed' };
  if (s.suspended) return { type: 'Sending', status: 'False', reason: 'Suspended', message: 'spec.suspend is true: nothing is sent, nor later' };
  return { type: 'Sending', status: 'True', reason: 'Sending', message: 'what happens from lastTransitionTime on is sent' };
}

/** Whether it sends anything at all (its Sending condition). */
export const usable = (s: Subscription): boolean => s.problem === null && !s.suspended;

/** Whether it hears this Runner (its namespace is one it names, its labels match). */
export const hears = (s: Subscription, runner: Runner): boolean =>
  s.namespaces.includes(runner.metadata.namespace ?? '') && (s.selector === undefined || matchesLabelSelector(s.selector, runner.metadata.labels));

/** The Notification's Ready condition. */
export function notificationReady(s: Subscription, destination: { exists: boolean; resolution: Resolution | null }): Condition {
  if (s.problem) return { type: 'Ready', status: 'False', reason: s.problem.reason, message: s.problem.message };
  const destName = s.destination.slice(s.namespace.length + 1);
  if (!destination.exists) return { type: 'Ready', status: 'False', reason: 'DestinationNotFound', message: `spec.destinationRef.name: no Destination ${s.destination}` };
  if (destination.resolution && !destination.resolution.ok) {
    return { type: 'Ready', status: 'False', reason: 'DestinationNotReady', message: `Destination ${destName} cannot deliver: ${destination.resolution.message}` };
  }
  if (s.suspended) return { type: 'Ready', status: 'False', reason: 'Suspended', message: 'spec.suspend is true: nothing is sent' };
  const who = s.selector ? `Runners matching spec.runners.selector` : 'every Runner';
  return { type: 'Ready', status: 'True', reason: 'Ready', message: `sends ${[...s.events].join(', ')} of ${who} in ${s.namespaces.join(', ')} to Destination ${destName}` };
}

// The two resources that say who hears of runs (README "Notifications"): a Destination (where: a CloudEvents
// receiver, a JSON webhook, a Slack or Microsoft Teams incoming webhook, with its address and token in a Secret) and
// a Notification (what: which Runners, which happenings, to which Destination of its own namespace). Both namespaced,
// so a team configures its own without cluster rights. Written once, used everywhere.
import type { V1Condition, V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/runner.ts';

export const DESTINATION_KIND = 'Destination';
export const DESTINATION_PLURAL = 'destinations';
export const NOTIFICATION_KIND = 'Notification';
export const NOTIFICATION_PLURAL = 'notifications';
export const NOTIFY_API_VERSION = `${GROUP}/${VERSION}`;

export const DESTINATION_TYPES = ['CloudEvents', 'Webhook', 'Slack', 'MSTeams'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

export const CLOUDEVENTS_MODES = ['Binary', 'Structured'] as const;
export type CloudEventsMode = (typeof CLOUDEVENTS_MODES)[number];

/** The keys a Destination's Secret may hold. */
export const SECRET_KEYS = { address: 'address', token: 'token', ca: 'ca.crt' } as const;

export interface DestinationSpec {
  type: DestinationType;
  /** Where to POST; absent when the Secret's `address` holds it (a Slack webhook's URL is itself a secret). */
  address?: string;
  /** A Secret of the Destination's namespace: `address` (overrides spec.address), `token` (sent as a Bearer token), `ca.crt` (PEM, trusted besides the system's CAs). */
  secretRef?: { name: string };
  cloudEvents?: { mode?: CloudEventsMode };
  /** How long one delivery may take (default 10, 1–60). */
  timeoutSeconds?: number;
  /** Deliver nothing; what is due is dropped, counted, not kept. */
  suspend?: boolean;
}

export interface DestinationStatus {
  observedGeneration?: number;
  conditions?: V1Condition[];
}

export interface Destination {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec: DestinationSpec;
  status?: DestinationStatus;
}

/**
 * What a Notification can subscribe to: the Event reasons Hestia already records on a Runner for a run, plus
 * RunRecovered (the first success after a failed or errored run) and Stalled (an invalid spec, a dependency cycle,
 * workloads not ready past spec.stableStateTimeout).
 */
export const HAPPENINGS = ['RunStarted', 'RunSucceeded', 'RunFailed', 'RunRecovered', 'RunFlaky', 'RunError', 'Stalled'] as const;
export type Happening = (typeof HAPPENINGS)[number];

export interface NotificationSpec {
  destinationRef: { name: string };
  /** Which Runners: those the selector matches (every one without it) in these namespaces (default: the Notification's own). */
  runners?: { selector?: V1LabelSelector; namespaces?: string[] };
  /** Which happenings; at least one. */
  events: Happening[];
  suspend?: boolean;
}

/** What was delivered (or cancelled by a suspended Destination) in the last DELIVERY_HORIZON, per Runner: so that a restart sends nothing twice. */
export interface DeliveredEntry {
  /** The time of the newest happening recorded here. */
  at: string;
  /** Short digests of the delivered happenings' ids. */
  ids: string[];
}

export interface NotificationStatus {
  observedGeneration?: number;
  conditions?: V1Condition[];
  /** Keyed by the Runner's namespace/name. */
  delivered?: Record<string, DeliveredEntry>;
}

export interface Notification {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec: NotificationSpec;
  status?: NotificationStatus;
}

export const DESTINATION_DEFAULTS = { timeoutSeconds: 10, cloudEventsMode: 'Binary' as CloudEventsMode } as const;

/**
 * How long a happening stays due: deliveries are retried until it is this old, and an operator that starts (a
 * restart, a new leader) sends what is this recent and not yet delivered — never older news.
 */
export const DELIVERY_HORIZON_MS = 60 * 60_000;

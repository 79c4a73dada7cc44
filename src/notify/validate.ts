// What makes a Destination or a Notification unusable, in words that name the field (README "Notifications"). The
// CRD schemas refuse most of it at admission; these checks stand behind them, for objects written before a schema
// change or by a client that skipped validation. Never throws, whatever it is given. A value read from a Secret is
// never quoted: a Slack webhook's address is itself a secret.
import { checkHttpUrl } from '../runner/spec/spec-inputs.ts';
import { checkSelector } from '../runner/spec/spec-labels.ts';
import { isRecord, problem, quoted, type Problems } from '../runner/spec/spec-problem.ts';
import { CLOUDEVENTS_MODES, DESTINATION_TYPES, HAPPENINGS, SECRET_KEYS } from './api.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const MAX_TIMEOUT_SECONDS = 60;
const MAX_ADDRESS_LENGTH = 2048;

const oneOf = (values: readonly string[]) => values.map((v) => `"${v}"`).join(', ');

export function destinationProblems(spec: unknown): Problems {
  if (!isRecord(spec)) return [problem('spec', 'is required: {type, address or secretRef}')];
  const { type, address, secretRef, cloudEvents, timeoutSeconds } = spec;
  const out: Problems = [];
  if (typeof type !== 'string' || !(DESTINATION_TYPES as readonly string[]).includes(type)) out.push(problem('spec.type', `${quoted(type)} is not one of ${oneOf(DESTINATION_TYPES)}`));
  if (address !== undefined && address !== null) out.push(...addressProblems(address, 'spec.address', true));
  if (secretRef !== undefined && secretRef !== null) {
    if (!isRecord(secretRef) || typeof secretRef.name !== 'string' || !DNS1123_SUBDOMAIN.test(secretRef.name)) out.push(problem('spec.secretRef.name', 'must name a Secret of this namespace'));
  }
  if ((address === undefined || address === null) && (secretRef === undefined || secretRef === null)) {
    out.push(problem('spec.address', `or spec.secretRef (its key "${SECRET_KEYS.address}") must say where to deliver`));
  }
  if (cloudEvents !== undefined && cloudEvents !== null) {
    const mode = isRecord(cloudEvents) ? cloudEvents.mode : cloudEvents;
    if (mode !== undefined && (typeof mode !== 'string' || !(CLOUDEVENTS_MODES as readonly string[]).includes(mode))) out.push(problem('spec.cloudEvents.mode', `${quoted(mode)} is not one of ${oneOf(CLOUDEVENTS_MODES)}`));
  }
  if (timeoutSeconds !== undefined && timeoutSeconds !== null) {
    if (typeof timeoutSeconds !== 'number' || !Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
      out.push(problem('spec.timeoutSeconds', `${quoted(timeoutSeconds)} must be a whole number of seconds between 1 and ${MAX_TIMEOUT_SECONDS}`));
    }
  }
  return out;
}

/** An address to POST to: absolute, http or https, no credentials in it. `quote`: false for one read from a Secret. */
export const addressProblems = (value: unknown, field: string, quote: boolean): Problems =>
  checkHttpUrl(value, field, { credentials: `put a token in the Secret's "${SECRET_KEYS.token}" key`, maxLength: MAX_ADDRESS_LENGTH, quote });

export function notificationProblems(spec: unknown): Problems {
  if (!isRecord(spec)) return [problem('spec', 'is required: {destinationRef, events}')];
  const { destinationRef, runners, events } = spec;
  const out: Problems = [];
  if (!isRecord(destinationRef) || typeof destinationRef.name !== 'string' || !DNS1123_SUBDOMAIN.test(destinationRef.name)) {
    out.push(problem('spec.destinationRef.name', 'must name a Destination of this namespace'));
  }
  if (!Array.isArray(events) || events.length === 0) out.push(problem('spec.events', `must list at least one of ${oneOf(HAPPENINGS)}`));
  else {
    events.forEach((e: unknown, i) => {
      if (typeof e !== 'string' || !(HAPPENINGS as readonly string[]).includes(e)) out.push(problem(`spec.events[${i}]`, `${quoted(e)} is not one of ${oneOf(HAPPENINGS)}`));
    });
  }
  if (runners !== undefined && runners !== null) {
    if (!isRecord(runners)) out.push(problem('spec.runners', 'must be an object {selector, namespaces}'));
    else {
      out.push(...checkSelector(runners.selector, 'spec.runners.selector'));
      const { namespaces } = runners;
      if (namespaces !== undefined && namespaces !== null) {
        if (!Array.isArray(namespaces)) out.push(problem('spec.runners.namespaces', 'must be a list of namespace names'));
        else namespaces.forEach((n: unknown, i) => {
          if (typeof n !== 'string' || n.length > 63 || !DNS1123_LABEL.test(n)) out.push(problem(`spec.runners.namespaces[${i}]`, `${quoted(n)} is not a namespace name`));
        });
      }
    }
  }
  return out;
}

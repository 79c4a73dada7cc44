// Sentences for people, written into a Runner's status and Events (SPEC §5): what a Runner waits
// for and what triggered a run. Pure, and independent of input order, so an unchanged world
// renders the same text and the operator sends no status write.
import { LABEL_ENABLE } from '../api/runner.ts';

/** A watched object as status shows it; `WatchedResource` fits. */
export interface WatchedItem {
  kind?: string;
  namespace: string;
  name: string;
  ready: boolean;
  /** Detail in a few words: "2/3 available", "latest run failed". */
  message?: string | undefined;
}

/** How many not-ready items a message names before "and N more". */
const LISTED = 3;

export const NO_WORKLOAD_MATCHES = `no enabled workload matches spec.workloadSelector (workloads need the label ${LABEL_ENABLE}: "true")`;
export const NO_RUNNER_MATCHES = 'no Runner matches spec.runnerSelector';

/**
 * "waiting for 1 of 3 workloads: Deployment shop/cart (2/3 available)"; with a single workload
 * "waiting for workload Deployment shop/cart (2/3 available)"; when all are ready, says so.
 */
export function waitingForWorkloadsMessage(items: readonly WatchedItem[]): string {
  if (items.length === 0) return NO_WORKLOAD_MATCHES;
  return waitingMessage(items, { one: 'workload', many: 'workloads' }, (w) => `${w.kind ?? 'workload'} ${w.namespace}/${w.name}`);
}

/** "waiting for resource HelmRelease shop/podinfo (InProgress: ...)"; with several, "waiting for 2 of 3 resources: ...". */
export function waitingForResourcesMessage(items: readonly WatchedItem[]): string {
  return waitingMessage(items, { one: 'resource', many: 'resources' }, (r) => `${r.kind ?? 'resource'} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`);
}

/** "waiting for probe checkout (answered 503, not 200–399)"; with several, "waiting for 2 of 3 probes: ...". */
export function waitingForProbesMessage(items: readonly WatchedItem[]): string {
  return waitingMessage(items, { one: 'probe', many: 'probes' }, (p) => p.name);
}

/**
 * "waiting for upstream Runner qa/a (latest run failed)"; with several upstreams
 * "waiting for 2 of 3 upstream Runners: qa/a (latest run failed), qa/b (running)".
 */
export function waitingForUpstreamMessage(items: readonly WatchedItem[]): string {
  if (items.length === 0) return NO_RUNNER_MATCHES;
  return waitingMessage(
    items,
    { one: 'upstream Runner', many: 'upstream Runners' },
    (r) => `${r.namespace}/${r.name}`,
  );
}

function waitingMessage(
  items: readonly WatchedItem[],
  noun: { one: string; many: string },
  nameOf: (item: WatchedItem) => string,
): string {
  const label = (item: WatchedItem) => (item.message ? `${nameOf(item)} (${item.message})` : nameOf(item));
  const notReady = items.filter((i) => !i.ready).sort(byIdentity);
  if (items.length === 1) {
    const [only] = items as [WatchedItem];
    return only.ready ? `${noun.one} ${nameOf(only)} is ready` : `waiting for ${noun.one} ${label(only)}`;
  }
  if (notReady.length === 0) return `all ${items.length} ${noun.many} are ready`;
  const listed = notReady.slice(0, LISTED).map(label).join(', ');
  const more = notReady.length > LISTED ? ` and ${notReady.length - LISTED} more` : '';
  return `waiting for ${notReady.length} of ${items.length} ${noun.many}: ${listed}${more}`;
}

function byIdentity(a: WatchedItem, b: WatchedItem): number {
  const key = (i: WatchedItem) => [i.kind ?? '', i.namespace, i.name];
  const [ka, kb] = [key(a), key(b)];
  for (let i = 0; i < ka.length; i++) {
    const [x, y] = [ka[i] as string, kb[i] as string];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// What triggered a run

export type TriggerReason = 'Revision' | 'Schedule' | 'Manual';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'DeploymentConfig']);

/**
 * A revision part `<identity>@<value>` split at the first '@': identities never contain one
 * (`Deployment/ns/name`, `Runner/ns/name`, `spec`, `trigger`), a trigger value may.
 */
function splitPart(part: string): { identity: string; value: string } {
  const at = part.indexOf('@');
  return at < 0 ? { identity: part, value: '' } : { identity: part.slice(0, at), value: part.slice(at + 1) };
}

/**
 * "Deployment/shop/cart" → "Deployment shop/cart". The parts of spec.resources name their kind with its group
 * ("HelmRelease.helm.toolkit.fluxcd.io/shop/podinfo"): `resource` says so, and the kind is shown without it.
 */
function displayName(identity: string): { kind: string; ref: string; resource: boolean } {
  const slash = identity.indexOf('/');
  const qualified = slash < 0 ? identity : identity.slice(0, slash);
  const dot = qualified.indexOf('.');
  return { kind: dot < 0 ? qualified : qualified.slice(0, dot), ref: slash < 0 ? '' : identity.slice(slash + 1), resource: dot >= 0 };
}

function describeChange(identity: string, value: string, previous: string | undefined): string {
  if (identity === 'spec') return 'spec change';
  if (identity === 'others') return `changes among ${Number.parseInt(value, 10).toLocaleString('en-US')} other inputs`;
  if (identity === 'trigger') return `manual trigger "${value}"`;
  const { kind, ref, resource } = displayName(identity);
  if (resource) return previous === undefined ? `new resource ${kind} ${ref}` : `change of ${kind} ${ref}`;
  if (WORKLOAD_KINDS.has(kind)) return previous === undefined ? `new workload ${kind} ${ref}` : `rollout of ${kind} ${ref}`;
  if (kind === 'Runner') return previous === undefined ? `new upstream Runner ${ref}` : `new run of upstream Runner ${ref}`;
  return `change of ${identity}`;
}

function describeRemoval(identity: string): string {
  if (identity === 'trigger') return 'manual trigger removed';
  const { kind, ref, resource } = displayName(identity);
  if (resource) return `resource ${kind} ${ref} no longer selected`;
  if (WORKLOAD_KINDS.has(kind)) return `workload ${kind} ${ref} no longer selected`;
  if (kind === 'Runner') return `upstream Runner ${ref} no longer selected`;
  return `${identity} removed`;
}

/** "a", "a and b", "a, b and 3 more". */
function joinChanges(changes: readonly string[]): string {
  if (changes.length <= 2) return changes.join(' and ');
  return `${changes.slice(0, 2).join(', ')} and ${changes.length - 2} more`;
}

/**
 * What caused a run, for `status.lastRun.trigger` and Events: "first run", "rollout of Deployment
 * shop/cart", "new workload StatefulSet a/b", "new run of upstream Runner qa/a", "spec change",
 * "manual trigger \"x\"", "schedule" (or "schedule <tick>" when the tick is given). Revision
 * changes are listed in the order of `parts`, then removals in the order of `previousParts`.
 */
export function describeTrigger(
  previousParts: readonly string[] | null,
  parts: readonly string[],
  reason: TriggerReason,
  tick?: string | null,
): string {
  if (reason === 'Schedule') return tick ? `schedule ${tick}` : 'schedule';
  if (reason === 'Manual') {
    const trigger = parts.map(splitPart).find((p) => p.identity === 'trigger');
    return trigger ? `manual trigger "${trigger.value}"` : 'manual trigger';
  }
  if (previousParts === null) return 'first run';

  const before = new Map(previousParts.map((p) => [splitPart(p).identity, splitPart(p).value]));
  const now = new Set(parts.map((p) => splitPart(p).identity));
  const changes = parts
    .map(splitPart)
    .filter(({ identity, value }) => before.get(identity) !== value)
    .map(({ identity, value }) => describeChange(identity, value, before.get(identity)));
  const removals = [...before.keys()].filter((identity) => !now.has(identity)).map(describeRemoval);
  const all = [...changes, ...removals];
  return all.length === 0 ? 're-run of the same inputs' : joinChanges(all);
}

/** How an upstream's latest run ended, as status.watchedResources and the stall reason say it. */
export const upstreamWords = (result: 'Succeeded' | 'Failed' | 'Error'): string =>
  result === 'Succeeded' ? 'latest run succeeded' : result === 'Error' ? 'latest run ended in an error' : 'latest run failed';

// kstatus in TypeScript: the status of an object of any kind as the kstatus library
// (sigs.k8s.io/cli-utils/pkg/kstatus/status, v0.37) computes it — what Flux's health checks and many
// deploy tools call "ready". A resource that a Runner selects through `spec.resources` is ready when
// this says Current (SPEC §2.3) and its controller has reported on it: kstatus fails open on a custom
// resource with no status yet, and Hestia does not (defaultReadiness in resource-readiness.ts). This file
// stays kstatus exactly. Pure: the clock is an argument (only a Pod's scheduling grace reads it).
//
// test/unit/kstatus-differential.test.ts holds it to the real library, over a corpus of Flux, Argo CD,
// Argo Rollouts, Knative and CloudNativePG objects and thousands of generated ones: both must agree
// on the status and the message of every object. The rules, in kstatus' order:
//  1. deletionTimestamp set → Terminating;
//  2. metadata.generation and status.observedGeneration both present and different → InProgress;
//  3. condition Reconciling=True → InProgress; Stalled=True → Failed;
//  4. built-in kinds (Deployment, StatefulSet, Pod, Job, ...) by their own rules (src/runner/readiness/kstatus-builtin.ts);
//  5. condition Ready: True → Current, False or Unknown → InProgress;
//  6. otherwise Current: a kind with no conditions kstatus knows is taken to be reconciled.
// A field of the wrong type (an observedGeneration that is a string, a condition that is a number)
// makes the library refuse the object; that is status Unknown here, with the reason as message.
import { builtinRule } from './kstatus-builtin.ts';
import { current, failed, inProgress, type KstatusResult } from './kstatus-result.ts';
import { conditionsOf, FieldTypeError, groupOf, isMap, nestedInt64, nestedString, stringField, type JsonMap } from './unstructured.ts';

export function computeKstatus(object: unknown, now: Date): KstatusResult {
  if (!isMap(object)) return { status: 'Unknown', message: 'not an object', error: 'not an object' };
  try {
    return genericStatus(object) ?? builtinStatus(object, now) ?? readyCondition(object) ?? current('Resource is current');
  } catch (err) {
    if (!(err instanceof FieldTypeError)) throw err;
    return { status: 'Unknown', message: err.message, error: err.message };
  }
}

function genericStatus(object: JsonMap): KstatusResult | null {
  const deletion = nestedString(object, ['metadata', 'deletionTimestamp']);
  if (deletion.found && deletion.value !== '') return { status: 'Terminating', message: 'Resource scheduled for deletion' };
  const stale = unobservedGeneration(object);
  if (stale) return stale;
  for (const c of conditionsOf(object)) {
    if (c.type === 'Reconciling' && c.status === 'True') return inProgress(c.message);
    if (c.type === 'Stalled' && c.status === 'True') return failed(c.message);
  }
  return null;
}

function unobservedGeneration(object: JsonMap): KstatusResult | null {
  const generation = nestedInt64(object, ['metadata', 'generation']);
  if (!generation.found) return null;
  const observed = nestedInt64(object, ['status', 'observedGeneration']);
  if (!observed.found || observed.value === generation.value) return null;
  return inProgress(`${stringField(object, ['kind'], '')} generation is ${generation.value}, but latest observed generation is ${observed.value}`);
}

function builtinStatus(object: JsonMap, now: Date): KstatusResult | null {
  const rule = builtinRuleOf(object);
  return rule ? rule(object, now) : null;
}

/** kstatus' own rule for the object's kind (a built-in kind: Deployment, Pod, ConfigMap, ...), if it has one. */
function builtinRuleOf(object: JsonMap) {
  const group = groupOf(stringField(object, ['apiVersion'], ''));
  if (group === null) return undefined;
  const kind = stringField(object, ['kind'], '');
  return builtinRule(group === '' ? kind : `${group}/${kind}`);
}

/** Whether kstatus judges the object's kind by a rule of its own rather than by the generic conditions. */
export const isBuiltinKind = (object: unknown): boolean => isMap(object) && builtinRuleOf(object) !== undefined;

/** The first Ready condition with status True, False or Unknown decides; others are passed over. */
function readyCondition(object: JsonMap): KstatusResult | null {
  for (const c of conditionsOf(object)) {
    if (c.type !== 'Ready') continue;
    if (c.status === 'True') return current('Resource is Ready');
    if (c.status === 'False' || c.status === 'Unknown') return inProgress(c.message);
  }
  return null;
}

export type { KstatusResult, KstatusStatus } from './kstatus-result.ts';

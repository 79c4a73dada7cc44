// Label selectors with Kubernetes semantics, evaluated against cached objects' labels, so that
// finding what a Runner selects never costs an API request.
import type { V1LabelSelector, V1LabelSelectorRequirement } from '@kubernetes/client-node';
import { LABEL_ENABLE } from '../../api/runner.ts';

export type Labels = Record<string, string> | undefined;

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type SelectorOperator = (typeof SELECTOR_OPERATORS)[number];

/**
 * Whether `labels` satisfy `selector`: every matchLabels pair AND every matchExpression.
 *
 * An empty selector (`{}`) matches everything; an absent one (`undefined`) matches nothing, as in
 * Kubernetes (`metav1.LabelSelectorAsSelector(nil)` is `labels.Nothing()`). A requirement with an
 * unknown operator matches nothing, so a bad selector can never widen what a Runner acts on;
 * `selectorProblem` reports it.
 */
export function matchesLabelSelector(selector: V1LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return false;
  const own = labels ?? {};
  const pairsMatch = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => own[key] === value);
  return pairsMatch && (selector.matchExpressions ?? []).every((req) => requirementMatches(req, own));
}

function requirementMatches(req: V1LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(labels[req.key] as string);
    case 'NotIn':
      // Kubernetes: a missing key satisfies NotIn.
      return !has || !values.includes(labels[req.key] as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false;
  }
}

/**
 * What is wrong with a selector, in the words of the field it concerns (e.g.
 * `matchExpressions[0].operator: "Equals" is not one of In, NotIn, Exists, DoesNotExist`), or null.
 * The rules are the API server's for LabelSelector: In/NotIn need values, Exists/DoesNotExist none.
 */
export function selectorProblem(selector: V1LabelSelector): string | null {
  for (const [index, req] of (selector.matchExpressions ?? []).entries()) {
    const at = `matchExpressions[${index}]`;
    const valueCount = req.values?.length ?? 0;
    if (!req.key) return `${at}.key: must not be empty`;
    if (!(SELECTOR_OPERATORS as readonly string[]).includes(req.operator)) {
      return `${at}.operator: "${req.operator}" is not one of ${SELECTOR_OPERATORS.join(', ')}`;
    }
    if ((req.operator === 'In' || req.operator === 'NotIn') && valueCount === 0) {
      return `${at}.values: must be non-empty for operator ${req.operator}`;
    }
    if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && valueCount > 0) {
      return `${at}.values: must be empty for operator ${req.operator}`;
    }
  }
  return null;
}

/** The workload owner's consent (SPEC §2.1): the label `runner.stakater.com/enable: "true"`, exactly. */
export function isEnabledWorkload(labels: Labels): boolean {
  return labels?.[LABEL_ENABLE] === 'true';
}

/**
 * The selector's matchLabels as `[key, value]` pairs, sorted by key. Every object the selector
 * matches carries all of them, so an index keyed by any one pair finds every candidate; a selector
 * without pairs (matchExpressions only, or `{}`) gives [] and must be checked against everything.
 */
export function selectorKeyValues(selector: V1LabelSelector | undefined): Array<[key: string, value: string]> {
  return Object.entries(selector?.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

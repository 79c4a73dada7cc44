// The vocabulary of spec checks (src/runner/spec/spec.ts, src/runner/spec/spec-labels.ts): a problem names its field, and quotes the
// offending value briefly (a value may be megabytes long).
export interface SpecProblem {
  /** Path of the offending field, e.g. `spec.workloadSelector.matchExpressions[0].operator`. */
  field: string;
  /** A sentence for people that starts with the field, e.g. `spec.schedule: "61 * * * *" is not a valid ...`. */
  message: string;
}

const QUOTE_MAX = 80;

export type Problems = SpecProblem[];

export const problem = (field: string, text: string): SpecProblem => ({ field, message: `${field}: ${text}` });
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** A value as it appears in a message: JSON, cut to QUOTE_MAX characters (a value may be megabytes long). */
export const quoted = (value: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : String(value);
  }
  return text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}… (${text.length} characters)` : text;
};


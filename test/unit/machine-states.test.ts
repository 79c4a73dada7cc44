// The machine's states are the documented values of the Runner's status.state (SPEC §5, §7): the CRD lists them as
// the `enum` of status.state, so `kubectl explain` and admission show them, and the machine has exactly those states:
// its leaves, less the decision points it leaves as soon as it enters them (groups only organise the leaves).
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { AnyStateNode } from 'xstate';
import { RUNNER_STATES, runnerMachine } from '../../machines/runner.ts';
import { isDecision } from '../../src/diagram/graph.ts';

const CRD_PATH = 'crds/e2e.stakater.com_runners.yaml';

interface Schema {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
}
interface Crd {
  spec: {
    versions: {
      name: string;
      schema?: { openAPIV3Schema?: Schema };
      additionalPrinterColumns?: { name: string; jsonPath: string }[];
    }[];
  };
}

const crd = load(readFileSync(new URL(`../../${CRD_PATH}`, import.meta.url), 'utf8')) as Crd;
const leaves = (node: AnyStateNode): AnyStateNode[] => {
  const children = Object.values(node.states) as AnyStateNode[];
  return children.length === 0 ? [node] : children.flatMap(leaves);
};
const machineStates = leaves(runnerMachine.root).filter((n) => !isDecision(n)).map((n) => n.key);

describe.each(crd.spec.versions.map((v) => [v.name, v] as const))('Runner %s status.state', (name, version) => {
  const state = version.schema?.openAPIV3Schema?.properties?.status?.properties?.state;

  it('is a string listing its values as an enum', () => {
    expect(state?.type, `${CRD_PATH} (${name}) has no status.state string`).toBe('string');
    expect(Array.isArray(state?.enum), `${CRD_PATH} (${name}): status.state needs an enum of the machine's states`).toBe(true);
  });

  it('lists every state of the machine', () => {
    const documented = (state?.enum ?? []).map(String);
    expect(machineStates.filter((s) => !documented.includes(s)), `states of the machine missing from ${CRD_PATH} (${name})`).toEqual([]);
  });

  it('lists no value that is not a state of the machine', () => {
    const documented = (state?.enum ?? []).map(String);
    expect(documented.filter((s) => !machineStates.includes(s)), `status.state values of ${CRD_PATH} (${name}) that the machine lacks`).toEqual([]);
  });

  it('is shown as a printer column', () => {
    expect(version.additionalPrinterColumns?.map((c) => c.jsonPath)).toContain('.status.state');
  });
});

describe('RUNNER_STATES', () => {
  it('is exactly the states of the machine', () => {
    expect([...RUNNER_STATES].sort()).toEqual([...machineStates].sort());
  });
});

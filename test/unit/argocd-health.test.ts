// The Argo CD health script as shipped: the argocd-cm patch embeds exactly deploy/argocd/runner-health.lua,
// and the script, run by Argo CD's Lua VM (test/tools/argocd-lua), handles Runners the operator has not
// reported on yet. Its verdict for every state is checked on the real control plane (verdicts.test.ts).
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { runTool } from '../support/tools.ts';

const SCRIPT = new URL('../../deploy/argocd/runner-health.lua', import.meta.url).pathname;
const health = (objects: object[]) => JSON.parse(runTool('argocd-lua', [SCRIPT], JSON.stringify(objects))) as { status: string; message: string; error?: string }[];
const runner = (extra: object) => ({ apiVersion: 'e2e.stakater.com/v1alpha1', kind: 'Runner', metadata: { name: 'smoke', namespace: 'qa', generation: 2 }, ...extra });

describe('deploy/argocd', () => {
  it('the argocd-cm patch carries runner-health.lua under resource.customizations.health.e2e.stakater.com_Runner', () => {
    const cm = load(readFileSync(new URL('../../deploy/argocd/argocd-cm-patch.yaml', import.meta.url), 'utf8')) as { data: Record<string, string> };
    expect(cm.data['resource.customizations.health.e2e.stakater.com_Runner']).toBe(readFileSync(SCRIPT, 'utf8'));
  });

  it('a Runner without status, or whose status describes an older generation, is Progressing', () => {
    const [fresh, stale] = health([runner({}), runner({ status: { observedGeneration: 1, state: 'Succeeded', conditions: [{ type: 'Ready', status: 'True' }] } })]);
    expect(fresh).toMatchObject({ status: 'Progressing', message: 'waiting for the Hestia operator to report on this Runner' });
    expect(stale).toMatchObject({ status: 'Progressing', message: 'waiting for the Hestia operator to observe generation 2' });
  });

  it('needs no Lua standard library (argocd-cm scripts run without one unless useOpenLibs is set)', () => {
    const [degraded] = health([runner({ status: { observedGeneration: 2, state: 'Failed', conditions: [{ type: 'Stalled', status: 'True', reason: 'RunFailed', message: 'Job smoke-1 failed' }] } })]);
    expect(degraded).toEqual({ kind: 'Runner', namespace: 'qa', name: 'smoke', status: 'Degraded', message: 'RunFailed: Job smoke-1 failed' });
  });
});

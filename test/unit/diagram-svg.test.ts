// One Runner's picture (hestia diagram RUNNER, the UI): the machine drawn with every state addressable by id, the
// state the Runner is in and its groups lit, in the SVG itself and by class, and the same picture as a PNG.
import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { createActor, type AnyStateNode } from 'xstate';
import { RUNNER_STATES, runnerMachine, type RunnerInputs } from '../../machines/runner.ts';
import { stateValueOf } from '../../machines/runner-snapshot.ts';
import type { Runner } from '../../src/api/runner.ts';
import { svgToPng } from '../../src/diagram/png.ts';
import { litStateOf, runnerMachineSvg } from '../../src/diagram/svg.ts';

interface Box {
  classes: string[];
  /** The attributes of the first shape drawn in the box (its outline): stroke, stroke-width, fill. */
  outline: string;
}

const decode = (s: string): string => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replaceAll('&amp;', '&');

/** The SVG's state boxes by id (`state-…`), as a page would find them with getElementById. */
function boxesOf(svg: string): Map<string, Box> {
  const boxes = new Map<string, Box>();
  for (const [, id, cls, body] of svg.matchAll(/<g id="([^"]*)" class="([^"]*)">([\s\S]*?)(?=<g id="[^"]*" class=|<\/svg>)/g)) {
    if (!decode(id!).startsWith('state-')) continue;
    const shape = /<(?:path|polygon|ellipse)\b([^>]*)>/.exec(body!)?.[1] ?? '';
    boxes.set(decode(id!), { classes: cls!.split(' '), outline: [...shape.matchAll(/\b(stroke|stroke-width|fill)="([^"]*)"/g)].map((m) => m[0]).join(' ') });
  }
  return boxes;
}

const litIn = (svg: string): string[] => [...boxesOf(svg)].filter(([, b]) => b.classes.includes('lit')).map(([id]) => id).sort();

/** Every state of the machine, as the ids of its boxes: `state-` and the state's path. */
const nodesOf = (n: AnyStateNode): AnyStateNode[] => Object.values(n.states).flatMap((c) => [c, ...nodesOf(c)]);
const STATE_IDS = nodesOf(runnerMachine.root).map((n) => `state-${n.path.join('.')}`);

/** The ids of a state's box and of the boxes of the groups that hold it. */
function withGroups(path: string): string[] {
  const keys = path.split('.');
  return keys.map((_, i) => `state-${keys.slice(0, i + 1).join('.')}`).sort();
}

const pathOf = (value: unknown): string => (typeof value === 'string' ? value : Object.entries(value as object).map(([k, v]) => `${k}.${pathOf(v)}`)[0]!);

const runnerWith = (status?: Runner['status']): Runner => ({ apiVersion: 'e2e.stakater.com/v1alpha1', kind: 'Runner', metadata: { name: 'smoke', namespace: 'qa' }, spec: {} as Runner['spec'], ...(status ? { status } : {}) });

describe('the Runner machine as an SVG with ids', () => {
  it('has a box with the id state-<path> and the class "state" for every state of the machine, and no other', async () => {
    const boxes = boxesOf(await runnerMachineSvg());
    expect([...boxes.keys()].sort()).toEqual([...STATE_IDS].sort());
    expect(STATE_IDS).toContain('state-atRest.blocked.WaitingForWorkloads');
    for (const [id, box] of boxes) expect(box.classes, id).toContain('state');
  });

  it('lights nothing when no state is given', async () => {
    expect(litIn(await runnerMachineSvg())).toEqual([]);
  });

  it.each(RUNNER_STATES)('lights %s and the groups that hold it, from its state value, and from its name', async (state) => {
    const value = stateValueOf(state);
    const expected = withGroups(pathOf(value));
    expect(litIn(await runnerMachineSvg(value))).toEqual(expected);
    expect(litIn(await runnerMachineSvg(state))).toEqual(expected);
  });

  it('draws the lit boxes unlike the others in the SVG itself, so that they show without a stylesheet', async () => {
    const boxes = boxesOf(await runnerMachineSvg(stateValueOf('WaitingForWorkloads')));
    const unlit = new Set([...boxes.values()].filter((b) => !b.classes.includes('lit')).map((b) => b.outline));
    const lit = [...boxes].filter(([, b]) => b.classes.includes('lit'));
    expect(lit.length).toBe(3);
    for (const [id, box] of lit) expect(unlit.has(box.outline), `${id}: ${box.outline}`).toBe(false);
  });

  it.each([
    ['a state the machine does not have', { atRest: 'Sleeping' }],
    ['a group without a state in it', { nowhere: { blocked: 'Invalid' } }],
    ['an unknown name', 'Sleeping'],
    ['an empty object', {}],
    ['a number', 42],
    ['null', null],
    ['an array', ['Running']],
  ])('lights nothing, and does not throw, for %s', async (_, value) => {
    const svg = await runnerMachineSvg(value);
    expect(boxesOf(svg).size).toBe(STATE_IDS.length);
    expect(litIn(svg)).toEqual([]);
  });
});

describe('the state a Runner is in', () => {
  const ready: RunnerInputs = {
    valid: true, suspended: false, cycle: false, workloadsReady: false, upstreamReady: true, scheduled: false,
    concurrencyPolicy: 'Forbid', revision: 'r1', parts: [], trigger: null,
  };

  it('is the value of the snapshot the operator persisted, which lights that state', async () => {
    const actor = createActor(runnerMachine, { input: { inputs: ready, at: 't0' } }).start();
    const snapshot = actor.getPersistedSnapshot() as Record<string, unknown>;
    actor.stop();
    const runner = runnerWith({ state: 'WaitingForWorkloads', snapshot: JSON.parse(JSON.stringify(snapshot)) as Record<string, unknown> });
    expect(litStateOf(runner)).toEqual({ atRest: { blocked: 'WaitingForWorkloads' } });
    expect(litIn(await runnerMachineSvg(litStateOf(runner)))).toEqual(withGroups('atRest.blocked.WaitingForWorkloads'));
  });

  it("prefers the snapshot's value to status.state: the value names the groups too", () => {
    expect(litStateOf(runnerWith({ state: 'Succeeded', snapshot: { value: 'Running' } }))).toBe('Running');
  });

  it('is status.state without a snapshot, which lights that state and its groups', async () => {
    const runner = runnerWith({ state: 'Scheduled' });
    expect(litStateOf(runner)).toBe('Scheduled');
    expect(litIn(await runnerMachineSvg(litStateOf(runner)))).toEqual(['state-atRest', 'state-atRest.Scheduled']);
  });

  it('is undefined for a Runner without a status or a state, which lights nothing', async () => {
    expect(litStateOf(runnerWith())).toBeUndefined();
    expect(litStateOf(runnerWith({ message: 'new' }))).toBeUndefined();
    expect(litIn(await runnerMachineSvg(litStateOf(runnerWith())))).toEqual([]);
  });
});

describe('the picture as a PNG', () => {
  /** The PNG's pixels, read back by drawing it as an image in an SVG. */
  function pixelsOf(png: Buffer): { width: number; pixels: Buffer } {
    const probe = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${png.readUInt32BE(16)}" height="${png.readUInt32BE(20)}"><image width="100%" height="100%" xlink:href="data:image/png;base64,${png.toString('base64')}"/></svg>`;
    const image = new Resvg(probe).render();
    return { width: image.width, pixels: image.pixels };
  }

  it('is a PNG of the whole drawing, with ink on it and the lit state in its colour', async () => {
    const png = await svgToPng(await runnerMachineSvg(stateValueOf('Running')));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.length).toBeGreaterThan(50_000);
    const { width, pixels } = pixelsOf(png);
    expect(width).toBeGreaterThan(1500);
    let ink = 0;
    let orange = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      const [r, g, b] = [pixels[i]!, pixels[i + 1]!, pixels[i + 2]!];
      if (r < 128 && g < 128 && b < 128) ink += 1;
      if (r > 200 && g > 50 && g < 120 && b < 60) orange += 1;
    }
    const count = pixels.length / 4;
    expect(ink / count).toBeGreaterThan(0.005);
    expect(ink / count).toBeLessThan(0.3);
    // The lit border: a 3-point line around one box, a few thousand pixels at this zoom.
    expect(orange).toBeGreaterThan(1000);
  });
});

// The machine's diagrams (SPEC §7) are derived from machines/runner.ts, the committed copies are current, the picture
// renders, and the machine's config imports unchanged into the Stately editor.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { assign, createMachine, setup, type AnyStateMachine, type AnyStateNode } from 'xstate';
import { RUNNER_STATES, runnerMachine } from '../../machines/runner.ts';
import { renderSvg } from '../../scripts/diagram.ts';
import { toDot } from '../../src/diagram/dot.ts';
import { describeTransition, transitionsOf } from '../../src/diagram/labels.ts';
import { embedBlock } from '../../src/diagram/markdown.ts';
import { toMermaid } from '../../src/diagram/mermaid.ts';
import { machineJson, toStatelyCode } from '../../src/diagram/stately.ts';

const docs = (file: string): URL => new URL(`../../docs/${file}`, import.meta.url);
const read = (file: string): string => (existsSync(docs(file)) ? readFileSync(docs(file), 'utf8') : '');
const RUN_MAKE_DIAGRAM = 'run `make diagram` and commit docs/';

const nodesOf = (n: AnyStateNode): AnyStateNode[] => [n, ...Object.values(n.states).flatMap(nodesOf)];
/** Every state (by id, with its first child) and every transition (source, targets, event, guard, actions, re-entry). */
const structureOf = (machine: AnyStateMachine) => ({
  states: nodesOf(machine.root).map((n) => `${n.id}${n.initial ? ` → ${n.initial.target.map((t: AnyStateNode) => t.id).join()}` : ''}`),
  transitions: nodesOf(machine.root).flatMap((n) =>
    transitionsOf(n).map((t) => `${describeTransition(t)} → ${(t.target ?? []).map((x: AnyStateNode) => x.id).join()}`),
  ),
});

describe('committed diagrams', () => {
  it('docs/runner-machine.mmd is toMermaid(runnerMachine)', () => {
    expect(read('runner-machine.mmd'), `docs/runner-machine.mmd differs from the machine: ${RUN_MAKE_DIAGRAM}`).toBe(toMermaid(runnerMachine));
  });

  it('README.md embeds the current Mermaid diagram', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme, `README.md is out of date: ${RUN_MAKE_DIAGRAM}`).toBe(embedBlock(readme, 'runner-machine.mmd', 'mermaid', toMermaid(runnerMachine)));
  });

  it('docs/machine.md embeds the current Mermaid diagram and Stately import code', () => {
    const page = read('machine.md');
    let expected = page;
    try {
      expected = embedBlock(page, 'runner-machine.mmd', 'mermaid', toMermaid(runnerMachine));
      expected = embedBlock(expected, 'stately-import', 'ts', toStatelyCode(runnerMachine));
    } catch (err) {
      expect.fail(`docs/machine.md: ${(err as Error).message}`);
    }
    expect(page, `docs/machine.md is out of date: ${RUN_MAKE_DIAGRAM}`).toBe(expected);
  });

  it('docs/runner-machine.svg is the current picture of the machine', async () => {
    expect(read('runner-machine.svg'), `docs/runner-machine.svg differs from the machine: ${RUN_MAKE_DIAGRAM}`).toBe(await renderSvg(toDot(runnerMachine)));
  });
});

describe('the Runner machine drawn', () => {
  const mermaid = toMermaid(runnerMachine);

  it('shows the lifecycle: events and domain guards on its arrows, groups around the states they organise', () => {
    for (const line of [
      '[*] --> atRest',
      'state atRest {',
      'state blocked {',
      'state settling <<choice>>',
      'state blockedBy <<choice>>',
      // A ready workload (a new revision) leads to a run; the run's end leads back to rest.
      'settling --> Running : [newRevision] / beginRun',
      'Running --> atRest : JOB.FINISHED [else] / recordResult, runFinished',
      // A failed upstream blocks.
      'settling --> blocked : [inputsUnsatisfied]',
      'blockedBy --> WaitingForUpstream : [upstreamNotReady]',
      // A tick runs when scheduled, and is skipped at rest otherwise.
      'Scheduled --> Running : TICK / rememberTick, beginRun',
      'TICK / skipTick, tickSkipped',
      'atRest --> atRest : INPUTS [inputsChanged] / recordInputs (re-enters)',
      'Running : TICK [tickReplacesRun] / rememberTick, stopJob, beginRun (re-enters)',
    ])
      expect(mermaid).toContain(line);
    expect(mermaid).not.toMatch(/restsIn/);
  });

  it('shows every Runner state, each once, with its name as the title of its box', () => {
    for (const s of RUNNER_STATES) expect(mermaid.match(new RegExp(`^ *${s}( : ${s})?$`, 'gm'))?.length, s).toBe(1);
  });

  it('renders the DOT with Graphviz (WebAssembly), showing every state', async () => {
    const svg = await renderSvg(toDot(runnerMachine));
    expect(RUNNER_STATES.filter((s) => !svg.includes(`>${s}</text>`))).toEqual([]);
  });

  it('renders the SVG to a PNG that a person can look at (.cache/diagram/runner-machine.png)', async () => {
    const svg = await renderSvg(toDot(runnerMachine));
    // DejaVu Sans Condensed is about as wide as the Helvetica that Graphviz measured the text in.
    const image = new Resvg(svg, {
      background: 'white',
      fitTo: { mode: 'zoom', value: 1.5 },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans Condensed', sansSerifFamily: 'DejaVu Sans Condensed' },
    }).render();
    const png = image.asPng();
    mkdirSync(new URL('../../.cache/diagram/', import.meta.url), { recursive: true });
    writeFileSync(new URL('../../.cache/diagram/runner-machine.png', import.meta.url), png);
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(image.width).toBeGreaterThan(1500);
    // Drawn, not blank: a share of the pixels is ink (lines and text), most is paper.
    const pixels = image.pixels;
    let ink = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i]! < 128) ink += 1;
    const share = ink / (pixels.length / 4);
    expect(share).toBeGreaterThan(0.01);
    expect(share).toBeLessThan(0.3);
  });
});

describe('the machine in the Stately editor', () => {
  const { guards, actions } = runnerMachine.implementations;
  const build = (config: object) => setup({ guards, actions } as never).createMachine(config as never) as unknown as AnyStateMachine;

  it('exports its own config as JSON: nothing but the context (a function of the input) is left out', () => {
    const { context, ...config } = runnerMachine.config as Record<string, unknown>;
    expect(typeof context).toBe('function');
    expect(JSON.parse(JSON.stringify(machineJson(runnerMachine)))).toEqual(config);
  });

  it('round-trips the exported JSON through createMachine: the same states and transitions', () => {
    const imported = build(JSON.parse(JSON.stringify(machineJson(runnerMachine))));
    expect(structureOf(imported)).toEqual(structureOf(runnerMachine));
    expect(structureOf(runnerMachine).transitions.length).toBe(24);
  });

  it('writes createMachine({...}) code for Import that builds the same machine', () => {
    const rebuilt = new Function('createMachine', `return ${toStatelyCode(runnerMachine)}`)(build) as AnyStateMachine;
    expect(structureOf(rebuilt)).toEqual(structureOf(runnerMachine));
  });
});

describe('diagrams are derived from the machine, not written by hand', () => {
  const toy = setup({
    types: { context: {} as { n: number }, events: {} as { type: 'GO' } | { type: 'STOP' } | { type: 'POKE' } },
    guards: { ready: () => true, armed: () => true },
    actions: { count: assign({ n: ({ context }) => context.n + 1 }), beep: () => {} },
  }).createMachine({
    id: 'toy',
    context: { n: 0 },
    initial: 'Idle',
    on: { STOP: { actions: 'beep' } },
    states: {
      Idle: { on: { GO: [{ guard: 'ready', target: 'Busy', actions: 'count' }, { target: 'Idle', reenter: true }] } },
      Busy: {
        initial: 'choose',
        on: { POKE: { actions: 'beep' }, GO: { target: 'Busy', reenter: true } },
        states: {
          choose: { always: [{ guard: 'armed', target: 'Armed' }, { target: 'Calm' }] },
          Armed: { entry: 'beep', on: { POKE: {} } },
          Calm: {},
        },
      },
    },
  });

  it('Mermaid: groups as composite states, decisions as choices, internal transitions as lines or notes', () => {
    expect(toMermaid(toy)).toBe(
      [
        'stateDiagram-v2',
        '  %% Generated from the machine definition by scripts/diagram.ts: do not edit, run `make diagram`.',
        '  [*] --> Idle',
        '  Idle : Idle',
        '  Idle : GO [else] (re-enters)',
        '  state Busy {',
        '    state choose <<choice>>',
        '    [*] --> choose',
        '    Armed : Armed',
        '    Armed : entry / beep',
        '    Armed : POKE (ignored)',
        '    Calm',
        '    choose --> Armed : [armed]',
        '    choose --> Calm : [else]',
        '  }',
        '  note right of Busy',
        '    POKE / beep',
        '  end note',
        '  Idle --> Busy : GO [ready] / count',
        '  Busy --> Busy : GO (re-enters)',
        '  note left of Idle',
        '    In every state:',
        '    STOP / beep',
        '  end note',
        '',
      ].join('\n'),
    );
  });

  it('DOT: groups as clusters entered at a dot and left from their header, decisions as diamonds', () => {
    const dot = toDot(toy);
    expect(dot).toContain('subgraph "cluster_toy.Busy" {');
    expect(dot).toContain('"toy.Busy.__initial" -> "toy.Busy.choose";');
    expect(dot).toContain('"toy.Idle" -> "toy.Busy.__initial" [label="GO [ready]\\n/ count"];');
    expect(dot).toContain('"toy.Busy.__header" -> "toy.Busy.__initial" [label="GO (re-enters)"];');
    expect(dot).toContain('"toy.Busy.choose" [shape=diamond');
    expect(dot).toContain('<b>Armed</b></td></tr><tr><td align="left">entry / beep</td></tr>');
    expect(dot).toContain('In every state:\\lSTOP / beep\\l');
  });

  it('refuses what it cannot draw faithfully or import unchanged', () => {
    const rootTarget = createMachine({ initial: 'a', on: { X: '.b' }, states: { a: {}, b: {} } }) as unknown as AnyStateMachine;
    expect(() => toMermaid(rootTarget)).toThrow(/root with a target/);
    const twice = createMachine({ initial: 'a', states: { a: { initial: 'x', states: { x: {} } }, b: { initial: 'x', states: { x: {} } } } });
    expect(() => toDot(twice)).toThrow(/unique/);
    const inline = createMachine({ initial: 'a', states: { a: { on: { X: { guard: () => true, target: 'b' } } }, b: {} } });
    expect(() => machineJson(inline)).toThrow(/config\.states\.a\.on\.X\.guard/);
  });
});

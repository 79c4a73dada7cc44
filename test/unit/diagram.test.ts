// The machine's diagrams (SPEC §7) are derived from machines/runner.ts and the committed copies are current.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { and, assign, createMachine, not, or, setup, type AnyStateMachine, type AnyStateNode } from 'xstate';
import { RUNNER_STATES, runnerMachine } from '../../machines/runner.ts';
import { renderSvg } from '../../scripts/diagram.ts';
import { describeTransition, embedBlock, toDot, toMermaid, toStatelyCode } from '../../src/diagram.ts';

const docs = (file: string): URL => new URL(`../../docs/${file}`, import.meta.url);
const read = (file: string): string => (existsSync(docs(file)) ? readFileSync(docs(file), 'utf8') : '');
const RUN_MAKE_DIAGRAM = 'run `make diagram` and commit docs/';

const transitionsOf = (machine: AnyStateMachine): string[] => {
  const nodes = (n: AnyStateNode): AnyStateNode[] => [n, ...Object.values(n.states).flatMap(nodes)];
  return nodes(machine.root).flatMap((n) => [...[...n.transitions.values()].flat(), ...(n.always ?? [])].map(describeTransition));
};

describe('committed diagrams', () => {
  it('docs/runner-machine.mmd is toMermaid(runnerMachine)', () => {
    expect(read('runner-machine.mmd'), `docs/runner-machine.mmd differs from the machine: ${RUN_MAKE_DIAGRAM}`).toBe(
      toMermaid(runnerMachine),
    );
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

  it('docs/runner-machine.svg exists and shows every state', () => {
    const svg = read('runner-machine.svg');
    expect(svg, `docs/runner-machine.svg is missing: ${RUN_MAKE_DIAGRAM}`).toContain('<svg');
    expect(RUNNER_STATES.filter((s) => !svg.includes(`>${s}</text>`)), `states missing from docs/runner-machine.svg: ${RUN_MAKE_DIAGRAM}`).toEqual([]);
  });
});

describe('toMermaid / toDot / toStatelyCode of the Runner machine', () => {
  const mermaid = toMermaid(runnerMachine);

  it('shows every state and the initial one', () => {
    expect(mermaid.startsWith('stateDiagram-v2\n')).toBe(true);
    expect(mermaid).toContain(`[*] --> ${runnerMachine.root.initial.target[0]!.key}`);
    for (const s of RUNNER_STATES) expect(mermaid).toMatch(new RegExp(`^  (${s} -->|\\w+ --> ${s} )`, 'm'));
  });

  it('labels event transitions with event and guard, and routes with their restsIn guard', () => {
    expect(mermaid).toContain('Running --> Running : JOB.FINISHED [isActiveRun] / recordResult, runFinished (internal)');
    expect(mermaid).toContain('Running --> Running : [replaceDue] / stopJob, beginRun (re-enters)');
    expect(mermaid).toContain('Running --> restsIn : [runFinished]');
    for (const s of RUNNER_STATES) expect(mermaid).toContain(`restsIn --> ${s} : [restsIn ${s}]`);
    expect(mermaid).toContain('TICK [tickCanRun] / rememberTick');
    expect(mermaid).toContain('TICK [else] / skipTick, tickSkipped');
  });

  it('renders the DOT with Graphviz (WebAssembly), showing every state', async () => {
    const svg = await renderSvg(toDot(runnerMachine));
    expect(RUNNER_STATES.filter((s) => !svg.includes(`>${s}</text>`))).toEqual([]);
  });

  it('writes Stately import code that builds a machine with the same transitions', () => {
    const { guards, actions } = runnerMachine.implementations;
    const build = (config: object) => setup({ guards, actions } as never).createMachine(config as never);
    const rebuilt = new Function('createMachine', 'and', 'or', 'not', `return ${toStatelyCode(runnerMachine)}`)(
      build,
      and,
      or,
      not,
    ) as AnyStateMachine;
    expect(transitionsOf(rebuilt)).toEqual(transitionsOf(runnerMachine));
  });
});

describe('diagrams are derived from the machine, not written by hand', () => {
  const toy = setup({
    types: { context: {} as { n: number }, events: {} as { type: 'GO' } | { type: 'STOP' } },
    guards: { ready: () => true, goesTo: (_: unknown, _params: { to: string }) => true, armed: () => true },
    actions: { count: assign({ n: ({ context }) => context.n + 1 }), beep: () => {} },
  }).createMachine({
    id: 'toy',
    context: { n: 0 },
    initial: 'Idle',
    on: { STOP: { actions: 'beep' } },
    states: {
      Idle: {
        on: { GO: [{ guard: 'ready', target: 'Busy', actions: 'count' }, { target: 'Idle', reenter: true }] },
        always: [{ guard: { type: 'goesTo', params: { to: 'Busy' } }, target: 'Busy' }],
      },
      Busy: {
        entry: 'beep',
        always: [
          { guard: and(['armed', { type: 'goesTo', params: { to: 'Idle' } }]), target: 'Idle' },
          { guard: not('armed'), target: 'Busy', reenter: true },
        ],
      },
    },
  });

  it('Mermaid', () => {
    expect(toMermaid(toy)).toBe(
      [
        'stateDiagram-v2',
        '  %% Generated from the machine definition by scripts/diagram.ts: do not edit, run `make diagram`.',
        '  state goesTo <<choice>>',
        '  [*] --> Idle',
        '  Busy : entry / beep',
        '  Idle --> Busy : GO [ready] / count',
        '  Idle --> Idle : GO [else] (re-enters)',
        '  Idle --> goesTo',
        '  Busy --> Busy : [not armed] (re-enters)',
        '  Busy --> goesTo : [armed]',
        '  goesTo --> Idle : [goesTo Idle]',
        '  goesTo --> Busy : [goesTo Busy]',
        '  note left of Idle',
        '    In every state:',
        '    STOP / beep',
        '  end note',
        '',
      ].join('\n'),
    );
  });

  it('DOT', () => {
    const dot = toDot(toy);
    expect(dot).toContain('"Busy" [label="Busy\\nentry / beep"];');
    expect(dot).toContain('"goesTo" [shape=diamond');
    expect(dot).toContain('"Busy" -> "goesTo" [label="[armed]", constraint=false');
    expect(dot).toContain('"goesTo" -> "Idle" [label="[goesTo Idle]"];');
    expect(dot).toContain('In every state:\\lSTOP / beep\\l');
  });

  it('Stately code', () => {
    expect(toStatelyCode(toy)).toContain("guard: and(['armed', { type: 'goesTo', params: { to: 'Idle' } }])");
    expect(toStatelyCode(toy)).toContain("guard: not('armed')");
  });

  it('refuses what it cannot draw faithfully', () => {
    const nested = createMachine({ initial: 'a', states: { a: { initial: 'b', states: { b: {} } } } });
    expect(() => toMermaid(nested)).toThrow(/nested states/);
  });
});

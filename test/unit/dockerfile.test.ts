// Checks the image recipe without Docker: the Dockerfile is parsed and linted by the libraries behind the
// VS Code Docker language service (dockerfile-ast, dockerfile-utils), and what the image promises is asserted.
import { existsSync, readFileSync } from 'node:fs';
import { DockerfileParser, type Copy, type Dockerfile } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../../', import.meta.url);
const dockerfileText = readFileSync(new URL('Dockerfile', repoRoot), 'utf8');

const KNOWN_INSTRUCTIONS = new Set([
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'RUN',
  'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]);

// Diagnostics use the Language Server Protocol's DiagnosticSeverity, where 1 is Error (and 2 Warning); not
// dockerfile-utils' own ValidationSeverity, which only configures the checks.
const LSP_SEVERITY_ERROR = 1;

/** What would stop `docker build` or make the image unusable, as sentences; empty when the Dockerfile is sound. */
function dockerfileProblems(text: string): string[] {
  const errors = validate(text)
    .filter((d) => d.severity === LSP_SEVERITY_ERROR)
    .map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  const dockerfile = DockerfileParser.parse(text);
  const unknown = dockerfile
    .getInstructions()
    .filter((i) => !KNOWN_INSTRUCTIONS.has(i.getKeyword()))
    .map((i) => `line ${i.getRange().start.line + 1}: unknown instruction ${i.getKeyword()}`);
  const missing = [
    ...(dockerfile.getFROMs().length === 0 ? ['no FROM'] : []),
    ...(dockerfile.getCMDs().length === 0 ? ['no CMD'] : []),
  ];
  return [...errors, ...unknown, ...missing];
}

/** The instructions of the last stage: what the shipped image is made of. */
function finalStage(dockerfile: Dockerfile) {
  const lastFrom = dockerfile.getFROMs().at(-1);
  if (!lastFrom) throw new Error('no FROM');
  const startLine = lastFrom.getRange().start.line;
  return dockerfile.getInstructions().filter((i) => i.getRange().start.line >= startLine);
}

describe('Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(dockerfileText);

  it('parses with only known instructions, a FROM and a CMD', () => {
    expect(dockerfileProblems(dockerfileText)).toEqual([]);
  });

  it('would be caught if it were broken', () => {
    expect(dockerfileProblems('FORM node:24-slim\nRUN echo hi\n')).toEqual(
      expect.arrayContaining([expect.stringContaining('unknown instruction FORM'), 'no FROM', 'no CMD']),
    );
    expect(dockerfileProblems('FROM node:24-slim\nCOPY src/\nEXPOSE metrics\nCMD ["node", "src/main.ts"]\n')).toEqual([
      'line 2: COPY requires at least two arguments',
      'line 3: Invalid containerPort: metrics',
    ]);
  });

  it('builds every stage on node:24-slim and has more than one stage', () => {
    const images = dockerfile.getFROMs().map((f) => f.getImage());
    expect(images.length).toBeGreaterThan(1);
    expect(new Set(images)).toEqual(new Set(['node:24-slim']));
  });

  it('installs production dependencies only, from the lockfile', () => {
    const runs = dockerfile.getInstructions().filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
    expect(runs.some((r) => /\bnpm ci\b/.test(r) && r.includes('--omit=dev'))).toBe(true);
  });

  it('builds the JavaScript from the sources and ships it with the CRDs and package files, all of which exist', () => {
    const fromContext = (instructions: readonly { getKeyword(): string }[]) =>
      instructions
        .filter((i): i is Copy => i.getKeyword() === 'COPY')
        .filter((copy) => copy.getFromFlag() === null) // from the build context, not from another stage
        .flatMap((i) => i.getArguments().slice(0, -1).map((a) => a.getValue()));
    const all = fromContext(dockerfile.getInstructions());
    expect(all).toEqual(expect.arrayContaining(['scripts/build-js.ts', 'src/', 'machines/', 'crds/', 'package.json', 'package-lock.json']));
    for (const path of all) expect(existsSync(new URL(path, repoRoot)), path).toBe(true);
    const final = finalStage(dockerfile).filter((i): i is Copy => i.getKeyword() === 'COPY');
    expect(final.filter((c) => c.getFromFlag()?.getValue() === 'build').map((c) => c.getArguments()[0]?.getValue())).toEqual(['/app/dist']);
    expect(fromContext(final)).not.toContain('src/');
    const runs = dockerfile.getInstructions().filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
    expect(runs.some((r) => r.includes('scripts/build-js.ts'))).toBe(true);
  });

  it('runs `node dist/src/main.js` as a non-root user', () => {
    const stage = finalStage(dockerfile);
    const cmd = dockerfile.getCMDs().at(-1);
    expect(cmd?.getArgumentsContent()).toBe('["node", "dist/src/main.js"]');
    const user = stage.filter((i) => i.getKeyword() === 'USER').at(-1)?.getArgumentsContent() ?? '';
    expect(user).not.toBe('');
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
  });
});

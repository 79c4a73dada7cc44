// The Go tools tests use as real clients (test/tools/<name>/): built once from Go modules and
// cached outside the repo by test/tools/build.sh, then run as separate processes.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const built = new Map<string, string>();

/** Path of the tool's binary, building it first if its cache entry is missing. */
export function toolPath(name: string): string {
  let path = built.get(name);
  if (!path) {
    const script = new URL('../tools/build.sh', import.meta.url).pathname;
    const out = execFileSync(script, [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    path = out.trim().split('\n').at(-1)!;
    built.set(name, path);
  }
  return path;
}

/** Runs a tool with `input` on stdin; returns its stdout (throws with its stderr if it fails). */
export function runTool(name: string, args: string[], input = ''): string {
  return execFileSync(toolPath(name), args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/**
 * The directory of a Go module that the module test/tools/<tool> requires, fetched into the Go module cache
 * and checked against that module's go.sum: for tests that read a module's files (an upstream project's
 * CustomResourceDefinitions) rather than run its code.
 */
export function moduleDir(tool: string, modulePath: string): string {
  const cwd = new URL(`../tools/${tool}/`, import.meta.url).pathname;
  // As test/tools/build.sh: Go on the PATH, else where its official archive installs.
  const onPath = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(`${d}/go`));
  const go = onPath ? 'go' : '/usr/local/go/bin/go';
  const out = execFileSync(go, ['mod', 'download', '-json', modulePath], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=readonly' },
  });
  return (JSON.parse(out) as { Dir: string }).Dir;
}

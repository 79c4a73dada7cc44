// The Go tools tests use as real clients (test/tools/<name>/): built from Go modules before any test
// runs (`make tools`, a prerequisite of `make test`) and cached outside the repo by
// test/tools/build.sh. A test never builds or downloads one: a tool that is missing fails at once,
// naming the command that builds it, instead of building inside the test's timeout.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const built = new Map<string, string>();

/** Path of the tool's binary; throws, saying how to build it, when it has not been built. */
export function toolPath(name: string): string {
  let path = built.get(name);
  if (!path) {
    const script = new URL('../tools/build.sh', import.meta.url).pathname;
    try {
      path = execFileSync(script, ['--path', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').at(-1)!;
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
      throw new Error(stderr || `test/tools/${name} is not built: run 'make tools'`);
    }
    built.set(name, path);
  }
  return path;
}

/** Runs a tool with `input` on stdin; returns its stdout (throws with its stderr if it fails). */
export function runTool(name: string, args: string[], input = ''): string {
  return execFileSync(toolPath(name), args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/**
 * The directory of a Go module that the module test/tools/<tool> requires, from the Go module cache, where
 * `make tools` put it (checked against that module's go.sum): for tests that read a module's files (an upstream
 * project's CustomResourceDefinitions) rather than run its code. GOPROXY=off: a module not fetched yet is an
 * error naming `make tools`, never a download inside a test.
 */
export function moduleDir(tool: string, modulePath: string): string {
  const cwd = new URL(`../tools/${tool}/`, import.meta.url).pathname;
  // As test/tools/build.sh: Go on the PATH, else where its official archive installs.
  const onPath = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(`${d}/go`));
  const go = onPath ? 'go' : '/usr/local/go/bin/go';
  try {
    const out = execFileSync(go, ['mod', 'download', '-json', modulePath], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GOFLAGS: '-mod=readonly', GOPROXY: 'off' },
    });
    return (JSON.parse(out) as { Dir: string }).Dir;
  } catch (err) {
    const detail = String((err as { stdout?: unknown }).stdout ?? '') + String((err as { stderr?: unknown }).stderr ?? '');
    throw new Error(`${modulePath} is not in the Go module cache: run 'make tools' first (${detail.trim().slice(0, 300)})`);
  }
}

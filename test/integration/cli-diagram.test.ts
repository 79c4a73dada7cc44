// `kubectl hestia diagram RUNNER` as a person runs it: the real CLI process (src/cli.ts) reading Runners from the real
// control plane, their statuses written by the real operator (scoped to the file's namespace), and the diagram it
// writes with the state each Runner is in lit. Usage errors, which need no cluster, are in test/unit/cli-diagram.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL } from '../../src/api/runner.ts';
import { Operator } from '../../src/operator/operator.ts';
import { hestiaIn } from './support/cli.ts';
import { operatorClient } from './support/identity.ts';
import { createNamespace, createRunner, deleteNamespace, installCrd, runnerManifest, waitForRunner } from './support/kube.ts';
import { grant, kubeConfigAs } from './support/users.ts';

const dir = mkdtempSync(join(tmpdir(), 'hestia-cli-diagram-'));
let ns: string;
/** A namespace no operator watches: its Runners keep the empty status they were created with. */
let unwatched: string;
let operator: Operator | undefined;

beforeAll(async () => {
  await installCrd();
  [ns, unwatched] = await Promise.all([createNamespace('cli-diagram'), createNamespace('cli-diagram-unwatched')]);
  operator = new Operator({ client: await operatorClient(), log: pino({ level: process.env.HESTIA_TEST_LOG ?? 'silent' }), scope: { namespaces: [ns] } });
  await operator.start();
  // One Runner waits for a workload that does not exist; the other has nothing to wait for and runs once, passing.
  await createRunner(runnerManifest(ns, 'waiting', { workloadSelector: { matchLabels: { app: 'not-deployed' } } }));
  await createRunner(runnerManifest(ns, 'passing', {}));
  await Promise.all([
    waitForRunner(ns, 'waiting', 'WaitingForWorkloads', (r) => r.status?.state === 'WaitingForWorkloads'),
    waitForRunner(ns, 'passing', 'Succeeded', (r) => r.status?.state === 'Succeeded'),
  ]);
});
afterAll(async () => {
  await operator?.stop();
  await Promise.all([ns, unwatched].filter(Boolean).map(deleteNamespace));
  rmSync(dir, { recursive: true, force: true });
});

/** The ids of the SVG's boxes that carry the class "lit" (Graphviz writes '-' in ids as '&#45;'). */
const litIn = (svg: string): string[] =>
  [...svg.matchAll(/<g id="([^"]*)" class="[^"]*\blit\b[^"]*"/g)].map((m) => m[1]!.replaceAll('&#45;', '-')).sort();

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('hestia diagram RUNNER', () => {
  it('writes the SVG to stdout with the state the operator gave the Runner lit, and the groups around it', async () => {
    const r = await hestiaIn(ns, 'diagram', 'waiting');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^<\?xml|^<svg/);
    expect(litIn(r.stdout)).toEqual(['state-atRest', 'state-atRest.blocked', 'state-atRest.blocked.WaitingForWorkloads']);
  });

  it('writes to --file, and nothing to stdout, the diagram of a Runner whose run succeeded', async () => {
    const file = join(dir, 'passing.svg');
    const r = await hestiaIn(ns, 'diagram', 'passing', '--file', file);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(litIn(readFileSync(file, 'utf8'))).toEqual(['state-atRest', 'state-atRest.Succeeded']);
  });

  it('writes a PNG with -o png --file', async () => {
    const file = join(dir, 'passing.png');
    const r = await hestiaIn(ns, 'diagram', 'passing', '-o', 'png', '--file', file);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const png = readFileSync(file);
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    // The first chunk of a PNG is its header, which gives the picture's width and height.
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)].every((side) => side > 0)).toBe(true);
  });

  it('draws a Runner the operator has not seen with nothing lit, and says so on stderr', async () => {
    await createRunner(runnerManifest(unwatched, 'new', {}));
    const r = await hestiaIn(unwatched, 'diagram', 'new');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('id="state&#45;Running"');
    expect(litIn(r.stdout)).toEqual([]);
    expect(r.stderr).toBe(`hestia diagram: Runner ${unwatched}/new has no state yet: nothing is lit\n`);
  });

  it("exits 4 with the API server's NotFound, naming the Runner", async () => {
    const r = await hestiaIn(ns, 'diagram', 'no-such-runner');
    expect(r).toEqual({ code: 4, stdout: '', stderr: `hestia: Runner ${ns}/no-such-runner not found\n` });
  });

  it('exits 4 with the refusal for a user who may list Runners but not get one, naming the permission', async () => {
    const user = 'diagram-viewer-without-get';
    await grant(ns, user, 'cli-diagram', [{ apiGroups: [GROUP], resources: [PLURAL], verbs: ['list'] }]);
    const kubeconfig = join(dir, `${user}.kubeconfig`);
    writeFileSync(kubeconfig, kubeConfigAs(user).exportConfig());
    const r = await hestiaIn(ns, 'diagram', 'waiting', '--kubeconfig', kubeconfig);
    expect(r).toEqual({
      code: 4,
      stdout: '',
      stderr: `hestia: not allowed to read Runner ${ns}/waiting (403): your user needs get on it (kubectl auth can-i get runners)\n`,
    });
  });
});

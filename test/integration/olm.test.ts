// The OLM bundle and catalog (`make bundle`, `make catalog`) checked by the Operator Framework's own code,
// built from its Go modules (test/tools/olm-validate): the validators `operator-sdk bundle validate` runs, and
// the model validation `opm validate` runs on a file-based catalog. Then OLM's own CRDs (from the
// operator-framework/api module) on the test cluster accept the ClusterServiceVersion and deploy/olm.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_DIR } from '../../scripts/deploy-sources.ts';
import { PACKAGE } from '../../scripts/olm-bundle.ts';
import { CATALOG_FILE } from '../../scripts/olm-catalog.ts';
import { moduleDir, toolPath } from '../support/tools.ts';
import { createNamespace, deleteNamespace, waitFor } from './support/kube.ts';

const kubectl = process.env.HESTIA_KUBECTL ?? 'kubectl';
let validator: string;
let ns: string | undefined;

function run(command: string, args: string[]): { status: number | null; out: string; err: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: REPO_DIR, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

const validate = (what: 'bundle' | 'catalog', dir: string) => run(validator, [what, dir]);

/** A copy of a committed directory to break on purpose. */
function copyOf(dir: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'hestia-olm-')), dir);
  cpSync(join(REPO_DIR, dir), copy, { recursive: true });
  return copy;
}

beforeAll(() => {
  // A cold build takes minutes (test/tools/README.md); later runs find it cached.
  validator = toolPath('olm-validate');
}, 30 * 60_000);

afterAll(async () => {
  if (ns) await deleteNamespace(ns);
});

describe('the OLM bundle', () => {
  it('passes the validators of operator-sdk bundle validate, with the operatorframework suite, without a warning', () => {
    const result = validate('bundle', 'bundle');
    expect(result.out + result.err).toBe('');
    expect(result.status).toBe(0);
  });

  it('would fail them if broken', () => {
    const broken = copyOf('bundle');
    rmSync(join(broken, 'manifests/e2e.stakater.com_runners.yaml'));
    const annotations = join(broken, 'metadata/annotations.yaml');
    writeFileSync(annotations, readFileSync(annotations, 'utf8').replace(/^.*bundle\.package\.v1.*$/m, ''));
    const result = validate('bundle', broken);
    expect(result.status).toBe(1);
    expect(result.out).toContain('ERROR bundle format');
    expect(result.out).toMatch(/ERROR .*owned CRD "e2e\.stakater\.com\/v1alpha1, Kind=Runner" not found in bundle/);
  });
});

describe('the file-based catalog', () => {
  it('passes opm’s model validation', () => {
    const result = validate('catalog', 'catalog');
    expect(result.out + result.err).toBe('');
    expect(result.status).toBe(0);
  });

  it('would fail it if the channel lost its entry for the bundle', () => {
    const broken = copyOf('catalog');
    const file = join(broken, CATALOG_FILE.slice('catalog/'.length));
    writeFileSync(file, readFileSync(file, 'utf8').replace(/- name: hestia-operator\.v[^\n]+/, '- name: hestia-operator.v9.9.9'));
    const result = validate('catalog', broken);
    expect(result.status).toBe(1);
    expect(result.out).toMatch(/bundle "hestia-operator\.v\S+" not found in any channel entries/);
  });
});

describe('OLM’s own CRDs on the test cluster', () => {
  it('accept the ClusterServiceVersion and the CatalogSource, OperatorGroup and Subscription of deploy/olm', async () => {
    const crds = join(moduleDir('olm-validate', 'github.com/operator-framework/api'), 'crds');
    const kinds = ['clusterserviceversions', 'catalogsources', 'operatorgroups', 'subscriptions'];
    for (const kind of kinds) {
      const applied = run(kubectl, ['apply', '--server-side', '-f', join(crds, `operators.coreos.com_${kind}.yaml`)]);
      expect(applied.status, applied.err).toBe(0);
    }
    await waitFor('OLM’s CRDs to be established', () =>
      run(kubectl, ['wait', '--for=condition=Established', '--timeout=5s', ...kinds.map((k) => `crd/${k}.operators.coreos.com`)]).status === 0,
    );

    ns = await createNamespace('olm-csv');
    const csv = run(kubectl, ['apply', '--dry-run=server', '-n', ns, '-f', `bundle/manifests/${PACKAGE}.clusterserviceversion.yaml`]);
    expect(csv.status, csv.err).toBe(0);
    expect(csv.out).toMatch(/^clusterserviceversion\.operators\.coreos\.com\/hestia-operator\.v\S+ created \(server dry run\)$/m);

    // A server dry run creates nothing, so the namespaces the objects go to must exist already.
    for (const name of ['olm', 'hestia-system']) {
      const created = run(kubectl, ['create', 'namespace', name]);
      if (created.status !== 0) expect(created.err).toContain('AlreadyExists');
    }
    const subscription = run(kubectl, ['apply', '--dry-run=server', '-k', 'deploy/olm']);
    expect(subscription.status, subscription.err).toBe(0);
    for (const kind of ['catalogsource', 'operatorgroup', 'subscription']) expect(subscription.out).toContain(`${kind}.operators.coreos.com/hestia-operator`);
  });
});

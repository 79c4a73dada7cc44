// The OLM bundle and catalog are generated from deploy/ (scripts/olm-bundle.ts, scripts/olm-catalog.ts): the
// committed files must be what the generators write today, say what deploy/ says, and agree with deploy/olm.
// test/integration/olm.test.ts runs OLM's own validators on them.
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { readDeploySources, REPO_DIR } from '../../scripts/deploy-sources.ts';
import { BUNDLE_ANNOTATIONS, CHANNEL, defaultReleaseNames, ICON_PATH, PACKAGE, renderBundle } from '../../scripts/olm-bundle.ts';
import { CATALOG_FILE, renderCatalog } from '../../scripts/olm-catalog.ts';
import { filesUnder } from '../../scripts/olm.ts';

const read = (path: string) => readFileSync(join(REPO_DIR, path), 'utf8');
const yamlDocs = (path: string) => (loadAll(read(path)) as Record<string, any>[]).filter(Boolean);

const sources = readDeploySources();
const names = defaultReleaseNames();
const icon = read(ICON_PATH);
const bundle = renderBundle(sources, names, icon);
const catalog = renderCatalog(sources, names, icon);
const csv = yamlDocs(`bundle/manifests/${PACKAGE}.clusterserviceversion.yaml`)[0]!;

describe('the committed OLM bundle and catalog', () => {
  it('are what `make bundle` and `make catalog` write from deploy/ today', () => {
    for (const [path, text] of [...bundle, ...catalog]) expect(read(path), `${path} is out of date: run make bundle catalog`).toBe(text);
    expect(filesUnder('bundle').sort()).toEqual([...bundle.keys()].filter((p) => p.startsWith('bundle/')).sort());
    expect(filesUnder('catalog').sort()).toEqual([...catalog.keys()].filter((p) => p.startsWith('catalog/')).sort());
  });

  it('install the Deployment of deploy/manager with the release image, under the RBAC of deploy/rbac', () => {
    const [deployment] = csv.spec.install.spec.deployments;
    const expected = structuredClone(sources.deployment.spec!);
    expected.template.spec!.containers[0]!.image = names.operatorImage;
    expect(deployment.spec).toEqual(expected);
    expect(csv.spec.install.spec.clusterPermissions).toEqual([{ serviceAccountName: 'hestia-operator', rules: sources.clusterRole.rules }]);
    expect(csv.spec.install.spec.permissions).toEqual([{ serviceAccountName: 'hestia-operator', rules: sources.leaderElectionRole.rules }]);
    expect(csv.metadata.annotations.containerImage).toBe(names.operatorImage);
  });

  it('ship the ClusterRole of deploy/rbac that aggregates read access to the kinds of spec.resources', () => {
    const [role] = yamlDocs('bundle/manifests/hestia-operator-watched-resources_rbac.authorization.k8s.io_v1_clusterrole.yaml');
    expect(role).toEqual(sources.watchedResourcesRole);
    expect(role!.aggregationRule.clusterRoleSelectors).toEqual([{ matchLabels: { 'runner.stakater.com/aggregate-to-hestia': 'true' } }]);
  });

  it('own the Runner, Destination and Notification CRDs, ship them unchanged, and offer the samples of deploy/samples as alm-examples', () => {
    expect(csv.spec.customresourcedefinitions.owned).toEqual([
      expect.objectContaining({ name: 'runners.e2e.stakater.com', version: 'v1alpha1', kind: 'Runner' }),
      expect.objectContaining({ name: 'destinations.e2e.stakater.com', version: 'v1alpha1', kind: 'Destination' }),
      expect.objectContaining({ name: 'notifications.e2e.stakater.com', version: 'v1alpha1', kind: 'Notification' }),
    ]);
    for (const owned of csv.spec.customresourcedefinitions.owned as { description: string }[]) expect(owned.description).not.toBe('');
    expect(sources.crds.map((c) => c.metadata!.name)).toEqual(['runners.e2e.stakater.com', 'destinations.e2e.stakater.com', 'notifications.e2e.stakater.com']);
    for (const crd of sources.crds) expect(yamlDocs(`bundle/manifests/e2e.stakater.com_${crd.spec.names.plural}.yaml`)[0]).toEqual(crd);
    const examples = JSON.parse(csv.metadata.annotations['alm-examples']) as { kind: string; metadata: { name: string }; spec: unknown }[];
    expect(examples.map((e) => e.metadata.name)).toEqual(['my-generic-runner', 'my-scheduled-runner', 'runner-1', 'runner-2', 'my-failing-runner', 'podinfo-smoke', 'guestbook-e2e', 'checkout-probe', 'my-junit-runner', 'my-advisory-runner', 'my-after-advisory-runner', 'my-flaky-runner', 'shop-slack', 'shop-failures', 'cloudevents-receiver', 'all-runs']);
    // A Secret beside the samples (the Slack webhook's) is no example of a kind the operator owns.
    expect(new Set(examples.map((e) => e.kind))).toEqual(new Set(['Runner', 'Destination', 'Notification']));
    expect(examples.map((e) => e.spec)).toEqual(sources.samples.map((s) => s.spec));
  });

  it('are package hestia-operator on channel alpha, in the bundle metadata, its image labels and the catalog', () => {
    expect(yamlDocs('bundle/metadata/annotations.yaml')[0]!.annotations).toEqual(BUNDLE_ANNOTATIONS);
    expect(BUNDLE_ANNOTATIONS).toMatchObject({
      'operators.operatorframework.io.bundle.package.v1': 'hestia-operator',
      'operators.operatorframework.io.bundle.channels.v1': 'alpha',
    });
    const labels = read('bundle.Dockerfile').split('\n').filter((l) => l.startsWith('LABEL ')).map((l) => l.slice(6).split('='));
    expect(Object.fromEntries(labels)).toEqual(BUNDLE_ANNOTATIONS);
    const [pkg, channel, olmBundle] = yamlDocs(CATALOG_FILE);
    expect(pkg).toMatchObject({ schema: 'olm.package', name: PACKAGE, defaultChannel: CHANNEL });
    expect(channel).toMatchObject({ schema: 'olm.channel', package: PACKAGE, name: CHANNEL, entries: [{ name: csv.metadata.name }] });
    expect(olmBundle).toMatchObject({ schema: 'olm.bundle', name: csv.metadata.name, image: names.bundleImage });
    expect(olmBundle!.properties).toContainEqual({ type: 'olm.package', value: { packageName: PACKAGE, version: csv.spec.version } });
  });

  it('are what deploy/olm subscribes to', () => {
    const [catalogSource] = yamlDocs('deploy/olm/catalog_source.yaml');
    const objects = yamlDocs('deploy/olm/subscription.yaml');
    const subscription = objects.find((o) => o.kind === 'Subscription')!;
    const operatorGroup = objects.find((o) => o.kind === 'OperatorGroup')!;
    expect(catalogSource!.spec.image).toBe(names.catalogImage);
    expect(subscription.spec).toMatchObject({
      name: PACKAGE,
      channel: CHANNEL,
      source: catalogSource!.metadata.name,
      sourceNamespace: catalogSource!.metadata.namespace,
    });
    // No targetNamespaces: the operator group is for all namespaces, the only install mode the CSV supports.
    expect(operatorGroup.metadata.namespace).toBe(subscription.metadata.namespace);
    expect(operatorGroup.spec?.targetNamespaces).toBeUndefined();
    expect(csv.spec.installModes.filter((m: { supported: boolean }) => m.supported)).toEqual([{ type: 'AllNamespaces', supported: true }]);
  });

  it('have image recipes that parse without errors', () => {
    for (const file of ['bundle.Dockerfile', 'catalog.Dockerfile']) {
      expect(validate(read(file)).filter((d) => d.severity === 1), file).toEqual([]);
    }
  });
});

describe('reading deploy/', () => {
  it('refuses a kustomization feature the generators would not apply', () => {
    const repo = mkdtempSync(join(tmpdir(), 'hestia-deploy-'));
    cpSync(join(REPO_DIR, 'deploy'), join(repo, 'deploy'), { recursive: true });
    cpSync(join(REPO_DIR, 'crds'), join(repo, 'crds'), { recursive: true });
    mkdirSync(join(repo, 'deploy', 'manager'), { recursive: true });
    writeFileSync(join(repo, 'deploy/manager/kustomization.yaml'), read('deploy/manager/kustomization.yaml') + 'patches:\n  - path: more-memory.yaml\n');
    expect(() => readDeploySources(repo)).toThrow(/deploy\/manager\/kustomization.yaml: patches not supported/);
  });

  it('notices a rendering that no longer matches deploy/', () => {
    const changed = structuredClone(sources);
    changed.clusterRole.rules!.push({ apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'] });
    const csvPath = `bundle/manifests/${PACKAGE}.clusterserviceversion.yaml`;
    expect(renderBundle(changed, names, icon).get(csvPath)).not.toBe(read(csvPath));
  });
});

// Renders Hestia's OLM bundle (registry+v1) from deploy/: a ClusterServiceVersion whose install strategy is the
// Deployment of deploy/manager and the RBAC of deploy/rbac, Hestia's CRDs, the metrics Service, the bundle's
// metadata/annotations.yaml, and bundle.Dockerfile. Pure: sources in, files out; `make bundle`
// (scripts/olm.ts) writes them, and test/unit/olm-packaging.test.ts fails when the committed ones differ.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject, V1CustomResourceDefinition, V1Deployment, V1PolicyRule } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { GROUP, VERSION } from '../src/api/runner.ts';
import { REPO_DIR, type DeploySources } from './deploy-sources.ts';

export const PACKAGE = 'hestia-operator';
export const CHANNEL = 'alpha';

export interface ReleaseNames {
  /** The operator's version (package.json), also the bundle's. */
  version: string;
  /** The operator image the bundle installs. */
  operatorImage: string;
  /** The bundle image (bundle.Dockerfile), listed in the catalog. */
  bundleImage: string;
  /** The catalog image (catalog.Dockerfile), which deploy/olm's CatalogSource serves. */
  catalogImage: string;
}

export const IMAGE_REGISTRY = 'registry.example.com/stakater';

/** The names a release gets unless `make bundle` / `make catalog` are told otherwise. */
export function defaultReleaseNames(repoDir: string = REPO_DIR): ReleaseNames {
  const { version } = JSON.parse(readFileSync(join(repoDir, 'package.json'), 'utf8')) as { version: string };
  return {
    version,
    operatorImage: `${IMAGE_REGISTRY}/hestia:v${version}`,
    bundleImage: `${IMAGE_REGISTRY}/${PACKAGE}-bundle:v${version}`,
    catalogImage: `${IMAGE_REGISTRY}/${PACKAGE}-catalog:v${version}`,
  };
}

export const csvName = (version: string) => `${PACKAGE}.v${version}`;

/** Bundle annotations: what OLM reads from the bundle image's labels and metadata/annotations.yaml. */
export const BUNDLE_ANNOTATIONS: Record<string, string> = {
  'operators.operatorframework.io.bundle.mediatype.v1': 'registry+v1',
  'operators.operatorframework.io.bundle.manifests.v1': 'manifests/',
  'operators.operatorframework.io.bundle.metadata.v1': 'metadata/',
  'operators.operatorframework.io.bundle.package.v1': PACKAGE,
  'operators.operatorframework.io.bundle.channels.v1': CHANNEL,
  'operators.operatorframework.io.bundle.channel.default.v1': CHANNEL,
};

const GENERATED = 'Generated from deploy/ by scripts/olm-bundle.ts: do not edit, run `make bundle`.';

export function toYaml(object: unknown): string {
  return dump(object, { lineWidth: -1, noRefs: true });
}

const DESCRIPTION = `Hestia runs your end-to-end tests, smoke checks and data checks as Kubernetes Jobs exactly when the system
under test is truly ready: after the workloads a Runner selects have finished rolling out, after the upstream
Runners it selects have passed, or on a cron schedule while everything is ready. Each Runner is a state machine
whose state, last run and reasons are in its status and Events.

A Runner may also wait for objects of any kind (Flux HelmReleases, Argo CD Applications, Argo Rollouts, Knative
Services, ...), ready by kstatus or by a CEL expression, and for HTTP endpoints that must answer before a run.

A workload or resource is only ever selected when it carries the label \`runner.stakater.com/enable: "true"\`. The
operator reads them and never writes to them. To let it read more kinds, bind the ClusterRole
\`hestia-operator-watched-resources\` (shipped in this bundle) to the operator's ServiceAccount and add ClusterRoles
labelled \`runner.stakater.com/aggregate-to-hestia: "true"\` with read rules for those kinds.

Teams hear of runs through a Destination (a CloudEvents receiver, a JSON webhook, a Slack or Microsoft Teams
incoming webhook, its address and token in a Secret) and a Notification (which Runners, which happenings: a failed
run, a recovery, a stall), both in their own namespace.
`;

/** How the console names each kind Hestia owns, and the native kinds the operator uses for its objects. */
const OWNED_KINDS: Record<string, { displayName: string; resources: { kind: string; name: string; version: string }[] }> = {
  Runner: { displayName: 'Runner', resources: [{ kind: 'Job', name: '', version: 'v1' }] },
  Destination: { displayName: 'Destination', resources: [{ kind: 'Secret', name: '', version: 'v1' }] },
  Notification: { displayName: 'Notification', resources: [] },
};

/** The CSV's entry for one owned CRD: what OLM's console shows of the kind. */
function ownedCrd(crd: V1CustomResourceDefinition): Record<string, unknown> {
  const kind = crd.spec.names.kind;
  const owned = OWNED_KINDS[kind];
  if (!owned) throw new Error(`crds/: no console name for the kind ${kind} (OWNED_KINDS in scripts/olm-bundle.ts)`);
  return {
    name: crd.metadata!.name!,
    version: VERSION,
    kind,
    displayName: owned.displayName,
    description: crd.spec.versions.find((v) => v.name === VERSION)!.schema!.openAPIV3Schema!.description!,
    ...(owned.resources.length > 0 ? { resources: owned.resources } : {}),
  };
}

/** The Deployment's pod spec, with the operator image the bundle installs. */
function installedDeploymentSpec(deployment: V1Deployment, image: string): V1Deployment['spec'] {
  const spec = structuredClone(deployment.spec!);
  const containers = spec.template.spec!.containers;
  const operator = containers.find((c) => c.name === 'operator');
  if (!operator) throw new Error('deploy/manager: the Deployment has no container named operator');
  operator.image = image;
  return spec;
}

export function clusterServiceVersion(sources: DeploySources, names: ReleaseNames, icon: string): KubernetesObject & Record<string, unknown> {
  const { crds, deployment, serviceAccount, clusterRole, leaderElectionRole, samples } = sources;
  const account = serviceAccount.metadata!.name!;
  // alm-examples: the samples as a user would write them (no namespace: OLM's console creates them where asked).
  const examples = samples.map(({ apiVersion, kind, metadata, spec }) => ({ apiVersion, kind, metadata: { name: metadata.name, ...(metadata.labels ? { labels: metadata.labels } : {}) }, spec }));
  return {
    apiVersion: 'operators.coreos.com/v1alpha1',
    kind: 'ClusterServiceVersion',
    metadata: {
      name: csvName(names.version),
      annotations: {
        'alm-examples': JSON.stringify(examples, null, 2),
        capabilities: 'Basic Install',
        categories: 'Developer Tools,Integration & Delivery',
        containerImage: names.operatorImage,
        description: 'Runs verification Jobs (e2e tests, smoke checks) when the system under test is truly ready.',
        // The console's install form proposes the namespace deploy/ uses.
        'operators.operatorframework.io/suggested-namespace': deployment.metadata!.namespace!,
      },
    },
    spec: {
      displayName: 'Hestia',
      description: DESCRIPTION,
      version: names.version,
      maturity: CHANNEL,
      // CRD validation rules with fieldPath and reason (crds/) are generally available from Kubernetes 1.29.
      minKubeVersion: '1.29.0',
      provider: { name: 'Stakater' },
      keywords: ['testing', 'e2e', 'smoke tests', 'verification', 'jobs', 'rollout', 'readiness'],
      icon: [{ base64data: Buffer.from(icon).toString('base64'), mediatype: 'image/svg+xml' }],
      // Hestia selects workloads in every namespace (SPEC §2.1): it is installed for all namespaces.
      installModes: [
        { type: 'OwnNamespace', supported: false },
        { type: 'SingleNamespace', supported: false },
        { type: 'MultiNamespace', supported: false },
        { type: 'AllNamespaces', supported: true },
      ],
      customresourcedefinitions: { owned: crds.map(ownedCrd) },
      install: {
        strategy: 'deployment',
        spec: {
          deployments: [{ name: deployment.metadata!.name!, label: deployment.metadata!.labels, spec: installedDeploymentSpec(deployment, names.operatorImage) }],
          clusterPermissions: [{ serviceAccountName: account, rules: clusterRole.rules as V1PolicyRule[] }],
          permissions: [{ serviceAccountName: account, rules: leaderElectionRole.rules as V1PolicyRule[] }],
        },
      },
      relatedImages: [{ name: 'hestia-operator', image: names.operatorImage }],
    },
  };
}

/** The bundle's metrics Service, in no namespace: OLM creates it in the one the operator is installed in. */
function bundleService(sources: DeploySources): KubernetesObject {
  const { metadata, ...rest } = structuredClone(sources.metricsService);
  const { namespace: _namespace, ...withoutNamespace } = metadata!;
  return { ...rest, metadata: withoutNamespace };
}

function bundleDockerfile(): string {
  return [
    `# ${GENERATED}`,
    '# The bundle image: docker build -f bundle.Dockerfile -t <bundle image> .   (`make bundle-build`)',
    'FROM scratch',
    ...Object.entries(BUNDLE_ANNOTATIONS).map(([k, v]) => `LABEL ${k}=${v}`),
    'COPY bundle/manifests /manifests/',
    'COPY bundle/metadata /metadata/',
    '',
  ].join('\n');
}

/** Every file of the bundle, by path relative to the repository. */
export function renderBundle(sources: DeploySources, names: ReleaseNames, icon: string): Map<string, string> {
  const header = `# ${GENERATED}\n`;
  return new Map([
    [`bundle/manifests/${PACKAGE}.clusterserviceversion.yaml`, header + toYaml(clusterServiceVersion(sources, names, icon))],
    ...sources.crds.map((crd): [string, string] => [`bundle/manifests/${GROUP}_${crd.spec.names.plural}.yaml`, header + toYaml(crd)]),
    [`bundle/manifests/${sources.metricsService.metadata!.name}_v1_service.yaml`, header + toYaml(bundleService(sources))],
    // Bundled for its aggregation rule; OLM cannot bind it (the install namespace is chosen at install time).
    [`bundle/manifests/${sources.watchedResourcesRole.metadata!.name}_rbac.authorization.k8s.io_v1_clusterrole.yaml`, header + toYaml(sources.watchedResourcesRole)],
    ['bundle/metadata/annotations.yaml', header + toYaml({ annotations: BUNDLE_ANNOTATIONS })],
    ['bundle.Dockerfile', bundleDockerfile()],
  ]);
}

export const ICON_PATH = 'docs/hestia-icon.svg';

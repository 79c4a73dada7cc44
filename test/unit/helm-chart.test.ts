// The Helm chart (charts/hestia) installs what deploy/ installs: the same CRDs, the same version and image.
// test/integration/helm.test.ts renders it with helm and has the API server check the result.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { REPO_DIR } from '../../scripts/deploy-sources.ts';
import { defaultReleaseNames } from '../../scripts/olm-bundle.ts';

const read = (path: string) => readFileSync(join(REPO_DIR, path), 'utf8');
const crdFiles = (dir: string) => readdirSync(join(REPO_DIR, dir)).filter((f) => f.startsWith('e2e.stakater.com_')).sort();

describe('the Helm chart', () => {
  it('ships the CRDs of crds/ unchanged, and only those (`make chart-crds` copies them)', () => {
    const crds = crdFiles('crds');
    expect(crds).toEqual(['e2e.stakater.com_destinations.yaml', 'e2e.stakater.com_notifications.yaml', 'e2e.stakater.com_runners.yaml']);
    expect(crdFiles('charts/hestia/crds')).toEqual(crds);
    for (const file of crds) expect(read(`charts/hestia/crds/${file}`), file).toBe(read(`crds/${file}`));
  });

  it('has the operator’s version and installs the image of that release by default', () => {
    const chart = load(read('charts/hestia/Chart.yaml')) as { version: string; appVersion: string };
    const values = load(read('charts/hestia/values.yaml')) as { image: { repository: string; tag: string } };
    const names = defaultReleaseNames();
    expect(chart.appVersion).toBe(names.version);
    expect(chart.version).toBe(names.version);
    // The template's default tag is "v" + appVersion.
    expect(`${values.image.repository}:v${chart.appVersion}`).toBe(names.operatorImage);
    expect(values.image.tag).toBe('');
  });
});

describe('deploy/prometheus', () => {
  it('scrapes the metrics port of the operator pods of deploy/manager', () => {
    const [service, monitor] = ['metrics_service.yaml', 'monitor.yaml'].map((f) => loadAll(read(`deploy/prometheus/${f}`))[0] as Record<string, any>);
    const deployment = loadAll(read('deploy/manager/manager.yaml'))[0] as Record<string, any>;
    const podLabels = deployment.spec.template.metadata.labels;
    const container = deployment.spec.template.spec.containers[0];
    expect(podLabels).toMatchObject(service!.spec.selector);
    expect(service!.metadata.labels).toMatchObject(monitor!.spec.selector.matchLabels);
    const port = service!.spec.ports.find((p: { name: string }) => p.name === monitor!.spec.endpoints[0].port);
    expect(container.ports).toContainEqual(expect.objectContaining({ name: port.targetPort, containerPort: 8080 }));
    expect(monitor!.spec.endpoints[0].path).toBe('/metrics');
  });
});

// SPEC §6 "refused at admission by the CRD schema / CEL rules where possible", against a real kube-apiserver:
// the CRD in crds/ is installed as users install it, then the API server itself accepts or refuses Runners.
// No operator runs here: everything asserted is the API server's answer.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ApiException, loadAllYaml } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION, type Runner } from '../../src/api/runner.ts';
import { validateRunnerSpec } from '../../src/runner/spec/spec.ts';
import { CRD_PATH, podTemplateSchema, templateSchemaInCrd } from '../../scripts/pod-template-schema.ts';
import { apiext, createNamespace, custom, deleteNamespace, installCrd } from './support/kube.ts';

const CRD_NAME = `${PLURAL}.${GROUP}`;
const validTemplate = { spec: { containers: [{ name: 'check', image: 'busybox', command: ['sh', '-c', 'exit 0'] }] } };

let namespace = '';
let counter = 0;

beforeAll(async () => {
  await installCrd();
  namespace = await createNamespace('adm');
});

afterAll(async () => {
  if (namespace) await deleteNamespace(namespace);
});

/** Creates a Runner; 'Strict' makes the API server refuse fields the schema does not know instead of dropping them. */
function createRunner(body: Runner | Manifest): Promise<Runner> {
  return custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
    body,
    fieldValidation: 'Strict',
  }) as Promise<Runner>;
}

/** A Runner manifest with any spec at all: most of these are meant to be refused, so they are not RunnerSpecs. */
type Manifest = Omit<Runner, 'spec'> & { spec: Record<string, unknown> };
const runnerWith = (spec: Record<string, unknown>): Manifest => ({
  apiVersion: API_VERSION,
  kind: KIND,
  metadata: { name: `adm-${counter++}` },
  spec,
});

/** The API server's refusal (HTTP code and Status message) of an attempt that must fail. */
async function refusal(attempt: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await attempt;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return { code: error.code, message: statusMessage(error.body) };
  }
  throw new Error('the API server accepted it');
}

function statusMessage(body: unknown): string {
  try {
    const status = typeof body === 'string' ? JSON.parse(body) : body;
    return typeof status?.message === 'string' ? status.message : String(body);
  } catch {
    return String(body);
  }
}

describe('the Runner CRD', () => {
  it('is established with the short name, category and status subresource users rely on', async () => {
    const crd = await apiext.readCustomResourceDefinition({ name: CRD_NAME });
    expect(crd.spec.names.shortNames).toEqual(['rn']);
    expect(crd.spec.names.categories).toEqual(['hestia']);
    const version = crd.spec.versions.find((v) => v.name === VERSION);
    expect(version?.subresources?.status).toEqual({});
    expect(version?.additionalPrinterColumns?.map((c) => c.name)).toEqual(
      expect.arrayContaining(['State', 'Last Result', 'Last Success', 'Next Run', 'Age']),
    );
  });
});

describe('admission accepts the Runners users write', () => {
  const samples = ['runner-generic.yaml', 'runner-scheduled.yaml', 'runner-chain.yaml', 'runner-failing.yaml', 'runner-helmrelease.yaml', 'runner-argocd-application.yaml', 'runner-probe.yaml'].flatMap((file) =>
    (loadAllYaml(readFileSync(new URL(`../../deploy/samples/${file}`, import.meta.url), 'utf8')) as Runner[])
      .filter((o) => o.kind === KIND)
      .map((runner) => [`${file}: ${runner.metadata.name}`, runner] as const),
  );

  it('has the SPEC §8 examples to try', () => {
    expect(samples.map(([, r]) => r.metadata.name)).toEqual(
      expect.arrayContaining(['my-generic-runner', 'my-scheduled-runner', 'runner-1', 'runner-2']),
    );
  });

  it.each(samples)('stores %s unchanged: no field unknown, pruned or defaulted', async (_, runner) => {
    const stored = await createRunner(runner);
    expect(stored.spec).toEqual(runner.spec);
  });

  it('stores every optional field of SPEC §2.2', async () => {
    const spec = {
      template: validTemplate,
      schedule: '*/5 9-17 * * MON-FRI',
      timeZone: 'Europe/Berlin',
      suspend: true,
      concurrencyPolicy: 'Replace',
      startingDeadlineSeconds: 0,
      deadlineSeconds: 600,
      backoffLimit: 0,
      ttlSecondsAfterFinished: 0,
      successfulRunsHistoryLimit: 10,
      failedRunsHistoryLimit: 0,
      stableStateTimeout: '1h30m',
      jobName: 'a'.repeat(52),
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] },
      runnerSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] },
      workloadSelector: { matchLabels: { app: 'shop' }, matchExpressions: [{ key: 'canary', operator: 'DoesNotExist', values: [] }] },
    };
    const stored = await createRunner(runnerWith(spec));
    expect(stored.spec).toEqual(spec);
  });

  it.each(['@hourly', '@daily', '@weekly', '@monthly', '@yearly', '0 0 * * *'])('accepts the schedule %j', async (schedule) => {
    await expect(createRunner(runnerWith({ template: validTemplate, schedule }))).resolves.toBeDefined();
  });

  it('accepts the status the operator writes (SPEC §5 and the §8.4 example) without pruning any of it', async () => {
    const created = await createRunner(runnerWith({ template: validTemplate }));
    const status = {
      conditions: [
        { type: 'ReconcileSuccess', status: 'True', lastTransitionTime: '2024-05-01T12:00:00Z', reason: 'LastReconcileCycleSucceded', message: '' },
        { type: 'JobCompleted', status: 'True', lastTransitionTime: '2024-05-01T12:01:00Z', reason: 'Successful', message: 'Reached expected number of succeeded pods' },
        { type: 'Ready', status: 'True', lastTransitionTime: '2024-05-01T12:01:00Z', reason: 'Succeeded', message: 'latest run succeeded', observedGeneration: 1 },
      ],
      observedGeneration: 1,
      state: 'Succeeded',
      message: 'latest run succeeded',
      lastSuccessfulRunTime: '2024-05-01T12:01:00Z',
      lastFailedRunTime: '2024-04-30T08:00:00.123Z',
      lastRun: {
        jobName: 'adm-check-1a2b3c4d5e',
        revision: '1a2b3c4d5e',
        trigger: 'rollout of Deployment shop/cart',
        reason: 'Revision',
        startTime: '2024-05-01T12:00:30Z',
        completionTime: '2024-05-01T12:01:00Z',
        result: 'Succeeded',
        message: 'Reached expected number of succeeded pods',
      },
      lastScheduleTime: '2024-05-01T12:00:00Z',
      nextScheduleTime: '2024-05-01T12:05:00Z',
      progressingSince: '2024-05-01T11:59:00Z',
      watchedResources: [
        { name: 'deployment-1', namespace: 'hestia-deployment-1', kind: 'Deployment', ready: true },
        { name: 'statefulset-1', namespace: 'hestia-statefulset-1', kind: 'StatefulSet', ready: true },
        { name: 'daemonset-1', namespace: 'hestia-daemonset-1', kind: 'DaemonSet', ready: true },
        { name: 'deploymentconfig-1', namespace: 'hestia-dc-1', kind: 'DeploymentConfig', ready: false, message: '1/2 available' },
      ],
      snapshot: { status: 'active', value: 'Succeeded', context: { revision: '1a2b3c4d5e', pending: null, counts: [1, 2.5] } },
    };
    const updated = (await custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name: created.metadata.name!,
      body: { ...created, status },
      fieldValidation: 'Strict',
    })) as Runner;
    expect(updated.status).toEqual(status);
  });
});

describe('admission refuses Runners that could never run', () => {
  it.each([
    ['no template at all', {}, 'spec.template: Required value'],
    ['a template without a pod spec', { template: { metadata: {} } }, 'must have spec.containers with at least one container'],
    ['a template without containers', { template: { spec: { containers: [] } } }, 'spec.template.spec.containers'],
    ['a container without an image', { template: { spec: { containers: [{ name: 'check' }] } } }, 'spec.template.spec.containers[0].image: Required value'],
    ['restartPolicy Always (a Job refuses it)', { template: { spec: { ...validTemplate.spec, restartPolicy: 'Always' } } }, 'spec.template.spec.restartPolicy: Unsupported value: "Always"'],
  ])('refuses %s', async (_, spec, expected) => {
    const { code, message } = await refusal(createRunner(runnerWith(spec)));
    expect(code).toBe(422);
    expect(message).toContain(expected);
  });

  it('says why a pod spec without containers is refused', async () => {
    const { message } = await refusal(createRunner(runnerWith({ template: { spec: { containers: [] } } })));
    expect(message).toContain('spec.template.spec.containers: Invalid value');
    expect(message).toContain('must have spec.containers with at least one container');
  });

  it.each([
    'deadlineSeconds',
    'startingDeadlineSeconds',
    'backoffLimit',
    'ttlSecondsAfterFinished',
    'successfulRunsHistoryLimit',
    'failedRunsHistoryLimit',
  ])('refuses a negative %s', async (field) => {
    const { code, message } = await refusal(createRunner(runnerWith({ template: validTemplate, [field]: -1 })));
    expect(code).toBe(422);
    expect(message).toContain(`spec.${field}: Invalid value: -1: spec.${field} in body should be greater than or equal to 0`);
  });

  it('refuses an unknown selector operator, naming the entry', async () => {
    const workloadSelector = { matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }, { key: 'b', operator: 'Gt', values: ['1'] }] };
    const { code, message } = await refusal(createRunner(runnerWith({ template: validTemplate, workloadSelector })));
    expect(code).toBe(422);
    expect(message).toContain('spec.workloadSelector.matchExpressions[1].operator: Unsupported value: "Gt"');
  });

  it.each([
    ['In without values', { key: 'a', operator: 'In' }, 'operators In and NotIn need at least one value'],
    ['NotIn with an empty list', { key: 'a', operator: 'NotIn', values: [] }, 'operators In and NotIn need at least one value'],
    ['Exists with values', { key: 'a', operator: 'Exists', values: ['x'] }, 'operators Exists and DoesNotExist take no values'],
  ])('refuses a selector requirement with %s', async (_, requirement, expected) => {
    const runnerSelector = { matchExpressions: [requirement] };
    const { code, message } = await refusal(createRunner(runnerWith({ template: validTemplate, runnerSelector })));
    expect(code).toBe(422);
    expect(message).toContain('spec.runnerSelector.matchExpressions[0].values');
    expect(message).toContain(expected);
  });

  it.each(['0 * * * * *', '* * * *', 'garbage', '@every 5m', '@minutely', 'CRON_TZ=UTC 0 * * * *'])(
    'refuses the schedule %j (not 5 fields or a supported @macro)',
    async (schedule) => {
      const { code, message } = await refusal(createRunner(runnerWith({ template: validTemplate, schedule })));
      expect(code).toBe(422);
      expect(message).toContain('spec.schedule: Invalid value');
      expect(message).toContain('must be a cron expression of 5 fields');
    },
  );

  it.each([
    ['jobName', 'Smoke', 'spec.jobName in body should match'],
    ['jobName', 'a'.repeat(53), 'spec.jobName: Too long'],
    ['concurrencyPolicy', 'Allow', 'spec.concurrencyPolicy: Unsupported value: "Allow"'],
    ['stableStateTimeout', '-5m', 'spec.stableStateTimeout in body should match'],
    ['stableStateTimeout', '1d', 'spec.stableStateTimeout in body should match'],
    ['timeZone', '+01:00', 'spec.timeZone in body should match'],
    ['suspend', 'yes', 'spec.suspend: Invalid value: "string"'],
  ])('refuses %s %j', async (field, value, expected) => {
    const { code, message } = await refusal(createRunner(runnerWith({ template: validTemplate, [field]: value })));
    expect(code).toBe(422);
    expect(message).toContain(expected);
  });
});

describe('what admission cannot see is left to the operator (reported as Stalled/InvalidSpec)', () => {
  it.each([
    ['a cron field out of range', { schedule: '61 * * * *' }, 'spec.schedule'],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, 'spec.timeZone'],
  ])('admits %s, and validateRunnerSpec names the field', async (_, fields, field) => {
    const spec = { template: validTemplate, ...fields };
    await expect(createRunner(runnerWith(spec))).resolves.toBeDefined();
    expect(validateRunnerSpec(spec).map((p) => p.field)).toEqual([field]);
  });
});

describe("the pod template is checked against Kubernetes' own pod schema", () => {
  it("is the PodTemplateSpec of this API server's Kubernetes version (after an upgrade: make crd-schema)", () => {
    const openapi = JSON.parse(execFileSync(process.env.HESTIA_KUBECTL!, ['get', '--raw', '/openapi/v3/api/v1'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    expect(templateSchemaInCrd(readFileSync(CRD_PATH, 'utf8'))).toEqual(podTemplateSchema(openapi));
  });

  const container = validTemplate.spec.containers[0]!;
  it.each([
    ['a command written as a string', { containers: [{ ...container, command: 'sh -c "exit 0"' }] }, 'spec.template.spec.containers[0].command: Invalid value: "string"'],
    ['args that are numbers', { containers: [{ ...container, args: [1] }] }, 'spec.template.spec.containers[0].args[0]: Invalid value: "integer"'],
    ['a nodeSelector that is a number', { ...validTemplate.spec, nodeSelector: 5 }, 'spec.template.spec.nodeSelector: Invalid value: "integer"'],
    ['a memory limit that is no quantity', { containers: [{ ...container, resources: { limits: { memory: 'lots' } } }] }, 'spec.template.spec.containers[0].resources.limits.memory'],
    ['an env var without a name', { containers: [{ ...container, env: [{ value: 'x' }] }] }, 'spec.template.spec.containers[0].env[0].name: Required value'],
  ])('refuses %s, naming the field', async (_, podSpec, expected) => {
    const { code, message } = await refusal(createRunner(runnerWith({ template: { spec: podSpec } })));
    expect(code).toBe(422);
    expect(message).toContain(expected);
  });

  it('accepts a CPU quantity written as a number or a string, and a port by name', async () => {
    const spec = { template: { spec: { containers: [{ ...container, resources: { limits: { cpu: 1, memory: '64Mi' } }, livenessProbe: { tcpSocket: { port: 'http' } } }] } } };
    const stored = await createRunner(runnerWith(spec));
    expect(stored.spec).toEqual(spec);
  });

  it("drops an unknown pod field as the Job API would, and refuses it under kubectl's strict field validation", async () => {
    const spec = { template: { spec: { ...validTemplate.spec, 'x-unknown': { deep: [1, 2] } } } };
    const lenient = (await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body: runnerWith(spec) })) as Runner;
    expect(lenient.spec.template).toEqual(validTemplate);
    const { message } = await refusal(createRunner(runnerWith(spec)));
    expect(message).toContain('unknown field "spec.template.spec.x-unknown"');
  });
});

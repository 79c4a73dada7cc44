import type { V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podTemplateHash, readinessOf, type DeploymentConfig } from '../../src/runner/readiness/readiness.ts';

const deployment = (replicas: number | undefined, status: V1Deployment['status'], generation = 2): V1Deployment => ({
  metadata: { name: 'cart', namespace: 'shop', generation },
  spec: {
    ...(replicas === undefined ? {} : { replicas }),
    selector: { matchLabels: { app: 'cart' } },
    template: { metadata: { labels: { app: 'cart' } }, spec: { containers: [{ name: 'cart', image: 'cart:1' }] } },
  },
  status,
});

describe('Deployment readiness', () => {
  it('is ready when the generation is observed and updated, available and total replicas equal spec.replicas', () => {
    const d = deployment(3, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 3 });
    expect(readinessOf('Deployment', d)).toEqual({ ready: true, message: '3/3 available' });
  });

  it('is not ready while the controller has not observed the latest generation', () => {
    const d = deployment(3, { observedGeneration: 3, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 4);
    expect(readinessOf('Deployment', d)).toEqual({ ready: false, message: 'rollout in progress: generation 4 not yet observed' });
  });

  it('accepts an observedGeneration ahead of the cached generation', () => {
    const d = deployment(1, { observedGeneration: 5, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }, 4);
    expect(readinessOf('Deployment', d).ready).toBe(true);
  });

  it('is not ready with fewer available replicas than desired', () => {
    const d = deployment(3, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 });
    expect(readinessOf('Deployment', d)).toEqual({ ready: false, message: '2/3 available' });
  });

  it('is not ready mid-rollout while old pods still serve, and says how far the update got', () => {
    const d = deployment(3, { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 });
    expect(readinessOf('Deployment', d)).toEqual({ ready: false, message: '1/3 updated, 4 replicas (want 3)' });
  });

  it('is not ready while surplus old pods remain after every pod is updated', () => {
    const d = deployment(3, { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 });
    expect(readinessOf('Deployment', d)).toEqual({ ready: false, message: '4 replicas (want 3)' });
  });

  it('treats absent status counters as 0', () => {
    const d = deployment(2, { observedGeneration: 2 });
    expect(readinessOf('Deployment', d)).toEqual({ ready: false, message: '0/2 available, 0/2 updated, 0 replicas (want 2)' });
  });

  it('says "replica" for one', () => {
    const d = deployment(2, { observedGeneration: 2, replicas: 1, updatedReplicas: 2, availableReplicas: 2 });
    expect(readinessOf('Deployment', d)).toEqual({ ready: false, message: '1 replica (want 2)' });
  });

  it('is not ready without any status (not yet observed)', () => {
    expect(readinessOf('Deployment', deployment(1, undefined, 1))).toEqual({
      ready: false,
      message: 'rollout in progress: generation 1 not yet observed',
    });
  });

  it('defaults spec.replicas to 1', () => {
    const ready = deployment(undefined, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 });
    expect(readinessOf('Deployment', ready)).toEqual({ ready: true, message: '1/1 available' });
    const empty = deployment(undefined, { observedGeneration: 2 });
    expect(readinessOf('Deployment', empty).ready).toBe(false);
  });

  it('is ready when scaled to 0 and every counter is 0 (the SPEC equalities hold)', () => {
    const d = deployment(0, { observedGeneration: 2 });
    expect(readinessOf('Deployment', d)).toEqual({ ready: true, message: 'scaled to 0' });
  });

  it('is not ready while scaling to 0 with pods left', () => {
    const d = deployment(0, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 });
    expect(readinessOf('Deployment', d)).toEqual({ ready: false, message: 'scaling to 0: 2 pods left' });
  });
});

const statefulSet = (replicas: number | undefined, status: V1StatefulSet['status'], generation = 1): V1StatefulSet => ({
  metadata: { name: 'db', namespace: 'shop', generation },
  spec: {
    ...(replicas === undefined ? {} : { replicas }),
    serviceName: 'db',
    selector: { matchLabels: { app: 'db' } },
    template: { spec: { containers: [{ name: 'db', image: 'db:1' }] } },
  },
  status,
});

describe('StatefulSet readiness', () => {
  it('is ready when updated and ready replicas equal spec.replicas', () => {
    const s = statefulSet(3, { observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 3 });
    expect(readinessOf('StatefulSet', s)).toEqual({ ready: true, message: '3/3 ready' });
  });

  it('is not ready with a pod not ready', () => {
    const s = statefulSet(3, { observedGeneration: 1, replicas: 3, readyReplicas: 2, updatedReplicas: 3 });
    expect(readinessOf('StatefulSet', s)).toEqual({ ready: false, message: '2/3 ready' });
  });

  it('is not ready mid-rollout', () => {
    const s = statefulSet(3, { observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 1 });
    expect(readinessOf('StatefulSet', s)).toEqual({ ready: false, message: '1/3 updated' });
  });

  it('is not ready while the generation is not observed', () => {
    const s = statefulSet(3, { observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 3 }, 2);
    expect(readinessOf('StatefulSet', s)).toEqual({ ready: false, message: 'rollout in progress: generation 2 not yet observed' });
  });

  it('does not require status.replicas or currentReplicas, which the SPEC leaves out', () => {
    const s = statefulSet(2, { observedGeneration: 1, replicas: 3, currentReplicas: 1, readyReplicas: 2, updatedReplicas: 2 });
    expect(readinessOf('StatefulSet', s).ready).toBe(true);
  });

  it('defaults spec.replicas to 1 and absent counters to 0', () => {
    expect(readinessOf('StatefulSet', statefulSet(undefined, { observedGeneration: 1, replicas: 0 }))).toEqual({
      ready: false,
      message: '0/1 ready, 0/1 updated',
    });
  });

  it('is ready scaled to 0', () => {
    expect(readinessOf('StatefulSet', statefulSet(0, { observedGeneration: 1, replicas: 0 }))).toEqual({
      ready: true,
      message: 'scaled to 0',
    });
  });
});

const daemonSet = (status: V1DaemonSet['status'], generation = 1): V1DaemonSet => ({
  metadata: { name: 'agent', namespace: 'ops', generation },
  spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { containers: [{ name: 'a', image: 'a:1' }] } } },
  status,
});

const dsStatus = (desired: number, ready: number, available: number, updated: number) => ({
  observedGeneration: 1,
  currentNumberScheduled: desired,
  desiredNumberScheduled: desired,
  numberMisscheduled: 0,
  numberReady: ready,
  numberAvailable: available,
  updatedNumberScheduled: updated,
});

describe('DaemonSet readiness', () => {
  it('is ready when ready, available and updated pods equal desiredNumberScheduled', () => {
    expect(readinessOf('DaemonSet', daemonSet(dsStatus(3, 3, 3, 3)))).toEqual({ ready: true, message: '3/3 ready' });
  });

  it('is not ready with a pod not ready', () => {
    expect(readinessOf('DaemonSet', daemonSet(dsStatus(3, 2, 2, 3)))).toEqual({ ready: false, message: '2/3 ready, 2/3 available' });
  });

  it('is not ready with a pod ready but not yet available (minReadySeconds)', () => {
    expect(readinessOf('DaemonSet', daemonSet(dsStatus(3, 3, 2, 3)))).toEqual({ ready: false, message: '2/3 available' });
  });

  it('is not ready mid-rollout', () => {
    expect(readinessOf('DaemonSet', daemonSet(dsStatus(3, 3, 3, 1)))).toEqual({ ready: false, message: '1/3 updated' });
  });

  it('is not ready while the generation is not observed', () => {
    expect(readinessOf('DaemonSet', daemonSet(dsStatus(3, 3, 3, 3), 2)).message).toBe(
      'rollout in progress: generation 2 not yet observed',
    );
  });

  it('treats absent numberAvailable and updatedNumberScheduled as 0', () => {
    const status = { observedGeneration: 1, currentNumberScheduled: 2, desiredNumberScheduled: 2, numberMisscheduled: 0, numberReady: 2 };
    expect(readinessOf('DaemonSet', daemonSet(status))).toEqual({ ready: false, message: '0/2 available, 0/2 updated' });
  });

  it('is ready when no node asks for its pod', () => {
    expect(readinessOf('DaemonSet', daemonSet(dsStatus(0, 0, 0, 0)))).toEqual({ ready: true, message: 'no node to run on' });
  });

  it('is not ready while pods remain on nodes that no longer want them', () => {
    expect(readinessOf('DaemonSet', daemonSet(dsStatus(0, 1, 1, 0)))).toEqual({ ready: false, message: 'scaling to 0: 1 pod left' });
  });
});

const deploymentConfig = (replicas: number | undefined, status: DeploymentConfig['status']): DeploymentConfig => ({
  apiVersion: 'apps.openshift.io/v1',
  kind: 'DeploymentConfig',
  metadata: { name: 'legacy', namespace: 'shop', generation: 3 },
  spec: { ...(replicas === undefined ? {} : { replicas }), template: { spec: { containers: [{ name: 'l', image: 'l:1' }] } } },
  status,
});

const available = (status: string) => [
  { type: 'Progressing', status: 'True' },
  { type: 'Available', status, reason: 'X', message: 'y' },
];

describe('DeploymentConfig readiness', () => {
  it('is ready with Available=True and ready and available replicas equal spec.replicas', () => {
    const dc = deploymentConfig(2, { conditions: available('True'), readyReplicas: 2, availableReplicas: 2, replicas: 2 });
    expect(readinessOf('DeploymentConfig', dc)).toEqual({ ready: true, message: '2/2 ready' });
  });

  it('is not ready while condition Available is False, whatever the counters say', () => {
    const dc = deploymentConfig(2, { conditions: available('False'), readyReplicas: 2, availableReplicas: 2 });
    expect(readinessOf('DeploymentConfig', dc)).toEqual({ ready: false, message: 'condition Available is False' });
  });

  it('is not ready without an Available condition', () => {
    expect(readinessOf('DeploymentConfig', deploymentConfig(2, undefined))).toEqual({
      ready: false,
      message: 'condition Available is missing',
    });
    const unknown = deploymentConfig(2, { conditions: available('Unknown') });
    expect(readinessOf('DeploymentConfig', unknown).message).toBe('condition Available is Unknown');
  });

  it('is not ready with fewer ready or available replicas than desired', () => {
    const dc = deploymentConfig(3, { conditions: available('True'), readyReplicas: 2, availableReplicas: 1 });
    expect(readinessOf('DeploymentConfig', dc)).toEqual({ ready: false, message: '2/3 ready, 1/3 available' });
  });

  it('defaults spec.replicas to 1', () => {
    const dc = deploymentConfig(undefined, { conditions: available('True'), readyReplicas: 1, availableReplicas: 1 });
    expect(readinessOf('DeploymentConfig', dc).ready).toBe(true);
  });
});

describe('podTemplateHash', () => {
  const base = deployment(3, undefined);

  it('is stable for the same template', () => {
    expect(podTemplateHash(base)).toBe(podTemplateHash(structuredClone(base)));
    expect(podTemplateHash(base)).toMatch(/^[0-9a-f]{10}$/);
  });

  it('changes on a rollout (pod template change)', () => {
    const rolled = structuredClone(base);
    rolled.spec!.template.spec!.containers[0]!.image = 'cart:2';
    expect(podTemplateHash(rolled)).not.toBe(podTemplateHash(base));
  });

  it('changes on kubectl rollout restart, which annotates the template', () => {
    const restarted = structuredClone(base);
    restarted.spec!.template.metadata!.annotations = { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T12:00:00Z' };
    expect(podTemplateHash(restarted)).not.toBe(podTemplateHash(base));
  });

  it('does not change on scaling, status or generation changes', () => {
    const scaled = structuredClone(base);
    scaled.spec!.replicas = 10;
    scaled.metadata!.generation = 9;
    scaled.status = { observedGeneration: 9, replicas: 10 };
    expect(podTemplateHash(scaled)).toBe(podTemplateHash(base));
  });

  it('does not depend on key order or on absent-versus-null fields', () => {
    const reordered: V1Deployment = {
      spec: {
        template: { spec: { containers: [{ image: 'cart:1', name: 'cart' }] }, metadata: { labels: { app: 'cart' }, annotations: undefined } },
        selector: {},
      },
    };
    const withNull = structuredClone(base) as unknown as { spec: { template: { metadata: Record<string, unknown> } } };
    withNull.spec.template.metadata.creationTimestamp = null;
    expect(podTemplateHash(reordered)).toBe(podTemplateHash(base));
    expect(podTemplateHash(withNull as unknown as V1Deployment)).toBe(podTemplateHash(base));
  });

  it('keeps the order of lists, which is meaningful in a pod template', () => {
    const twoContainers = (names: string[]): V1Deployment => ({
      spec: { selector: {}, template: { spec: { containers: names.map((name) => ({ name })) } } },
    });
    expect(podTemplateHash(twoContainers(['a', 'b']))).not.toBe(podTemplateHash(twoContainers(['b', 'a'])));
  });

  it('hashes a Date the same as its ISO text form', () => {
    const withDate = { spec: { template: { metadata: { creationTimestamp: new Date('2024-05-01T12:00:00.000Z') } } } };
    const withText = { spec: { template: { metadata: { creationTimestamp: '2024-05-01T12:00:00.000Z' } } } };
    expect(podTemplateHash(withDate)).toBe(podTemplateHash(withText));
  });

  it('works for every workload kind, reading spec.template', () => {
    const dc = deploymentConfig(1, undefined);
    const dcRolled = structuredClone(dc);
    (dcRolled.spec!.template as { spec: { containers: { image: string }[] } }).spec.containers[0]!.image = 'l:2';
    expect(podTemplateHash(dc)).not.toBe(podTemplateHash(dcRolled));
    expect(podTemplateHash(daemonSet(undefined))).toMatch(/^[0-9a-f]{10}$/);
  });

  it('gives one stable value for an object without a template', () => {
    expect(podTemplateHash({ metadata: { name: 'x' } })).toBe(podTemplateHash({ spec: {} } as V1Deployment));
  });
});

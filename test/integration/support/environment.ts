// The usual frame of an integration test file: the CRD installed, a namespace of its own, and
// the real operator running in this process; all torn down after the file.
import { afterAll, beforeAll } from 'vitest';
import type { Clock } from '../../../src/time/clock.ts';
import type { Operator } from '../../../src/operator/operator.ts';
import { createNamespace, deleteNamespace, installCrd } from './kube.ts';
import { startOperator } from './operator.ts';

export interface TestEnvironment {
  /** The file's namespace. */
  ns: string;
  /** The running operator; a test that restarts it assigns the new one here. */
  operator: Operator;
}

export interface EnvironmentOptions {
  clock?: Clock;
  /** How long the operator gathers the history limits' Job deletes of a namespace (its default if absent). */
  jobPruneWindowMs?: number;
  /** Runs after the CRD and namespace exist, before the operator starts. */
  beforeStart?: () => Promise<void>;
}

export function operatorEnvironment(prefix: string, options: EnvironmentOptions = {}): TestEnvironment {
  const env = {} as TestEnvironment;
  beforeAll(async () => {
    await installCrd();
    env.ns = await createNamespace(prefix);
    await options.beforeStart?.();
    const { beforeStart: _, ...operatorOptions } = options;
    env.operator = await startOperator(operatorOptions);
  });
  afterAll(async () => {
    await env.operator?.stop();
    if (env.ns) await deleteNamespace(env.ns);
  });
  return env;
}

// Runs the real operator in this test process against the real control plane.
import { pino } from 'pino';
import type { Clock } from '../../../src/clock.ts';
import { Operator } from '../../../src/operator.ts';
import { kubeConfig } from './kube.ts';

export async function startOperator(options: { clock?: Clock } = {}): Promise<Operator> {
  const log = pino({ level: process.env.HESTIA_TEST_LOG ?? 'silent' });
  const operator = new Operator({ kubeConfig: kubeConfig(), log, ...(options.clock ? { clock: options.clock } : {}) });
  await operator.start();
  return operator;
}

// Runs the real operator in this test process against the real control plane, as its own
// ServiceAccount (see identity.ts).
import { pino } from 'pino';
import { Operator, type OperatorOptions } from '../../../src/operator/operator.ts';
import { operatorClient } from './identity.ts';

export async function startOperator(options: Pick<OperatorOptions, 'clock' | 'jobPruneWindowMs'> = {}): Promise<Operator> {
  const log = pino({ level: process.env.HESTIA_TEST_LOG ?? 'silent' });
  // Tests probe HTTP servers of their own, on loopback.
  const operator = new Operator({ client: await operatorClient(), log, probes: { allowLocal: true }, notify: { allowLocal: true, crossNamespace: true }, ...options });
  await operator.start();
  return operator;
}

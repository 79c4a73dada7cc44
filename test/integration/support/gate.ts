// Jobs that run until the test says so: their pods need a node that only exists once the test
// "opens the gate" by creating a kwok node with the gate's label.
import type { Runner } from '../../../src/api/runner.ts';
import { core } from './kube.ts';

let counter = 0;

export interface Gate {
  label: string;
  hold(runner: Runner): Runner;
  open(): Promise<void>;
  remove(): Promise<void>;
}

export function gate(): Gate {
  const name = `gate-${process.pid}-${counter++}`;
  return {
    label: name,
    hold(runner) {
      runner.spec.template.spec!.nodeSelector = { 'hestia.test/gate': name };
      return runner;
    },
    async open() {
      await core.createNode({ body: { metadata: { name, labels: { 'hestia.test/gate': name }, annotations: { 'kwok.x-k8s.io/node': 'fake' } } } });
    },
    async remove() {
      await core.deleteNode({ name }).catch(() => undefined);
    },
  };
}

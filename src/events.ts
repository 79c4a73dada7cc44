// Kubernetes Events: what a user sees in `kubectl describe`. Best effort: an Event that cannot
// be recorded is logged, never retried in a loop, never blocks a run.
import { CoreV1Api, type KubeConfig, type V1ObjectReference } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorText } from './k8s/informer.ts';

export type EventType = 'Normal' | 'Warning';

export interface Recorder {
  record(regarding: V1ObjectReference, type: EventType, reason: string, message: string): void;
}

const COMPONENT = 'hestia-operator';

export function eventRecorder(kc: KubeConfig, log: Logger, now: () => Date): Recorder {
  const api = kc.makeApiClient(CoreV1Api);
  let sequence = 0;
  return {
    record(regarding, type, reason, message) {
      const at = now();
      sequence = (sequence + 1) % 1_000_000;
      const namespace = regarding.namespace ?? 'default';
      // Unique per process and moment: Event names only need to be unique within a namespace.
      // (The object's name is cut so that the Event's stays within the 253 characters a name may have.)
      const name = `${regarding.name?.slice(0, 220)}.${at.getTime().toString(16)}${sequence.toString(16)}`;
      api
        .createNamespacedEvent({
          namespace,
          body: {
            metadata: { name, namespace },
            involvedObject: regarding,
            type,
            reason,
            message: message.slice(0, 1024),
            source: { component: COMPONENT },
            reportingComponent: COMPONENT,
            reportingInstance: COMPONENT,
            firstTimestamp: at,
            lastTimestamp: at,
            count: 1,
          },
        })
        .catch((err: unknown) => log.warn({ err: errorText(err), reason, regarding: `${namespace}/${regarding.name}` }, 'could not record Event'));
    },
  };
}

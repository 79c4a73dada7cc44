// Kubernetes Events: what a user sees in `kubectl describe`. Best effort: an Event that cannot
// be recorded is logged, never retried in a loop, never blocks a run. Events are the lowest lane
// of the write queue: a backlog of them never delays a Job.
import type { V1ObjectReference } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import { errorText } from './informer.ts';
import type { WriteQueue } from './write-queue.ts';
import { collectionPath } from './api-paths.ts';
import { keyOf } from './object-key.ts';

export type EventType = 'Normal' | 'Warning';

/** The characters of a message an Event keeps. */
export const EVENT_MESSAGE_LIMIT = 1024;

export interface Recorder {
  record(regarding: V1ObjectReference, type: EventType, reason: string, message: string): void;
}

const COMPONENT = 'hestia-operator';

export function eventRecorder(client: KubeClient, queue: WriteQueue, log: Logger, now: () => Date): Recorder {
  let sequence = 0;
  return {
    record(regarding, type, reason, message) {
      const at = now().toISOString();
      sequence = (sequence + 1) % 1_000_000;
      const namespace = regarding.namespace ?? 'default';
      // Unique per process and moment: Event names only need to be unique within a namespace.
      // (The object's name is cut so that the Event's stays within the 253 characters a name may have.)
      const name = `${regarding.name?.slice(0, 220)}.${Date.parse(at).toString(16)}${sequence.toString(16)}`;
      const body = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: regarding,
        type,
        reason,
        message: message.slice(0, EVENT_MESSAGE_LIMIT),
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: COMPONENT,
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      };
      queue
        .run('event', () => client.send('POST', collectionPath('v1', 'events', namespace), { body }))
        .catch((err: unknown) => log.warn({ err: errorText(err), reason, regarding: keyOf(namespace, regarding.name ?? '') }, 'could not record Event'));
    },
  };
}

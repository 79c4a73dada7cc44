// A notice as a CloudEvent over HTTP, Binary (attributes in ce-* headers, the data as the body) or Structured (the
// whole event as the body), made by the CNCF SDK so that what a receiver's SDK parses is what the spec says. The SDK is
// imported only here and only when a CloudEvents Destination is delivered to: an operator without one never loads it.
import { GROUP, PLURAL, VERSION } from '../../api/runner.ts';
import type { CloudEventsMode } from '../api.ts';
import type { Notice } from '../happenings.ts';
import { CLOUDEVENTS_TYPES, isoTime, noticeData } from './notice-data.ts';

/** The event's `source`: the collection of Runners of the namespace; `subject` names the Runner within it. */
export const runnersSource = (namespace: string): string => `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;

/** Header values as the SDK gives them, strings only (it never sets a header twice). */
const plainHeaders = (headers: Record<string, string | string[] | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => typeof e[1] === 'string'));

/** A notice's time as the SDK writes it (ISO 8601 with milliseconds); one without a readable time would be stamped by the SDK, but none is queued. */
export async function cloudEventPayload(notice: Notice, mode: CloudEventsMode): Promise<{ headers: Record<string, string>; body: string }> {
  const { CloudEvent, HTTP } = await import('cloudevents');
  const time = isoTime(notice.time);
  const event = new CloudEvent({
    specversion: '1.0',
    id: notice.id,
    source: runnersSource(notice.runner.namespace),
    subject: notice.runner.name,
    type: CLOUDEVENTS_TYPES[notice.happening],
    ...(time ? { time } : {}),
    datacontenttype: 'application/json',
    data: noticeData(notice),
  });
  const message = mode === 'Structured' ? HTTP.structured(event) : HTTP.binary(event);
  return { headers: plainHeaders(message.headers), body: String(message.body) };
}

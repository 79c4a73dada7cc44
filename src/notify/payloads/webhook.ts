// The body a generic JSON webhook receives: the notice's identity and kind at the top, so a receiver can route and
// de-duplicate without reading further, and the same data a CloudEvent carries.
import type { Happening } from '../api.ts';
import type { Notice } from '../happenings.ts';
import { CLOUDEVENTS_TYPES, isoTime, noticeData, type NoticeData } from './notice-data.ts';

export interface WebhookBody {
  /** The notice's stable id: a receiver that has seen it may drop it. */
  id: string;
  /** The CloudEvents type of the happening (CLOUDEVENTS_TYPES). */
  type: string;
  happening: Happening;
  /** An ISO 8601 instant with milliseconds. */
  time: string;
  /** "<namespace>/<name>" of the Runner. */
  subject: string;
  data: NoticeData;
}

export const webhookBody = (notice: Notice): WebhookBody => ({
  id: notice.id,
  type: CLOUDEVENTS_TYPES[notice.happening],
  happening: notice.happening,
  time: isoTime(notice.time) ?? notice.time,
  subject: `${notice.runner.namespace}/${notice.runner.name}`,
  data: noticeData(notice),
});

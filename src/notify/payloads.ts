// What is sent to a Destination for a notice: its HTTP headers and body, by the Destination's type. Pure but for the
// CloudEvents SDK, which is imported the first time a CloudEvents Destination is delivered to.
import type { CloudEventsMode, DestinationType } from './api.ts';
import type { Notice } from './happenings.ts';
import { cloudEventPayload } from './payloads/cloudevents.ts';
import { teamsMessage } from './payloads/msteams.ts';
import { slackMessage } from './payloads/slack.ts';
import { webhookBody } from './payloads/webhook.ts';

export interface Payload {
  headers: Record<string, string>;
  body: string;
}

const json = (body: unknown): Payload => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export async function payloadFor(notice: Notice, type: DestinationType, options: { cloudEventsMode: CloudEventsMode }): Promise<Payload> {
  switch (type) {
    case 'CloudEvents':
      return cloudEventPayload(notice, options.cloudEventsMode);
    case 'Webhook':
      return json(webhookBody(notice));
    case 'Slack':
      return json(slackMessage(notice));
    case 'MSTeams':
      return json(teamsMessage(notice));
  }
}

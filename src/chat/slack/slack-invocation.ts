import type { Invocation } from '../../framework/invocation.js';

/** The fields of a slash command body infrabot reads (Slack sends more; the rest is ignored). */
export interface SlashCommandBody {
  trigger_id: string;
  user_id: string;
  user_name: string;
  channel_id: string;
  text: string;
}

export const slackUserId = (id: string) => `slack:${id}`;
export const slackGroupId = (id: string) => `slack-group:${id}`;

/**
 * Slack HTML-escapes &, < and > in text it sends, while mentions arrive as <@U1|name> with literal angle
 * brackets; turning the entities back gives the parser what the user typed.
 */
export function unescapeSlackText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * A slash command as an Invocation. The trigger id is unique per command and reused when Slack redelivers
 * the same body, so the pipeline's idempotency key catches retries.
 */
export function invocationFromSlashCommand(body: SlashCommandBody, groups: string[]): Invocation {
  return {
    id: body.trigger_id,
    platform: 'slack',
    user: { id: slackUserId(body.user_id), displayName: body.user_name, groups },
    channel: body.channel_id,
    text: unescapeSlackText(body.text),
  };
}

/** An `@infrabot status` mention: the text without the bot's own mention. Slack reuses event_id on retries. */
export function invocationFromMention(
  event: { user: string; text: string; channel: string },
  eventId: string,
  botUserId: string | undefined,
  displayName: string,
  groups: string[],
): Invocation {
  const own = botUserId ? new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, 'g') : /^\s*<@[A-Z0-9]+(?:\|[^>]*)?>/;
  return {
    id: eventId,
    platform: 'slack',
    user: { id: slackUserId(event.user), displayName, groups },
    channel: event.channel,
    text: unescapeSlackText(event.text.replace(own, ' ').trim()),
  };
}

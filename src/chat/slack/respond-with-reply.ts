import type { RespondArguments, RespondFn } from '@slack/bolt';
import type { Reply } from '../../framework/reply.js';
import type { SlackMessage } from './render-slack-reply.js';

export const responseType = (reply: Pick<Reply, 'visibility'>) => (reply.visibility === 'channel' ? 'in_channel' : 'ephemeral');

/** A rendered message as a slash-command ack or response_url body. */
export function toRespondArguments(message: SlackMessage, reply: Pick<Reply, 'visibility'>, extra: Partial<RespondArguments> = {}): RespondArguments {
  return { response_type: responseType(reply), text: message.text, blocks: message.blocks, ...extra } as RespondArguments;
}

/**
 * Sends messages through response_url, replacing the message it belongs to ("working on it…", or the
 * message with the clicked button) with the first one. Slack cannot turn an ephemeral message into a
 * channel message in place, so a reply for the channel deletes the ephemeral placeholder and posts anew.
 */
export async function respondReplacing(
  respond: RespondFn,
  messages: SlackMessage[],
  reply: Pick<Reply, 'visibility'>,
  original: { ephemeral: boolean },
): Promise<void> {
  const [first, ...rest] = messages;
  if (!first) return;
  if (original.ephemeral && reply.visibility === 'channel') {
    await respond({ delete_original: true });
    await respond(toRespondArguments(first, reply, { replace_original: false }));
  } else {
    await respond(toRespondArguments(first, reply, { replace_original: true }));
  }
  for (const m of rest) await respond(toRespondArguments(m, reply, { replace_original: false }));
}

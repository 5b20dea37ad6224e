import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { prepareSlackReply } from './prepare-slack-reply.js';
import { shareSlackFiles } from './share-slack-files.js';
import type { SlackHandlerDeps } from './slack-handler-deps.js';
import { invocationFromMention } from './slack-invocation.js';

type MentionArgs = SlackEventMiddlewareArgs<'app_mention'> & AllMiddlewareArgs;

/**
 * `@infrabot status` in a channel or an incident thread (slash commands cannot be used in threads).
 * The answer goes in the thread; replies meant for the caller alone are posted ephemerally there.
 */
export function createAppMentionHandler(deps: SlackHandlerDeps) {
  return async ({ event, body, context, client }: MentionArgs): Promise<void> => {
    if (!event.user || event.bot_id) return;
    const eventId = 'event_id' in body && typeof body.event_id === 'string' ? body.event_id : `${event.channel}:${event.ts}`;
    const log = deps.log.child({ event: eventId, user: event.user });
    if (!deps.recent.add(`event:${eventId}`)) {
      log.info({ retryNum: context.retryNum }, 'Slack retry of a mention already handled ignored');
      return;
    }
    const groups = await deps.groups.groupsOf(event.user);
    const name = event.user_profile?.display_name || event.user_profile?.name || event.user;
    const reply = await deps.pipeline.handle(invocationFromMention({ ...event, user: event.user }, eventId, context.botUserId, name, groups));
    const threadTs = event.thread_ts ?? event.ts;
    const { messages, files } = prepareSlackReply(reply);
    try {
      for (const m of messages) {
        if (reply.visibility === 'channel') {
          await client.chat.postMessage({ channel: event.channel, thread_ts: threadTs, text: m.text, blocks: m.blocks });
        } else {
          await client.chat.postEphemeral({ channel: event.channel, user: event.user, thread_ts: threadTs, text: m.text, blocks: m.blocks });
        }
      }
      const problem = await shareSlackFiles(deps.client, files, { channel: event.channel, threadTs, visibility: reply.visibility, userId: event.user });
      if (problem) await client.chat.postEphemeral({ channel: event.channel, user: event.user, thread_ts: threadTs, text: problem });
    } catch (err) {
      log.error({ err, traceId: reply.traceId }, 'could not answer a mention');
    }
  };
}

import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Reply } from '../../framework/reply.js';
import { prepareSlackReply } from './prepare-slack-reply.js';
import type { SlackBlock, SlackMessage } from './render-slack-reply.js';
import { respondReplacing, toRespondArguments } from './respond-with-reply.js';
import type { SlackHandlerDeps } from './slack-handler-deps.js';
import { slackUserId } from './slack-invocation.js';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;

/** Outcomes that answer only the clicker and leave the message (and its buttons) as it was. */
const PERSONAL: ReadonlySet<Reply['outcome']> = new Set(['denied', 'invalid', 'failed']);

/**
 * A click on one of our buttons runs its stored action as the person who clicked, through the same
 * pipeline as a typed command (authorization, audit, idempotency by trigger id). A successful click
 * updates the message in place and says who clicked; a refusal is shown to the clicker alone.
 */
export function createButtonClickHandler(deps: SlackHandlerDeps) {
  return async ({ ack, body, action, respond }: ButtonArgs): Promise<void> => {
    await ack();
    if (action.type !== 'button') return;
    const log = deps.log.child({ trigger: body.trigger_id, user: body.user.id });
    if (!deps.recent.add(`click:${body.trigger_id}`)) return;
    if (!action.value) return;
    const groups = await deps.groups.groupsOf(body.user.id);
    const reply = await deps.pipeline.handleAction(action.value, {
      id: body.trigger_id,
      platform: 'slack',
      user: { id: slackUserId(body.user.id), displayName: body.user.username ?? body.user.name ?? body.user.id, groups },
      ...(body.channel?.id ? { channel: body.channel.id } : {}),
    });
    try {
      if (PERSONAL.has(reply.outcome)) {
        for (const m of prepareSlackReply(reply).messages) {
          await respond(toRespondArguments(m, { visibility: 'ephemeral' }, { replace_original: false }));
        }
        return;
      }
      // Render whatever the pipeline answered (a result, or "Cancelled"); button labels mean nothing here.
      const ephemeral = body.container['is_ephemeral'] === true;
      const { messages } = prepareSlackReply(reply);
      const stamped = reply.visibility === 'channel' ? messages.map((m, i) => (i === 0 ? withClickNote(m, body.user.id, ephemeral) : m)) : messages;
      await respondReplacing(respond, stamped, reply, { ephemeral });
    } catch (err) {
      log.error({ err, traceId: reply.traceId }, 'could not update the message after a button click');
    }
  };
}

/**
 * "✅ Confirmed by @ana" under a result the click put in the channel, so the channel sees who pressed it.
 * A private prompt whose click yields a channel reply is a confirmation; a click on a shared message is
 * only attributed. The mention is built here, never taken from reply text (which is escaped).
 */
function withClickNote(message: SlackMessage, userId: string, fromPrivatePrompt: boolean): SlackMessage {
  const verb = fromPrivatePrompt ? 'Confirmed' : 'Clicked';
  const note: SlackBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: `:white_check_mark: ${verb} by <@${userId}>` }] };
  return { text: `${message.text}\n${verb} by <@${userId}>`, blocks: [...message.blocks, note].slice(-50) };
}

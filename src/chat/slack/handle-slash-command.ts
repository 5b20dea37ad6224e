import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Reply } from '../../framework/reply.js';
import { prepareSlackReply } from './prepare-slack-reply.js';
import { respondReplacing, toRespondArguments } from './respond-with-reply.js';
import { shareSlackFiles } from './share-slack-files.js';
import type { SlackHandlerDeps } from './slack-handler-deps.js';
import { invocationFromSlashCommand } from './slack-invocation.js';
import { within } from './within.js';

export const SLASH_COMMAND = '/infra';
export const WORKING_ON_IT = ':hourglass_flowing_sand: Working on it…';

type SlashArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

/**
 * `/infra …`: run the command through the pipeline and answer inside Slack's 3-second window. A reply that
 * is ready within the ack budget goes in the ack itself (one round trip, nothing to clean up); a slower one
 * is acked with "working on it…" which the final reply then replaces through response_url.
 */
export function createSlashCommandHandler(deps: SlackHandlerDeps) {
  return async ({ command, ack, respond, context }: SlashArgs): Promise<void> => {
    const log = deps.log.child({ trigger: command.trigger_id, user: command.user_id });
    if (!deps.recent.add(`command:${command.trigger_id}`) && context.retryNum !== undefined) {
      // Slack redelivered a command this process is already answering: the first delivery replies.
      log.info({ retryNum: context.retryNum, retryReason: context.retryReason }, 'Slack retry of a command in progress ignored');
      await ack();
      return;
    }
    const groups = await deps.groups.groupsOf(command.user_id);
    const running = deps.pipeline.handle(invocationFromSlashCommand(command, groups));
    const fast = await within(running, deps.ackBudgetMs);
    if (fast) {
      const { messages, files } = prepareSlackReply(fast);
      await ack(toRespondArguments(messages[0]!, fast));
      await sendRest(messages.slice(1), files, fast);
      return;
    }
    await ack({ response_type: 'ephemeral', text: WORKING_ON_IT });
    const reply = await running;
    const { messages, files } = prepareSlackReply(reply);
    await respondReplacing(respond, messages, reply, { ephemeral: true }).catch((err: unknown) =>
      log.error({ err, traceId: reply.traceId }, 'could not deliver the reply through response_url'),
    );
    await sendRest([], files, reply);

    async function sendRest(more: typeof messages, fileList: typeof files, r: Reply) {
      try {
        for (const m of more) await respond(toRespondArguments(m, r, { replace_original: false }));
        const problem = await shareSlackFiles(deps.client, fileList, {
          channel: command.channel_id,
          visibility: r.visibility,
          userId: command.user_id,
        });
        if (problem) await respond({ response_type: 'ephemeral', replace_original: false, text: problem });
      } catch (err) {
        log.error({ err, traceId: r.traceId }, 'could not deliver the rest of a long reply');
      }
    }
  };
}

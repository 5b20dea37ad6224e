import { ThreadAutoArchiveDuration, type API } from '@discordjs/core/http-only';
import { RateLimitError } from '@discordjs/rest';
import { ChatRateLimitedError, type ChatSink, type PostedMessage } from '../chat-sink.js';
import type { Reply } from '../../framework/reply.js';
import { renderDiscordReply } from './render-discord-reply.js';

const MAX_THREAD_NAME = 100;

/**
 * Turns Discord's 429 into ChatRateLimitedError so the durable outbox reschedules the call. The API must sit
 * on a REST client created with `rejectOnRateLimit` (createDiscordRest), or it would sleep instead.
 */
async function rateLimited<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof RateLimitError) {
      throw new ChatRateLimitedError(Math.max(err.retryAfter, err.timeToReset, 0), `Discord rate limit on ${err.route}; retry after ${err.retryAfter} ms`);
    }
    throw err;
  }
}

/**
 * Posts alerts and summaries outside command replies. Each post is one message (a reply too large for one is
 * summarised with the full text attached), so a retried post never leaves half a reply behind.
 */
export function createDiscordSink(api: API): ChatSink {
  return {
    platform: 'discord',

    async post(channel: string, reply: Reply, opts?: { threadId?: string }): Promise<PostedMessage> {
      // A Discord thread is a channel: posting "in a thread" is posting to the thread's id.
      const target = opts?.threadId ?? channel;
      const [m] = renderDiscordReply(reply, { maxMessages: 1 });
      const sent = await rateLimited(() => api.channels.createMessage(target, m!));
      return { platform: 'discord', channel, messageId: sent.id, ...(opts?.threadId ? { threadId: opts.threadId } : {}) };
    },

    async update(message: PostedMessage, reply: Reply): Promise<void> {
      const [m] = renderDiscordReply(reply, { maxMessages: 1 });
      await rateLimited(() => api.channels.editMessage(message.threadId ?? message.channel, message.messageId, m!));
    },

    async openThread(message: PostedMessage, name: string): Promise<string> {
      const clean = name.replace(/\s+/g, ' ').trim() || 'infrabot';
      const threadName = clean.length > MAX_THREAD_NAME ? `${clean.slice(0, MAX_THREAD_NAME - 1)}…` : clean;
      const thread = await rateLimited(() =>
        api.channels.createThread(message.channel, { name: threadName, auto_archive_duration: ThreadAutoArchiveDuration.OneDay }, message.messageId),
      );
      return thread.id;
    },
  };
}

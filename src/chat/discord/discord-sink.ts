import { createHash } from 'node:crypto';
import { ThreadAutoArchiveDuration, type API } from '@discordjs/core/http-only';
import { DiscordAPIError, RateLimitError } from '@discordjs/rest';
import { ChatRateLimitedError, ChatRefusedError, ChatTargetGoneError, type ChatSink, type PostOptions, type PostedMessage, type SendOptions } from '../chat-sink.js';
import type { Reply } from '../../framework/reply.js';
import { renderDiscordReply } from './render-discord-reply.js';

const MAX_THREAD_NAME = 100;

/** Discord JSON error codes that name a message or channel the bot cannot reach any more. */
const GONE: Record<number, 'message' | 'channel'> = { 10008: 'message', 10003: 'channel', 50001: 'channel', 50013: 'channel' };
/** Invalid Form Body: the content itself was refused. */
const INVALID_FORM_BODY = 50035;
/** "A thread has already been created for this message": an earlier attempt got through. */
const THREAD_ALREADY_CREATED = 160004;

/**
 * Maps Discord's answers to the outbox's errors: a 429 to ChatRateLimitedError (the API must sit on a REST client
 * created with `rejectOnRateLimit`, see createDiscordRest, or it would sleep instead), a gone message/channel to
 * ChatTargetGoneError, an invalid body to ChatRefusedError.
 */
async function mapped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof RateLimitError) {
      throw new ChatRateLimitedError(Math.max(err.retryAfter, err.timeToReset, 0), `Discord rate limit on ${err.route}; retry after ${err.retryAfter} ms`);
    }
    if (err instanceof DiscordAPIError && typeof err.code === 'number') {
      const gone = GONE[err.code];
      if (gone) throw new ChatTargetGoneError(gone, `${err.code} ${err.message}`);
      if (err.code === INVALID_FORM_BODY) throw new ChatRefusedError(`${err.code} ${err.message}`);
    }
    throw err;
  }
}

/** Discord nonces are at most 25 characters: a digest of the outbox job's key, the same on every retry. */
export function discordNonce(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 25);
}

/**
 * Posts alerts and summaries outside command replies. Each post is one message (a reply too large for one is
 * summarised with the full text attached), so a retried post never leaves half a reply behind; a post for an
 * outbox job carries a nonce derived from the job with `enforce_nonce`, so Discord answers a retry within its
 * window (a few minutes) with the message the first attempt created instead of creating another.
 */
export function createDiscordSink(api: API): ChatSink {
  return {
    platform: 'discord',

    async post(channel: string, reply: Reply, opts: PostOptions = {}): Promise<PostedMessage> {
      // A Discord thread is a channel: posting "in a thread" is posting to the thread's id.
      const target = opts.threadId ?? channel;
      const [m] = renderDiscordReply(reply, { maxMessages: 1 });
      const body = opts.key ? { ...m!, nonce: discordNonce(opts.key), enforce_nonce: true } : m!;
      const sent = await mapped(() => api.channels.createMessage(target, body, signalOf(opts)));
      return { platform: 'discord', channel, messageId: sent.id, ...(opts.threadId ? { threadId: opts.threadId } : {}) };
    },

    async update(message: PostedMessage, reply: Reply, opts: SendOptions = {}): Promise<void> {
      const [m] = renderDiscordReply(reply, { maxMessages: 1 });
      await mapped(() => api.channels.editMessage(message.threadId ?? message.channel, message.messageId, m!, signalOf(opts)));
    },

    async openThread(message: PostedMessage, name: string, opts: SendOptions = {}): Promise<string> {
      const clean = name.replace(/\s+/g, ' ').trim() || 'infrabot';
      const threadName = clean.length > MAX_THREAD_NAME ? `${clean.slice(0, MAX_THREAD_NAME - 1)}…` : clean;
      try {
        const thread = await mapped(() =>
          api.channels.createThread(message.channel, { name: threadName, auto_archive_duration: ThreadAutoArchiveDuration.OneDay }, message.messageId, signalOf(opts)),
        );
        return thread.id;
      } catch (err) {
        // A thread started from a message has the message's id.
        if (err instanceof DiscordAPIError && err.code === THREAD_ALREADY_CREATED) return message.messageId;
        throw err;
      }
    },
  };
}

const signalOf = (opts: SendOptions) => (opts.signal ? { signal: opts.signal } : {});

import type { Reply } from '../framework/reply.js';

/** Where a message landed, so it can be updated in place or answered in a thread later. */
export interface PostedMessage {
  platform: string;
  channel: string;
  messageId: string;
  /** Thread the message was posted in, if any. */
  threadId?: string;
}

/** A chat API refused for now; the caller (the durable outbox) retries after `retryAfterMs`. */
export class ChatRateLimitedError extends Error {
  override name = 'ChatRateLimitedError';
  constructor(readonly retryAfterMs: number, message = `rate limited; retry after ${retryAfterMs} ms`) {
    super(message);
  }
}

/**
 * Posting outside a command reply: alerts, incident threads, scheduled summaries. Each chat adapter
 * provides one. Implementations throw ChatRateLimitedError on 429 instead of waiting themselves, so the
 * durable outbox owns retries.
 */
export interface ChatSink {
  readonly platform: string;
  post(channel: string, reply: Reply, opts?: { threadId?: string }): Promise<PostedMessage>;
  update(message: PostedMessage, reply: Reply): Promise<void>;
  /** Opens a thread under a message (Discord needs this; Slack threads exist implicitly). */
  openThread?(message: PostedMessage, name: string): Promise<string>;
}

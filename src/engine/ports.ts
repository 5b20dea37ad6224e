import type { Message } from './message.js';

/**
 * What the engine needs from the outside, defined here so the dependencies point one way: adapters, the store
 * and the app implement these; the engine never imports src/framework, src/chat, src/http or a store
 * implementation (test/architecture/layers.test.ts enforces it).
 */

export type { Message } from './message.js';
export type { ControlPublisher } from './control-publisher.js';
export type { EmitLifecycle, LifecycleEvent } from './lifecycle-events.js';

/** The time, injectable (tests move it by hand). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

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
  post(channel: string, message: Message, opts?: { threadId?: string }): Promise<PostedMessage>;
  update(message: PostedMessage, body: Message): Promise<void>;
  /** Opens a thread under a message (Discord needs this; Slack threads exist implicitly). */
  openThread?(message: PostedMessage, name: string): Promise<string>;
}

/** A command the engine runs on its own (an automatic breaker trip): it goes through the one pipeline. */
export interface SystemCommand {
  id: string;
  platform: 'system';
  user: { id: string; displayName: string };
  text: string;
  confirmed: boolean;
}

/** Runs a SystemCommand through parse → authorize → execute → commit, like any invocation. */
export type RunCommand = (command: SystemCommand) => Promise<unknown>;

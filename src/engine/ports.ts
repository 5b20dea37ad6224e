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
 * What a call acts on no longer exists or is out of the bot's reach (a deleted message, an archived channel,
 * a channel the bot was removed from): trying again cannot help.
 */
export class ChatTargetGoneError extends Error {
  override name = 'ChatTargetGoneError';
  constructor(readonly target: 'message' | 'channel', readonly code: string) {
    super(`chat API: ${target} not available (${code})`);
  }
}

/** The platform refused this request for good (invalid content, too long): the same request will never succeed. */
export class ChatRefusedError extends Error {
  override name = 'ChatRefusedError';
  constructor(readonly code: string) {
    super(`chat API refused the message (${code})`);
  }
}

export interface SendOptions {
  /** Aborts the HTTP call when the caller gives up on it (the outbox's deadline). */
  signal?: AbortSignal;
}

export interface PostOptions extends SendOptions {
  threadId?: string;
  /**
   * Identifies the outbox job posting this message, the same on every retry. Platforms that can, carry it with
   * the message (Discord: an enforced nonce; Slack: message metadata) so a retry never makes a second message.
   */
  key?: string;
}

/**
 * Posting outside a command reply: alerts, incident threads, scheduled summaries. Each chat adapter provides
 * one. Implementations throw ChatRateLimitedError on 429 instead of waiting themselves, so the durable outbox
 * owns retries, and ChatTargetGoneError / ChatRefusedError for answers no retry can change.
 */
export interface ChatSink {
  readonly platform: string;
  post(channel: string, message: Message, opts?: PostOptions): Promise<PostedMessage>;
  update(message: PostedMessage, body: Message, opts?: SendOptions): Promise<void>;
  /** Opens a thread under a message (Discord needs this; Slack threads exist implicitly). */
  openThread?(message: PostedMessage, name: string, opts?: SendOptions): Promise<string>;
  /**
   * The message an earlier attempt posted with `key`, if the platform has it (asked after an attempt whose
   * outcome is unknown, e.g. a post that timed out but may have landed). Platforms that deduplicate posts
   * themselves (Discord's nonce) need not implement it.
   */
  findPosted?(channel: string, key: string, opts: SendOptions & { threadId?: string; since: string }): Promise<PostedMessage | undefined>;
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

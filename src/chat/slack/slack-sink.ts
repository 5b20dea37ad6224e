import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { ChatRateLimitedError, ChatRefusedError, ChatTargetGoneError, type ChatSink, type PostOptions, type PostedMessage, type SendOptions } from '../chat-sink.js';
import type { Reply } from '../../framework/reply.js';
import { createBoltLogger } from './create-bolt-logger.js';
import { prepareSlackReply } from './prepare-slack-reply.js';
import { shareSlackFiles } from './share-slack-files.js';

export interface SlackSinkOptions {
  botToken: string;
  apiUrl: string;
  log: Logger;
  /** Each HTTP request to Slack is aborted after this long (ms). */
  requestTimeoutMs?: number;
}

/** Message metadata event type of every message the outbox posts; its payload carries the job's key. */
export const OUTBOX_EVENT_TYPE = 'infrabot_outbox';
const REQUEST_TIMEOUT_MS = 15_000;
/** How far back a lookup reads: a retry follows its failed attempt by minutes, not by hours. */
const LOOKUP_LIMIT = 200;

/** Slack errors that name a message or channel the bot cannot reach any more. */
const GONE: Record<string, 'message' | 'channel'> = {
  message_not_found: 'message',
  thread_not_found: 'message',
  cant_update_message: 'message',
  channel_not_found: 'channel',
  not_in_channel: 'channel',
  is_archived: 'channel',
};
/** Slack errors that refuse the content itself: sending it again cannot succeed. */
const REFUSED = new Set(['invalid_blocks', 'invalid_blocks_format', 'msg_too_long', 'no_text', 'too_many_attachments', 'invalid_metadata_format', 'invalid_metadata_schema', 'metadata_too_large']);

/**
 * Posts alerts, incident threads and summaries with chat.postMessage / chat.update. Its client neither waits on
 * 429 nor retries: a rate limit becomes ChatRateLimitedError with Slack's Retry-After, a missing message or
 * channel ChatTargetGoneError, refused content ChatRefusedError, and other failures are thrown as they are, so
 * the durable outbox decides what happens next. Every request has a timeout and follows the caller's signal.
 * Posts carry message metadata with the outbox job's key, which `findPosted` looks for after an unknown outcome.
 */
export class SlackSink implements ChatSink {
  readonly platform = 'slack';
  readonly client: webApi.WebClient;
  private readonly log: Logger;
  private readonly opts: SlackSinkOptions;

  constructor(opts: SlackSinkOptions) {
    this.log = opts.log;
    this.opts = opts;
    this.client = this.clientFor(undefined);
  }

  async post(channel: string, reply: Reply, opts: PostOptions = {}): Promise<PostedMessage> {
    return this.withoutUnfetchableImage(reply, (r) => this.postReply(channel, r, opts));
  }

  async update(message: PostedMessage, reply: Reply, opts: SendOptions = {}): Promise<void> {
    return this.withoutUnfetchableImage(reply, (r) => this.updateReply(message, r, opts));
  }

  async findPosted(channel: string, key: string, opts: SendOptions & { threadId?: string; since: string }): Promise<PostedMessage | undefined> {
    const client = this.clientFor(opts.signal);
    // A minute of slack for clocks that disagree with Slack's.
    const oldest = String(Math.max(0, Date.parse(opts.since) / 1000 - 60));
    const res = await call(() =>
      opts.threadId
        ? client.conversations.replies({ channel, ts: opts.threadId, include_all_metadata: true, oldest, limit: LOOKUP_LIMIT })
        : client.conversations.history({ channel, include_all_metadata: true, oldest, limit: LOOKUP_LIMIT }),
    );
    const found = res.messages?.find((m) => m.metadata?.event_type === OUTBOX_EVENT_TYPE && (m.metadata.event_payload as { key?: unknown } | undefined)?.key === key);
    if (!found?.ts) return undefined;
    return { platform: 'slack', channel, messageId: found.ts, ...(opts.threadId ? { threadId: opts.threadId } : {}) };
  }

  /** A client whose requests follow `signal` too (the shared one when there is none). */
  private clientFor(signal: AbortSignal | undefined): webApi.WebClient {
    if (!signal && this.client) return this.client;
    return new webApi.WebClient(this.opts.botToken, {
      slackApiUrl: this.opts.apiUrl,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      timeout: this.opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      logger: createBoltLogger(this.log),
      ...(signal ? { fetch: (url, init) => fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }) } : {}),
    });
  }

  /**
   * Slack refuses a whole message (`invalid_blocks`) when it cannot fetch an image block's URL — a Grafana
   * render behind a VPN, say. The alert matters more than its picture: send it again with the image as a link.
   */
  private async withoutUnfetchableImage<T>(reply: Reply, send: (r: Reply) => Promise<T>): Promise<T> {
    try {
      return await send(reply);
    } catch (err) {
      if (!reply.imageUrl || !(err instanceof ChatRefusedError) || err.code !== 'invalid_blocks') throw err;
      this.log.warn({ traceId: reply.traceId, image: reply.imageUrl }, 'Slack could not show the image; sent as a link instead');
      const { imageUrl, ...rest } = reply;
      return send({ ...rest, links: [...(reply.links ?? []), { label: 'Image', url: imageUrl }] });
    }
  }

  private async postReply(channel: string, reply: Reply, opts: PostOptions): Promise<PostedMessage> {
    const client = this.clientFor(opts.signal);
    const { messages, files } = prepareSlackReply(reply);
    const [first, ...rest] = messages;
    const res = await call(() =>
      client.chat.postMessage({
        channel,
        text: first!.text,
        blocks: first!.blocks,
        ...(opts.threadId ? { thread_ts: opts.threadId } : {}),
        ...(opts.key ? { metadata: { event_type: OUTBOX_EVENT_TYPE, event_payload: { key: opts.key } } } : {}),
      }),
    );
    const posted: PostedMessage = {
      platform: 'slack',
      channel: res.channel ?? channel,
      messageId: res.ts ?? '',
      ...(opts.threadId ? { threadId: opts.threadId } : {}),
    };
    await this.continueInThread(client, posted, rest, files, reply);
    return posted;
  }

  private async updateReply(message: PostedMessage, reply: Reply, opts: SendOptions): Promise<void> {
    const client = this.clientFor(opts.signal);
    const { messages, files } = prepareSlackReply(reply);
    const [first, ...rest] = messages;
    await call(() => client.chat.update({ channel: message.channel, ts: message.messageId, text: first!.text, blocks: first!.blocks }));
    await this.continueInThread(client, message, rest, files, reply);
  }

  /** Later pages and files of a long reply follow in the message's thread. */
  private async continueInThread(
    client: webApi.WebClient,
    at: PostedMessage,
    pages: ReturnType<typeof prepareSlackReply>['messages'],
    files: ReturnType<typeof prepareSlackReply>['files'],
    reply: Reply,
  ) {
    const threadTs = at.threadId ?? at.messageId;
    for (const m of pages) await call(() => client.chat.postMessage({ channel: at.channel, thread_ts: threadTs, text: m.text, blocks: m.blocks }));
    const problem = await shareSlackFiles(client, files, { channel: at.channel, threadTs, visibility: 'channel', userId: '' });
    // The message itself is out; throwing now would make the outbox post it twice.
    if (problem) this.log.warn({ traceId: reply.traceId, problem }, 'alert posted without its files');
  }
}

/** Maps the Web API's errors to the outbox's (rate limit, gone, refused); everything else passes through unchanged. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isRateLimited(err)) throw new ChatRateLimitedError(Math.max(1, err.retryAfter) * 1000);
    const code = platformError(err);
    if (code && GONE[code]) throw new ChatTargetGoneError(GONE[code], code);
    if (code && REFUSED.has(code)) throw new ChatRefusedError(code);
    throw err;
  }
}

function isRateLimited(err: unknown): err is webApi.WebAPIRateLimitedError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === webApi.ErrorCode.RateLimitedError;
}

function platformError(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || (err as { code?: unknown }).code !== webApi.ErrorCode.PlatformError) return undefined;
  const e = (err as { data?: { error?: unknown } }).data?.error;
  return typeof e === 'string' ? e : undefined;
}

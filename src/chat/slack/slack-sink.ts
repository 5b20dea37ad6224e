import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { ChatRateLimitedError, type ChatSink, type PostedMessage } from '../chat-sink.js';
import type { Reply } from '../../framework/reply.js';
import { createBoltLogger } from './create-bolt-logger.js';
import { prepareSlackReply } from './prepare-slack-reply.js';
import { shareSlackFiles } from './share-slack-files.js';

export interface SlackSinkOptions {
  botToken: string;
  apiUrl: string;
  log: Logger;
}

/**
 * Posts alerts, incident threads and summaries with chat.postMessage / chat.update. Its client neither
 * waits on 429 nor retries: a rate limit becomes ChatRateLimitedError with Slack's Retry-After, and any
 * other failure is thrown as is, so the durable outbox decides when to try again and nothing is lost.
 */
export class SlackSink implements ChatSink {
  readonly platform = 'slack';
  readonly client: webApi.WebClient;
  private readonly log: Logger;

  constructor(opts: SlackSinkOptions) {
    this.log = opts.log;
    this.client = new webApi.WebClient(opts.botToken, {
      slackApiUrl: opts.apiUrl,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
      logger: createBoltLogger(opts.log),
    });
  }

  async post(channel: string, reply: Reply, opts: { threadId?: string } = {}): Promise<PostedMessage> {
    return this.withoutUnfetchableImage(reply, (r) => this.postReply(channel, r, opts));
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    return this.withoutUnfetchableImage(reply, (r) => this.updateReply(message, r));
  }

  /**
   * Slack refuses a whole message (`invalid_blocks`) when it cannot fetch an image block's URL — a Grafana
   * render behind a VPN, say. The alert matters more than its picture: send it again with the image as a link.
   */
  private async withoutUnfetchableImage<T>(reply: Reply, send: (r: Reply) => Promise<T>): Promise<T> {
    try {
      return await send(reply);
    } catch (err) {
      if (!reply.imageUrl || (err as { data?: { error?: string } }).data?.error !== 'invalid_blocks') throw err;
      this.log.warn({ traceId: reply.traceId, image: reply.imageUrl }, 'Slack could not show the image; sent as a link instead');
      const { imageUrl, ...rest } = reply;
      return send({ ...rest, links: [...(reply.links ?? []), { label: 'Image', url: imageUrl }] });
    }
  }

  private async postReply(channel: string, reply: Reply, opts: { threadId?: string }): Promise<PostedMessage> {
    const { messages, files } = prepareSlackReply(reply);
    const [first, ...rest] = messages;
    const res = await call(() =>
      this.client.chat.postMessage({ channel, text: first!.text, blocks: first!.blocks, ...(opts.threadId ? { thread_ts: opts.threadId } : {}) }),
    );
    const posted: PostedMessage = {
      platform: 'slack',
      channel: res.channel ?? channel,
      messageId: res.ts ?? '',
      ...(opts.threadId ? { threadId: opts.threadId } : {}),
    };
    await this.continueInThread(posted, rest, files, reply);
    return posted;
  }

  private async updateReply(message: PostedMessage, reply: Reply): Promise<void> {
    const { messages, files } = prepareSlackReply(reply);
    const [first, ...rest] = messages;
    await call(() => this.client.chat.update({ channel: message.channel, ts: message.messageId, text: first!.text, blocks: first!.blocks }));
    await this.continueInThread(message, rest, files, reply);
  }

  /** Later pages and files of a long reply follow in the message's thread. */
  private async continueInThread(at: PostedMessage, pages: ReturnType<typeof prepareSlackReply>['messages'], files: ReturnType<typeof prepareSlackReply>['files'], reply: Reply) {
    const threadTs = at.threadId ?? at.messageId;
    for (const m of pages) await call(() => this.client.chat.postMessage({ channel: at.channel, thread_ts: threadTs, text: m.text, blocks: m.blocks }));
    const problem = await shareSlackFiles(this.client, files, { channel: at.channel, threadTs, visibility: 'channel', userId: '' });
    // The message itself is out; throwing now would make the outbox post it twice.
    if (problem) this.log.warn({ traceId: reply.traceId, problem }, 'alert posted without its files');
  }
}

/** Maps the Web API's rate-limit error to the outbox's; everything else passes through unchanged. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isRateLimited(err)) throw new ChatRateLimitedError(Math.max(1, err.retryAfter) * 1000);
    throw err;
  }
}

function isRateLimited(err: unknown): err is webApi.WebAPIRateLimitedError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === webApi.ErrorCode.RateLimitedError;
}

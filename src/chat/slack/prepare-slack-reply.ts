import { attachmentBytes, type Reply } from '../../framework/reply.js';
import { renderText } from '../console/render-text.js';
import { renderSlackReply, renderSlackSummary, type SlackMessage } from './render-slack-reply.js';
import { SLACK_LIMITS } from './slack-limits.js';

export interface SlackFile {
  filename: string;
  title: string;
  /** Text, or bytes for binary files (charts). */
  content: string | Buffer;
}

/** What to send for one Reply: messages in order, and files to share next to them. */
export interface PreparedSlackReply {
  messages: SlackMessage[];
  files: SlackFile[];
}

/**
 * Pages when the reply fits in a few messages; otherwise one summary message plus the whole output as a
 * text file, so a long audit search or timeline is never cut and never floods the channel.
 */
export function prepareSlackReply(reply: Reply): PreparedSlackReply {
  const attachments = (reply.attachments ?? []).map((a) => ({ filename: a.filename, title: a.filename, content: a.encoding === 'base64' ? attachmentBytes(a) : a.content }));
  const pages = renderSlackReply(reply);
  if (pages.length <= SLACK_LIMITS.maxPages) return { messages: pages, files: attachments };
  const filename = `infra-${reply.traceId}.txt`;
  const size = reply.table ? `${reply.table.rows.length} rows` : `${pages.length} messages`;
  const note = `:page_facing_up: Too long for chat (${size}): the full output is attached as \`${filename}\`.`;
  return {
    messages: [renderSlackSummary(reply, note)],
    files: [{ filename, title: reply.title, content: renderText(reply) }, ...attachments],
  };
}

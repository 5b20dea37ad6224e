import type { Writable } from 'node:stream';
import type { ChatSink, PostedMessage } from '../chat-sink.js';
import type { Reply } from '../../framework/reply.js';
import type { ConsoleScreen } from './create-console-screen.js';
import { renderText } from './render-text.js';
import { writeAttachments } from './write-attachments.js';

/**
 * Alerts and incident threads in the terminal. A terminal cannot edit old lines, so an update is printed
 * again marked as such, and a thread reply is indented under a reference to its message.
 */
export function createConsoleSink(opts: { output: Writable; color?: boolean; platform?: string; screen?: ConsoleScreen; attachmentsTo?: string }): ChatSink {
  let n = 0;
  const write = (header: string, posted: Reply, indent = '') => {
    // Scheduled summaries carry a chart: written to a file whose path is printed, as for typed commands.
    const reply = opts.attachmentsTo ? writeAttachments(posted, opts.attachmentsTo) : posted;
    const body = renderText(reply, { color: opts.color ?? false }).split('\n').map((l) => indent + l).join('\n');
    // With a screen, above the prompt (which is redrawn); without one, as a block of its own.
    if (opts.screen) opts.screen.print(`${indent}${header}\n${body}`);
    else opts.output.write(`\n${indent}${header}\n${body}\n`);
  };
  return {
    platform: opts.platform ?? 'console',
    async post(channel, reply, o) {
      const messageId = `m${++n}`;
      if (o?.threadId) write(`── #${channel} · reply in thread of ${o.threadId}`, reply, '    ');
      else write(`── #${channel} · message ${messageId}`, reply);
      return { platform: 'console', channel, messageId, ...(o?.threadId ? { threadId: o.threadId } : {}) };
    },
    async update(message: PostedMessage, reply) {
      write(`── #${message.channel} · message ${message.messageId} (updated)`, reply);
    },
  };
}

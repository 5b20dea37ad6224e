import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachmentBytes, type Reply } from '../../framework/reply.js';
import { escapeTerminalText } from './escape-terminal-text.js';

/** A terminal cannot show files: attachments (post-mortems, summary charts) are written under the data directory and their paths printed. */
export function writeAttachments(reply: Reply, dataDir: string): Reply {
  if (!reply.attachments?.length) return reply;
  const dir = join(dataDir, 'attachments');
  mkdirSync(dir, { recursive: true });
  const paths = reply.attachments.map((a) => {
    const file = join(dir, a.filename.replace(/[^\w.-]/g, '_'));
    // Meant to be opened in this terminal (`cat`, `less`): user text in it cannot carry escape sequences either.
    writeFileSync(file, a.contentType.startsWith('text/') && a.encoding !== 'base64' ? escapeTerminalText(a.content, { keepNewlines: true }) : attachmentBytes(a));
    return file;
  });
  return { ...reply, text: [reply.text, ...paths.map((p) => `Written to ${p}`)].filter(Boolean).join('\n') };
}

import type { Reply } from '../../framework/reply.js';
import { escapeTerminalText } from './escape-terminal-text.js';

const ICON: Record<Reply['severity'], string> = { info: 'ℹ️ ', success: '✅', warning: '⚠️ ', critical: '🚨' };

/**
 * Renders a reply for a terminal: title, text, aligned fields, a plain table, and typed equivalents of buttons.
 * The one boundary where reply text meets a terminal: every string is escaped here (escapeTerminalText), so
 * no command has to remember it.
 */
export function renderText(unsafe: Reply, opts: { color?: boolean } = {}): string {
  const reply = escapeReply(unsafe);
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const dim = (s: string) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  // Titles that start with their own icon (🔴 Cluster api disabled) need no severity icon in front.
  const icon = /^\p{Extended_Pictographic}/u.test(reply.title) ? '' : `${ICON[reply.severity]} `;
  const out: string[] = [`${icon}${bold(reply.title)}`];
  if (reply.fields?.length) {
    const width = Math.max(...reply.fields.map((f) => f.name.length));
    // A value's later lines line up under its first, not at column 0.
    const indent = ' '.repeat(width + 4);
    for (const f of reply.fields) out.push(`  ${f.name.padEnd(width)}  ${f.value.replaceAll('\n', `\n${indent}`)}`);
  }
  // Text after the fields: it introduces the table below (history: "3 changes since then:").
  if (reply.text) out.push(reply.text);
  if (reply.table) out.push(renderTable(reply.table.columns, reply.table.rows));
  if (reply.hint) out.push(dim(reply.outcome === 'confirm' ? `To confirm, run: ${reply.hint}` : reply.hint));
  for (const l of reply.links ?? []) out.push(dim(`${l.label}: ${l.url}`));
  if (reply.imageUrl) out.push(dim(`Image: ${reply.imageUrl}`));
  for (const a of reply.attachments ?? []) out.push(dim(`[attachment ${a.filename}]`));
  out.push(dim(`ref ${reply.traceId}`));
  return out.join('\n');
}

function escapeReply(r: Reply): Reply {
  const line = (s: string) => escapeTerminalText(s);
  const text = (s: string) => escapeTerminalText(s, { keepNewlines: true });
  return {
    ...r,
    title: line(r.title),
    ...(r.text !== undefined ? { text: text(r.text) } : {}),
    ...(r.fields ? { fields: r.fields.map((f) => ({ ...f, name: line(f.name), value: text(f.value) })) } : {}),
    ...(r.table ? { table: { columns: r.table.columns.map(line), rows: r.table.rows.map((row) => row.map(line)) } } : {}),
    ...(r.hint !== undefined ? { hint: line(r.hint) } : {}),
    ...(r.links ? { links: r.links.map((l) => ({ label: line(l.label), url: line(l.url) })) } : {}),
    ...(r.imageUrl !== undefined ? { imageUrl: line(r.imageUrl) } : {}),
    ...(r.attachments ? { attachments: r.attachments.map((a) => ({ ...a, filename: line(a.filename) })) } : {}),
    traceId: line(r.traceId),
  };
}

/** Terminal cell width: emoji take two cells, variation selectors none. */
const len = (s: string) => {
  if (/^[\x20-\x7e]*$/.test(s)) return s.length; // the common case, without a per-character look
  let n = 0;
  for (const ch of s) n += /\p{Extended_Pictographic}/u.test(ch) ? 2 : /[\u{FE00}-\u{FE0F}\u{200D}]/u.test(ch) ? 0 : 1;
  return n;
};

export function renderTable(columns: string[], rows: string[][]): string {
  if (rows.length === 0) return '  (none)';
  const widths = columns.map((c, i) => Math.max(len(c), ...rows.map((r) => len(r[i] ?? ''))));
  const line = (cells: string[]) =>
    '  ' + cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - len(c)))).join('  ');
  return [line(columns), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

import {
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIActionRowComponent,
  type APIButtonComponentWithCustomId,
  type APIButtonComponentWithURL,
  type APIEmbed,
  type APIEmbedField,
} from '@discordjs/core/http-only';
import type { RawFile } from '@discordjs/rest';
import { attachmentBytes, type Reply, type Severity } from '../../framework/reply.js';
import { renderTable, renderText } from '../console/render-text.js';

/** Discord's message limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const DISCORD_LIMITS = {
  content: 2000,
  embedsPerMessage: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  /** Across all embeds of one message. */
  total: 6000,
  buttonsPerRow: 5,
  rowsPerMessage: 5,
  buttonLabel: 80,
} as const;

export const SEVERITY_COLOURS: Record<Severity, number> = {
  critical: 0xed4245,
  warning: 0xe67e22,
  success: 0x57f287,
  info: 0x5865f2,
};

/** Buttons carry `infra:<actionId>`; the click handler sends the id back to the pipeline. */
export const BUTTON_PREFIX = 'infra:';

/** One Discord message: the body for a reply, follow-up, edit or channel post. */
export interface DiscordMessage {
  content?: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIButtonComponentWithCustomId | APIButtonComponentWithURL>[];
  files: RawFile[];
  /** Replies quote user text (reasons); never let it ping @everyone or anyone else. */
  allowed_mentions: { parse: [] };
}

export interface RenderOptions {
  /** More messages than this and the reply is summarised with the full text attached as a file. */
  maxMessages?: number;
}

export const DEFAULT_MAX_MESSAGES = 5;
const CONTINUED = ' (cont.)';

export const isEphemeralReply = (reply: Reply) => reply.visibility === 'ephemeral';
export const replyFlags = (reply: Reply) => (isEphemeralReply(reply) ? MessageFlags.Ephemeral : 0);

/**
 * Renders a Reply as Discord embeds: colour by severity, text and the table (as a code block) in the
 * description, fields, the trace id in the footer, buttons as components. Anything over Discord's limits is
 * split across embeds and messages; a reply too large for `maxMessages` messages is summarised and attached
 * in full as a text file. Nothing is dropped silently.
 */
export function renderDiscordReply(reply: Reply, opts: RenderOptions = {}): DiscordMessage[] {
  const maxMessages = opts.maxMessages ?? DEFAULT_MAX_MESSAGES;
  const literal = escapeReply(reply);
  let messages = layout(literal);
  if (messages.length > maxMessages) messages = summariseWithFile(literal, reply);
  const files = (reply.attachments ?? []).map((a): RawFile => ({ name: a.filename, contentType: a.contentType, data: attachmentBytes(a) }));
  messages[0]!.files.push(...files);
  attachButtons(messages, reply);
  if (reply.imageUrl) messages[0]!.embeds[0] = { ...messages[0]!.embeds[0], image: { url: reply.imageUrl } };
  return messages;
}

function layout(reply: Reply): DiscordMessage[] {
  const footer = `ref ${reply.traceId}`;
  const colour = SEVERITY_COLOURS[reply.severity];
  const budget = DISCORD_LIMITS.total - footer.length;
  const longTitle = reply.title.length > DISCORD_LIMITS.title;
  const title = longTitle ? cutAt(reply.title, DISCORD_LIMITS.title - 1) + '…' : reply.title;

  const segments: string[] = [];
  if (longTitle) segments.push(`**${reply.title}**`);
  if (reply.text) segments.push(...splitText(reply.text, DISCORD_LIMITS.description));
  if (reply.table) segments.push(...tableBlocks(reply.table.columns, reply.table.rows));
  // Confirmations have buttons; the typed `--yes` form is for text adapters.
  if (reply.hint && reply.outcome !== 'confirm') segments.push(...splitText(reply.hint, DISCORD_LIMITS.description));

  const embeds: APIEmbed[] = [];
  let current: APIEmbed = { title, color: colour };
  const size = (e: APIEmbed) =>
    (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
  const next = () => {
    embeds.push(current);
    current = { color: colour };
  };
  for (const s of segments) {
    const joined = current.description ? `${current.description}\n\n${s}` : s;
    if (joined.length <= DISCORD_LIMITS.description && size(current) - (current.description?.length ?? 0) + joined.length <= budget) {
      current.description = joined;
    } else {
      if (current.description || current.title) next();
      current.description = s;
    }
  }
  for (const f of (reply.fields ?? []).flatMap(splitField)) {
    const fields = current.fields ?? [];
    if (fields.length >= DISCORD_LIMITS.fields || size(current) + f.name.length + f.value.length > budget) {
      next();
    }
    (current.fields ??= []).push(f);
  }
  current.footer = { text: footer };
  current.timestamp = reply.time;
  embeds.push(current);
  return packMessages(embeds);
}

/** Groups embeds into messages of at most 10 embeds and 6,000 characters. */
function packMessages(embeds: APIEmbed[]): DiscordMessage[] {
  const messages: DiscordMessage[] = [];
  let batch: APIEmbed[] = [];
  let chars = 0;
  const embedChars = (e: APIEmbed) =>
    (e.title?.length ?? 0) +
    (e.description?.length ?? 0) +
    (e.footer?.text.length ?? 0) +
    (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
  for (const e of embeds) {
    const n = embedChars(e);
    if (batch.length && (batch.length >= DISCORD_LIMITS.embedsPerMessage || chars + n > DISCORD_LIMITS.total)) {
      messages.push(message(batch));
      batch = [];
      chars = 0;
    }
    batch.push(e);
    chars += n;
  }
  messages.push(message(batch));
  return messages;
}

const message = (embeds: APIEmbed[]): DiscordMessage => ({ embeds, components: [], files: [], allowed_mentions: { parse: [] } });

/**
 * Shows text literally in Discord, as the Slack renderer escapes its entities: any string of a Reply may
 * carry user or probe text (a `--reason`, an HTTP error body), and `[text](https://evil)`, `||spoiler||` or
 * `# heading` in it must not become a masked link, hidden text or a banner. Every markdown character is
 * backslash-escaped, except inside inline code spans (`silence end x`), where Discord shows text as typed
 * anyway and a backslash would show. Mentions cannot ping (`allowed_mentions`); `<` is escaped so they do not
 * even render as one.
 */
export function escapeDiscordMarkdown(text: string): string {
  return text
    .replace(/(`[^`\n]+`)|[^`]+|`/g, (part, code?: string) => code ?? part.replace(/[\\*_~`|[\]<>]/g, '\\$&'))
    .replace(/^(\s*)([#+-])/gm, '$1\\$2')
    .replace(/^(\s*\d+)\./gm, '$1\\.');
}

function escapeReply(reply: Reply): Reply {
  const esc = escapeDiscordMarkdown;
  return {
    ...reply,
    title: esc(reply.title),
    ...(reply.text !== undefined ? { text: esc(reply.text) } : {}),
    ...(reply.hint !== undefined ? { hint: esc(reply.hint) } : {}),
    ...(reply.fields ? { fields: reply.fields.map((f) => ({ ...f, name: esc(f.name), value: esc(f.value) })) } : {}),
  };
}

/**
 * Too big to page through: a one-message summary, and the whole reply as plain text in a file (`original`:
 * a file shows text literally, so it gets the unescaped reply).
 */
function summariseWithFile(reply: Reply, original: Reply): DiscordMessage[] {
  const filename = `infrabot-${reply.traceId}.txt`;
  const notice = `Too long for Discord messages: the full reply is in the attached file ${filename}.`;
  const text = reply.text && reply.text.length > 1500 ? `${cutAt(reply.text, 1500)}…` : reply.text;
  const fields = reply.fields ?? [];
  const fieldChars = fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const summary: Reply = {
    ...reply,
    title: reply.title.length > DISCORD_LIMITS.title ? `${cutAt(reply.title, DISCORD_LIMITS.title - 1)}…` : reply.title,
    text: [text, reply.table ? `Table of ${reply.table.rows.length} rows.` : undefined, notice].filter(Boolean).join('\n\n'),
    ...(fields.length <= DISCORD_LIMITS.fields && fieldChars <= 3000 && fields.every((f) => f.value.length <= DISCORD_LIMITS.fieldValue)
      ? {}
      : { fields: [] }),
    buttons: [],
    attachments: [],
  };
  delete summary.table;
  const [first] = layout(summary);
  first!.files.push({ name: filename, contentType: 'text/plain; charset=utf-8', data: Buffer.from(renderText(original)) });
  return [first!];
}

function attachButtons(messages: DiscordMessage[], reply: Reply) {
  const label = (l: string) => (l.length > DISCORD_LIMITS.buttonLabel ? `${l.slice(0, DISCORD_LIMITS.buttonLabel - 1)}…` : l);
  const buttons = [
    ...(reply.buttons ?? []).map(
      (b): APIButtonComponentWithCustomId => ({
        type: ComponentType.Button,
        style: b.style === 'danger' ? ButtonStyle.Danger : b.style === 'primary' ? ButtonStyle.Primary : ButtonStyle.Secondary,
        label: label(b.label),
        custom_id: `${BUTTON_PREFIX}${b.actionId}`,
      }),
    ),
    ...(reply.links ?? []).map((l): APIButtonComponentWithURL => ({ type: ComponentType.Button, style: ButtonStyle.Link, label: label(l.label), url: l.url })),
  ];
  const perMessage = DISCORD_LIMITS.buttonsPerRow * DISCORD_LIMITS.rowsPerMessage;
  for (let i = 0; i < buttons.length; i += perMessage) {
    const chunk = buttons.slice(i, i + perMessage);
    const rows: DiscordMessage['components'] = [];
    for (let j = 0; j < chunk.length; j += DISCORD_LIMITS.buttonsPerRow) {
      rows.push({ type: ComponentType.ActionRow, components: chunk.slice(j, j + DISCORD_LIMITS.buttonsPerRow) });
    }
    // The first 25 go under the reply's last message; more (rare) in their own messages.
    if (i === 0) messages.at(-1)!.components = rows;
    else messages.push({ ...message([]), content: 'More actions:', components: rows });
  }
}

/** A table as code blocks, each within the description limit, the header repeated in each block. */
function tableBlocks(columns: string[], rows: string[][]): string[] {
  const safe = (s: string) => s.replace(/`/g, 'ˋ');
  const lines = renderTable(columns.map(safe), rows.map((r) => r.map(safe))).split('\n');
  const header = rows.length ? lines.slice(0, 2) : [];
  const body = rows.length ? lines.slice(2) : lines;
  const fence = (ls: string[]) => '```\n' + ls.join('\n') + '\n```';
  const room = DISCORD_LIMITS.description - fence([]).length;
  const blocks: string[] = [];
  let current: string[] = [...header];
  const used = (ls: string[]) => ls.reduce((n, l) => n + l.length + 1, 0);
  for (const raw of body) {
    for (const line of splitHard(raw, room - used(header) - 1)) {
      if (current.length > header.length && used(current) + line.length + 1 > room) {
        blocks.push(fence(current));
        current = [...header];
      }
      current.push(line);
    }
  }
  if (current.length) blocks.push(fence(current));
  return blocks;
}

/** Splits a field whose name or value is too long into several fields; empty values become a zero-width space. */
function splitField(f: { name: string; value: string; inline?: boolean }): APIEmbedField[] {
  let name = f.name || '\u200b';
  let value = f.value;
  if (name.length > DISCORD_LIMITS.fieldName) {
    value = `${name}\n${value}`;
    name = `${cutAt(name, DISCORD_LIMITS.fieldName - 1)}…`;
  }
  const chunks = value ? splitText(value, DISCORD_LIMITS.fieldValue) : ['\u200b'];
  return chunks.map((v, i) => ({
    name: i === 0 ? name : `${cutAt(name, DISCORD_LIMITS.fieldName - CONTINUED.length)}${CONTINUED}`,
    value: v,
    ...(f.inline ? { inline: true } : {}),
  }));
}

/** Splits text into pieces of at most `max` characters, preferring line breaks, then spaces. */
export function splitText(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max);
    let cut = window.lastIndexOf('\n');
    if (cut < max / 2) cut = window.lastIndexOf(' ');
    if (cut < max / 2) cut = max;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^[\n ]/, '');
  }
  if (rest.length || out.length === 0) out.push(rest);
  return out;
}

function splitHard(line: string, max: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < line.length; i += max) out.push(line.slice(i, i + max));
  return out.length ? out : [''];
}

/** Cuts at a code-point boundary so an emoji is never split in half. */
function cutAt(s: string, max: number): string {
  let out = '';
  for (const ch of s) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out;
}

import type { types } from '@slack/bolt';
import type { Reply, Severity } from '../../framework/reply.js';
import { renderTable } from '../console/render-text.js';
import { SLACK_LIMITS as L } from './slack-limits.js';

export type SlackBlock = types.KnownBlock;

/** One Slack message: blocks plus the plain `text` Slack shows in notifications and old clients. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** Action ids of our buttons start with this; the button's value is the stored action id. */
export const BUTTON_ACTION_PREFIX = 'infra_button_';
/** Link buttons (runbook, dashboard) open their URL; Slack still sends the click, which is only acknowledged. */
export const LINK_ACTION_PREFIX = 'infra_link_';

const SEVERITY_EMOJI: Record<Severity, string> = {
  info: ':information_source:',
  success: ':white_check_mark:',
  warning: ':warning:',
  critical: ':rotating_light:',
};

/**
 * Renders a Reply as Block Kit, split into as many messages (pages) as Slack's limits need: the header and
 * summary on the first page, body blocks in order, buttons and the trace context on the last page, and a
 * "continued" marker on every later page. Nothing is cut: long text and tables are split, never truncated.
 */
export function renderSlackReply(reply: Reply): SlackMessage[] {
  const body = [...textBlocks(reply.text ?? ''), ...fieldBlocks(reply), ...tableBlocks(reply)];
  const tail = tailBlocks(reply);
  const head = headBlocks(reply);
  const pages: SlackBlock[][] = [];
  let page: SlackBlock[] = [...head];
  let chars = 0;
  for (const block of body) {
    const size = blockChars(block);
    // Leave room on each page for the tail (buttons, context) that may have to follow.
    if (page.length + 1 + tail.length > L.blocksPerMessage || (chars + size > L.charsPerPage && chars > 0)) {
      pages.push(page);
      page = [];
      chars = 0;
    }
    page.push(block);
    chars += size;
  }
  page.push(...tail);
  pages.push(page);
  return pages.map((blocks, i) => ({
    text: fallbackText(reply, i, pages.length),
    blocks: i === 0 ? blocks : [continuation(reply, i, pages.length), ...blocks],
  }));
}

/**
 * For output too long to page through in chat: the first message keeps the summary (title, text, fields),
 * says where the rest went, and keeps the buttons; the full text goes in a file.
 */
export function renderSlackSummary(reply: Reply, note: string): SlackMessage {
  const summary: Reply = { ...reply };
  delete summary.table;
  const [first] = renderSlackReply({ ...summary, text: [reply.text, note].filter(Boolean).join('\n\n') });
  // Text and fields alone never exceed one page in practice; if they did, the file still holds everything.
  return first!;
}

/** Title with the severity emoji unless it already starts with its own (🔴 Cluster api disabled). */
export function decoratedTitle(reply: Reply): string {
  return /^\p{Extended_Pictographic}/u.test(reply.title) ? reply.title : `${SEVERITY_EMOJI[reply.severity]} ${reply.title}`;
}

function headBlocks(reply: Reply): SlackBlock[] {
  const title = decoratedTitle(reply);
  if (title.length <= L.headerText) return [{ type: 'header', text: { type: 'plain_text', text: title, emoji: true } }];
  // A header holds 150 characters; a longer title goes whole into a section instead of being cut.
  return splitText(`*${escapeMrkdwn(title)}*`, L.sectionText).map((t) => section(t));
}

function textBlocks(text: string): SlackBlock[] {
  return text ? splitText(escapeMrkdwn(text), L.sectionText).map((t) => section(t)) : [];
}

function fieldBlocks(reply: Reply): SlackBlock[] {
  const out: SlackBlock[] = [];
  let batch: string[] = [];
  const flush = () => {
    if (batch.length) out.push({ type: 'section', fields: batch.map((text) => mrkdwn(text)) });
    batch = [];
  };
  for (const f of reply.fields ?? []) {
    const text = `*${escapeMrkdwn(f.name)}*\n${escapeMrkdwn(f.value)}`;
    if (text.length > L.fieldText) {
      // Too long for a field: give it its own section(s), in order.
      flush();
      out.push(...splitText(text, L.sectionText).map((t) => section(t)));
      continue;
    }
    batch.push(text);
    if (batch.length === L.fieldsPerSection) flush();
  }
  flush();
  return out;
}

function tableBlocks(reply: Reply): SlackBlock[] {
  if (!reply.table) return [];
  const lines = renderTable(reply.table.columns, reply.table.rows)
    .split('\n')
    .map((l) => escapeMrkdwn(l.replace(/^ {2}/, '')));
  const fence = '```';
  const budget = L.sectionText - 2 * fence.length - 2;
  return splitLines(lines, budget).map((chunk) => section(`${fence}\n${chunk}\n${fence}`));
}

function tailBlocks(reply: Reply): SlackBlock[] {
  const out: SlackBlock[] = [];
  const buttons = reply.buttons ?? [];
  for (let i = 0; i < buttons.length; i += L.buttonsPerActions) {
    out.push({
      type: 'actions',
      block_id: `infra_actions_${i / L.buttonsPerActions}`,
      elements: buttons.slice(i, i + L.buttonsPerActions).map((b, j) => ({
        type: 'button',
        action_id: `${BUTTON_ACTION_PREFIX}${i + j}`,
        text: { type: 'plain_text', text: clip(b.label, L.buttonText), emoji: true },
        value: b.actionId,
        ...(b.style ? { style: b.style } : {}),
      })),
    });
  }
  const links = reply.links ?? [];
  for (let i = 0; i < links.length; i += L.buttonsPerActions) {
    out.push({
      type: 'actions',
      block_id: `infra_links_${i / L.buttonsPerActions}`,
      elements: links.slice(i, i + L.buttonsPerActions).map((l, j) => ({
        type: 'button',
        action_id: `${LINK_ACTION_PREFIX}${i + j}`,
        text: { type: 'plain_text', text: clip(l.label, L.buttonText), emoji: true },
        url: l.url,
      })),
    });
  }
  if (reply.imageUrl) out.push({ type: 'image', image_url: reply.imageUrl, alt_text: clip(reply.title, 200) });
  const notes: string[] = [];
  if (reply.hint) notes.push(reply.outcome === 'confirm' ? `Or type: \`/infra ${escapeMrkdwn(reply.hint)}\`` : escapeMrkdwn(reply.hint));
  for (const a of reply.attachments ?? []) notes.push(`:paperclip: ${escapeMrkdwn(a.filename)} (attached)`);
  const elements = [...notes.map((n) => mrkdwn(clip(n, L.sectionText))), mrkdwn(`ref \`${reply.traceId}\` · ${slackDate(reply.time)}`)];
  out.push({ type: 'context', elements: elements.slice(-L.contextElements) });
  return out;
}

function continuation(reply: Reply, index: number, total: number): SlackBlock {
  return { type: 'context', elements: [mrkdwn(`*${escapeMrkdwn(clip(reply.title, 200))}* (continued, ${index + 1}/${total})`)] };
}

function fallbackText(reply: Reply, index: number, total: number): string {
  const page = total > 1 ? ` (${index + 1}/${total})` : '';
  const first = index === 0 && reply.text ? `\n${escapeMrkdwn(clip(reply.text, 500))}` : '';
  // Notifications and old clients show `text` as mrkdwn: escaped like the blocks.
  return `${escapeMrkdwn(decoratedTitle(reply))}${page}${first}`;
}

const section = (text: string): SlackBlock => ({ type: 'section', text: mrkdwn(text) });
/** `verbatim` stops Slack from auto-linking bare URLs, #channels and @mentions in the (escaped) reply text. */
const mrkdwn = (text: string) => ({ type: 'mrkdwn' as const, text, verbatim: true });

/** Slack's date token shows the time in each reader's own time zone; the ISO string is the fallback. */
function slackDate(iso: string): string {
  const unix = Math.floor(Date.parse(iso) / 1000);
  return Number.isFinite(unix) ? `<!date^${unix}^{date_short_pretty} {time_secs}|${iso}>` : iso;
}

/**
 * Escapes &, < and > so Slack shows the text literally. Every string of a Reply may echo user input (a
 * `--reason`, a cluster name), and Slack hands us what the user typed with its entities intact (`<!channel>`,
 * `<https://…|label>`), so nothing from a Reply may reach Slack as a live mention or link. Mentions the
 * adapter means to make ("Confirmed by <@U1>") are built outside this function.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Short labels only (buttons, titles in markers); marked with an ellipsis so the cut is visible. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Splits text into chunks of at most `max` characters, at line breaks where possible. */
export function splitText(text: string, max: number): string[] {
  return splitLines(text.split('\n'), max);
}

function splitLines(lines: string[], max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  const push = (line: string) => {
    if (current === '') current = line;
    else if (current.length + 1 + line.length <= max) current += `\n${line}`;
    else {
      chunks.push(current);
      current = line;
    }
  };
  for (const line of lines) {
    // A single line longer than a block is wrapped hard; every character still arrives.
    for (let i = 0; i < Math.max(line.length, 1); i += max) push(line.slice(i, i + max));
  }
  if (current !== '' || chunks.length === 0) chunks.push(current);
  return chunks.filter((c) => c !== '');
}

function blockChars(block: SlackBlock): number {
  return JSON.stringify(block).length;
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DISCORD_LIMITS, renderDiscordReply, type DiscordMessage } from '../../src/chat/discord/render-discord-reply.js';
import type { Reply } from '../../src/framework/reply.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');

/** Compares with test/discord/golden/<name>.json; `UPDATE_GOLDEN=1` rewrites the files. */
function golden(name: string, messages: DiscordMessage[]) {
  const serialised = JSON.stringify(
    messages.map((m) => ({ ...m, files: m.files.map((f) => ({ name: f.name, contentType: f.contentType, data: String(f.data) })) })),
    null,
    2,
  ) + '\n';
  const file = join(GOLDEN, `${name}.json`);
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, serialised);
  }
  if (!existsSync(file)) throw new Error(`missing golden file ${file}; run with UPDATE_GOLDEN=1 to create it`);
  expect(serialised).toBe(readFileSync(file, 'utf8'));
}

const base = { outcome: 'ok', traceId: 'tr4ce1d000', time: '2026-11-21T03:00:00.000Z', visibility: 'channel' } as const;

/** Every message within Discord's limits. */
function expectWithinLimits(messages: DiscordMessage[]) {
  for (const m of messages) {
    expect(m.embeds.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedsPerMessage);
    let total = 0;
    for (const e of m.embeds) {
      expect(e.title?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.title);
      expect(e.description?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.description);
      expect(e.fields?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.fields);
      for (const f of e.fields ?? []) {
        expect(f.name.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldName);
        expect(f.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldValue);
        expect(f.value.length).toBeGreaterThan(0);
      }
      total += (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
    }
    expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.total);
    expect(m.content?.length ?? 0).toBeLessThanOrEqual(DISCORD_LIMITS.content);
  }
}

describe('renderDiscordReply', () => {
  it('renders a status table as a code block with a blurple info colour (golden)', () => {
    const reply: Reply = {
      ...base,
      title: 'infrabot status',
      severity: 'info',
      visibility: 'ephemeral',
      text: '✅ Global kill-switch is off.\nAll 3 clusters enabled with closed breakers.',
      table: { columns: ['cluster', 'traffic', 'breaker'], rows: [['api', '🟢 enabled', 'closed'], ['db', '🟢 enabled', 'closed'], ['web', '🔴 disabled', 'open']] },
    };
    const messages = renderDiscordReply(reply);
    golden('status-table', messages);
    expect(messages[0]!.embeds[0]!.color).toBe(0x5865f2);
  });

  it('renders a confirmation with danger and secondary buttons and no typed hint (golden)', () => {
    const reply: Reply = {
      ...base,
      outcome: 'confirm',
      visibility: 'ephemeral',
      title: 'Please confirm',
      text: 'Disabling cluster api makes it refuse all traffic.\nThis is a dangerous action.',
      severity: 'warning',
      hint: 'cluster disable api --reason "bad deploy" --yes',
      buttons: [{ label: 'Confirm', style: 'danger', actionId: 'act1' }, { label: 'Cancel', actionId: 'act2' }],
    };
    const [m] = renderDiscordReply(reply);
    golden('confirm-buttons', [m!]);
    expect(m!.components[0]!.components.map((b) => ('custom_id' in b ? b.custom_id : b.url))).toEqual(['infra:act1', 'infra:act2']);
    expect(m!.embeds[0]!.description).not.toContain('--yes');
  });

  it('renders fields, a hint and a critical colour (golden)', () => {
    const reply: Reply = {
      ...base,
      title: 'Cluster api (Public API)',
      severity: 'critical',
      text: '🛑 Global kill-switch is ON.',
      fields: [
        { name: 'Traffic', value: '🔴 disabled by discord:42', inline: true },
        { name: 'Breaker', value: '', inline: true },
      ],
      hint: 'Type `help cluster` for more.',
    };
    golden('fields-critical', renderDiscordReply(reply));
  });

  it('pages a long text and a big table across embeds and messages without losing a line', () => {
    const text = Array.from({ length: 400 }, (_, i) => `line ${i} of the incident timeline, with some words`).join('\n');
    const rows = Array.from({ length: 300 }, (_, i) => [`cluster-${i}`, 'enabled', `${i * 10}/min`]);
    const reply: Reply = { ...base, title: 'Big', severity: 'info', text, table: { columns: ['cluster', 'traffic', 'limit'], rows } };
    const messages = renderDiscordReply(reply, { maxMessages: 20 });
    expectWithinLimits(messages);
    expect(messages.length).toBeGreaterThan(1);
    const all = messages.flatMap((m) => m.embeds.map((e) => e.description ?? '')).join('\n');
    for (let i = 0; i < 400; i++) expect(all).toContain(`line ${i} of the incident`);
    for (let i = 0; i < 300; i++) expect(all).toContain(`cluster-${i} `);
    expect(messages.at(-1)!.embeds.at(-1)!.footer?.text).toBe('ref tr4ce1d000');
  });

  it('splits long and many fields into continued fields within the limits', () => {
    const fields = Array.from({ length: 40 }, (_, i) => ({ name: `field ${i}`, value: 'x'.repeat(i === 3 ? 3000 : 50) }));
    const messages = renderDiscordReply({ ...base, title: 'Fields', severity: 'info', fields }, { maxMessages: 20 });
    expectWithinLimits(messages);
    const names = messages.flatMap((m) => m.embeds.flatMap((e) => e.fields ?? [])).map((f) => f.name);
    expect(names.filter((n) => n === 'field 3' || n === 'field 3 (cont.)')).toEqual(['field 3', 'field 3 (cont.)', 'field 3 (cont.)']);
    expect(names.filter((n) => !n.includes('cont.'))).toHaveLength(40);
  });

  it('attaches the full reply as a file when it would take too many messages (golden)', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [`c${i}`, 'enabled']);
    const reply: Reply = { ...base, title: 'Huge', severity: 'warning', text: 'Many clusters.', table: { columns: ['cluster', 'traffic'], rows }, buttons: [{ label: 'Refresh', actionId: 'r1' }] };
    const messages = renderDiscordReply(reply);
    expect(messages).toHaveLength(1);
    expectWithinLimits(messages);
    const file = messages[0]!.files[0]!;
    expect(file.name).toBe('infrabot-tr4ce1d000.txt');
    expect(String(file.data)).toContain('c1999');
    expect(messages[0]!.embeds[0]!.description).toContain('attached file infrabot-tr4ce1d000.txt');
    expect(messages[0]!.components).toHaveLength(1);
    golden('huge-attachment', [{ ...messages[0]!, files: [{ ...file, data: `${String(file.data).length} chars` }] }]);
  });

  it('keeps an over-long title whole in the description', () => {
    const title = 'T'.repeat(300);
    const [m] = renderDiscordReply({ ...base, title, severity: 'success' });
    expectWithinLimits([m!]);
    expect(m!.embeds[0]!.title!.endsWith('…')).toBe(true);
    expect(m!.embeds[0]!.description).toContain(title);
  });

  it('never lets reply text ping anyone', () => {
    const [m] = renderDiscordReply({ ...base, title: 'x', severity: 'info', text: '@everyone <@&1> look' });
    expect(m!.allowed_mentions).toEqual({ parse: [] });
  });

  it('shows user and probe text literally: no masked links, spoilers, headings or formatting', () => {
    const evil = 'see [the runbook](https://evil.example) ||hidden|| *loud* __under__ <@123>';
    const [m] = renderDiscordReply({
      ...base,
      title: `Cluster api disabled: ${evil}`,
      severity: 'warning',
      text: `# BIG BANNER\n> quoted\n- listed\nReason: ${evil}\nUndo with \`cluster enable api\`.`,
      fields: [{ name: 'Reason', value: evil }],
      hint: 'probe said: [click](https://evil.example)',
    });
    const e = m!.embeds[0]!;
    const all = [e.title, e.description, ...(e.fields ?? []).flatMap((f) => [f.name, f.value])].join('\n');
    expect(all).not.toMatch(/(^|[^\\])\[[^\]]*(^|[^\\])\]\(/); // no unescaped [text](url)
    expect(all).toContain('\\[the runbook\\](https://evil.example)');
    expect(all).toContain('\\|\\|hidden\\|\\|');
    expect(all).toContain('\\*loud\\*');
    expect(all).toContain('\\<@123\\>');
    expect(e.description).toMatch(/^\\# BIG BANNER\n\\> quoted\n\\- listed/);
    // Our own inline code stays code.
    expect(e.description).toContain('Undo with `cluster enable api`.');
  });
});

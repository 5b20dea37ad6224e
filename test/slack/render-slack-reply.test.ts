import { describe, expect, it } from 'vitest';
import { prepareSlackReply } from '../../src/chat/slack/prepare-slack-reply.js';
import { escapeMrkdwn, renderSlackReply, type SlackBlock } from '../../src/chat/slack/render-slack-reply.js';
import { SLACK_LIMITS } from '../../src/chat/slack/slack-limits.js';
import type { Reply } from '../../src/framework/reply.js';

const base: Reply = {
  title: 'Rate limits of api changed',
  severity: 'success',
  visibility: 'channel',
  outcome: 'ok',
  traceId: 'k3m9xq2p7a',
  time: '2026-11-21T03:00:00.000Z',
};

const golden = (name: string, value: unknown) => expect(JSON.stringify(value, null, 2) + '\n').toMatchFileSnapshot(`./__golden__/${name}.json`);

/** Every Block Kit limit the renderer promises to respect. */
function expectWithinLimits(blocks: SlackBlock[]) {
  expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocksPerMessage);
  for (const b of blocks) {
    if (b.type === 'section') {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect(b.fields?.length ?? 0).toBeLessThanOrEqual(SLACK_LIMITS.fieldsPerSection);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    }
    if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    if (b.type === 'actions') expect(b.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonsPerActions);
  }
}

describe('renderSlackReply (golden files in test/slack/__golden__)', () => {
  it('renders a control change: header with severity emoji, fields, trace context', async () => {
    const reply: Reply = { ...base, fields: [{ name: 'Before', value: '600/min · 20,000/h · 300,000/day' }, { name: 'Now', value: '300/min · 20,000/h · 300,000/day' }] };
    await golden('control-change', renderSlackReply(reply));
  });

  it('renders a confirmation: danger button carrying the action id, and the typed alternative', async () => {
    const reply: Reply = {
      ...base,
      title: 'Please confirm',
      text: 'Disabling cluster api makes it refuse all traffic.\nThis is a dangerous action.',
      severity: 'warning',
      visibility: 'ephemeral',
      outcome: 'confirm',
      buttons: [{ label: 'Confirm', style: 'danger', actionId: 'act_confirm1' }, { label: 'Cancel', actionId: 'act_cancel1' }],
      hint: 'cluster disable api --reason "bad deploy" --yes',
    };
    const [message] = renderSlackReply(reply);
    await golden('confirmation', message);
    const actions = message!.blocks.find((b) => b.type === 'actions');
    expect(actions).toMatchObject({ elements: [{ value: 'act_confirm1', style: 'danger' }, { value: 'act_cancel1' }] });
  });

  it('renders a table as a monospace code block and keeps the title emoji of the handler', async () => {
    const reply: Reply = {
      ...base,
      title: '🔴 Cluster api disabled',
      severity: 'warning',
      table: { columns: ['cluster', 'traffic', 'breaker'], rows: [['api', 'disabled', 'closed'], ['db', 'enabled', 'open <30s>']] },
    };
    await golden('table', renderSlackReply(reply));
  });

  it('splits more than ten fields into several sections', () => {
    const fields = Array.from({ length: 23 }, (_, i) => ({ name: `f${i}`, value: `v${i}` }));
    const [message] = renderSlackReply({ ...base, fields });
    const sections = message!.blocks.filter((b) => b.type === 'section' && b.fields);
    expect(sections.map((s) => (s as { fields: unknown[] }).fields.length)).toEqual([10, 10, 3]);
  });

  it('splits long text at line breaks without losing a character', () => {
    const text = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n');
    const pages = renderSlackReply({ ...base, text });
    const sectionTexts = pages.flatMap((p) => p.blocks).filter((b) => b.type === 'section').map((b) => (b as { text: { text: string } }).text.text);
    expect(sectionTexts.join('\n')).toBe(text);
    for (const p of pages) expectWithinLimits(p.blocks);
  });

  it('pages a long table within Slack limits, every row present once, buttons and context on the last page', () => {
    const rows = Array.from({ length: 400 }, (_, i) => [`row-${String(i).padStart(3, '0')}`, 'x'.repeat(60)]);
    const pages = renderSlackReply({ ...base, table: { columns: ['id', 'data'], rows }, buttons: [{ label: 'Again', actionId: 'a1' }] });
    expect(pages.length).toBeGreaterThan(1);
    for (const p of pages) expectWithinLimits(p.blocks);
    const all = JSON.stringify(pages);
    for (const [id] of rows) expect(all.split(id!).length - 1).toBe(1);
    expect(pages.at(-1)!.blocks.some((b) => b.type === 'actions')).toBe(true);
    expect(pages.slice(0, -1).some((p) => p.blocks.some((b) => b.type === 'actions'))).toBe(false);
    expect(JSON.stringify(pages[1]!.blocks[0])).toContain(`continued, 2/${pages.length}`);
  });

  it('moves output too long to page through into a file, saying so in the message', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [`row-${i}`, 'y'.repeat(50)]);
    const prepared = prepareSlackReply({ ...base, title: 'Audit search', table: { columns: ['id', 'data'], rows } });
    expect(prepared.messages).toHaveLength(1);
    expect(prepared.files).toHaveLength(1);
    expect(prepared.files[0]!.filename).toBe('infra-k3m9xq2p7a.txt');
    expect(prepared.files[0]!.content).toContain('row-1999');
    await golden('file-summary', prepared.messages[0]);
  });

  it('shows a title longer than a header allows in full', () => {
    const title = `Audit ${'very long title '.repeat(20)}end`;
    const [message] = renderSlackReply({ ...base, title });
    expect(message!.blocks[0]!.type).toBe('section');
    expect(JSON.stringify(message!.blocks[0])).toContain('end*');
  });

  it('escapes &, < and > everywhere, mentions and links included: reply text may echo user input', () => {
    expect(escapeMrkdwn('a < b && c > d, ask <@U123> or <!subteam^S1|@oncall>, see <https://x.example/a?b=1|docs>')).toBe(
      'a &lt; b &amp;&amp; c &gt; d, ask &lt;@U123&gt; or &lt;!subteam^S1|@oncall&gt;, see &lt;https://x.example/a?b=1|docs&gt;',
    );
  });

  it('leaves no live entity from any part of a reply (title, text, fields, table, hint, fallback text)', () => {
    const evil = '<!channel> see <https://evil.example|the runbook> <@U1> <#C1> <!subteam^S1>';
    const pages = renderSlackReply({
      ...base,
      title: `x ${evil} ${'long '.repeat(40)}`,
      text: evil,
      fields: [{ name: evil, value: evil }],
      table: { columns: ['c'], rows: [[evil]] },
      hint: evil,
      outcome: 'confirm',
      buttons: [{ label: 'Confirm', actionId: 'a1' }],
    });
    const all = JSON.stringify(pages);
    expect(all).toContain('&lt;!channel&gt;');
    // The only entity left is the adapter's own date token in the context.
    expect((all.match(/<[^<>]*>/g) ?? []).filter((e) => !e.startsWith('<!date^'))).toEqual([]);
    for (const b of pages.flatMap((p) => p.blocks)) {
      for (const t of [...(b.type === 'section' ? [b.text, ...(b.fields ?? [])] : []), ...(b.type === 'context' ? b.elements : [])]) {
        if (t && t.type === 'mrkdwn') expect(t.verbatim).toBe(true);
      }
    }
  });
});

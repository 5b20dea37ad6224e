import { describe, expect, it } from 'vitest';
import { renderText } from '../../src/chat/console/render-text.js';
import { renderDiscordReply } from '../../src/chat/discord/render-discord-reply.js';
import { renderSlackReply } from '../../src/chat/slack/render-slack-reply.js';
import type { Reply } from '../../src/framework/reply.js';

const reply: Reply = {
  title: '⚠️ web: Disk 93% full on web-1',
  text: '🟡 Disk 93% full on web-1 (firing for 0s) · DiskFull from grafana · alert a1b2c3',
  severity: 'warning',
  visibility: 'channel',
  outcome: 'ok',
  traceId: 'tr4ce1d000',
  time: '2026-11-21T03:00:00.000Z',
  buttons: [{ label: 'Acknowledge', actionId: 'act1', style: 'primary' }],
  links: [
    { label: 'Runbook', url: 'https://runbooks.example.com/disk' },
    { label: 'Dashboard', url: 'https://grafana.example.com/d/node' },
  ],
  imageUrl: 'https://grafana.example.com/render/panel.png',
};

describe('link buttons and images of received alerts', () => {
  it('Slack: url buttons after the action buttons, and an image block', () => {
    const [m] = renderSlackReply(reply);
    const actions = m!.blocks.filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(actions[1]))).toMatchObject({
      elements: [
        { type: 'button', action_id: 'infra_link_0', url: 'https://runbooks.example.com/disk', text: { text: 'Runbook' } },
        { type: 'button', action_id: 'infra_link_1', url: 'https://grafana.example.com/d/node', text: { text: 'Dashboard' } },
      ],
    });
    expect(m!.blocks.find((b) => b.type === 'image')).toMatchObject({ image_url: 'https://grafana.example.com/render/panel.png' });
  });

  it('Discord: link-style buttons with their URL, and the image in the embed', () => {
    const [m] = renderDiscordReply(reply);
    const buttons = m!.components.flatMap((r) => r.components);
    expect(buttons.map((b) => ('url' in b ? [b.style, b.label, b.url] : [b.style, b.label]))).toEqual([
      [1, 'Acknowledge'],
      [5, 'Runbook', 'https://runbooks.example.com/disk'],
      [5, 'Dashboard', 'https://grafana.example.com/d/node'],
    ]);
    expect(m!.embeds[0]!.image).toEqual({ url: 'https://grafana.example.com/render/panel.png' });
  });

  it('terminal: one line per link and the image URL, control characters escaped', () => {
    const text = renderText({ ...reply, links: [{ label: 'Runbook\x1b[2J', url: 'https://runbooks.example.com/disk' }] });
    expect(text).toContain('Runbook\\x1b[2J: https://runbooks.example.com/disk');
    expect(text).toContain('Image: https://grafana.example.com/render/panel.png');
    expect(text).not.toContain('\x1b');
  });
});

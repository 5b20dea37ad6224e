import { afterEach, describe, expect, it } from 'vitest';
import { renderDiscordReply } from '../../src/chat/discord/render-discord-reply.js';
import { SlackSink } from '../../src/chat/slack/slack-sink.js';
import { renderSummaryChart } from '../../src/framework/render/render-summary-chart.js';
import type { Reply } from '../../src/framework/reply.js';
import { createLogger } from '../../src/log.js';
import { logSink } from '../helpers/test-app.js';
import { FakeSlack } from '../slack/fake-slack.js';
import { BOT_TOKEN } from '../slack/slack-harness.js';

const png = renderSummaryChart({ bucketMs: 3_600_000, buckets: Array.from({ length: 24 }, (_, i) => ({ start: new Date(Date.UTC(2026, 10, 21, i)).toISOString(), alerts: i % 5 })) }, 'Alerts fired per hour');
const reply: Reply = {
  title: '📊 Summary · last 24h', text: 'Uptime 99.90%', severity: 'info', visibility: 'channel', outcome: 'ok', traceId: 't1', time: '2026-11-21T12:00:00.000Z',
  attachments: [{ filename: 'summary.png', contentType: 'image/png', content: png.toString('base64'), encoding: 'base64' }],
};

let fake: FakeSlack | undefined;
afterEach(async () => fake?.close());

describe('the summary chart reaches chat intact', () => {
  it('Slack uploads the PNG bytes as they are', async () => {
    fake = await FakeSlack.start();
    const sink = new SlackSink({ botToken: BOT_TOKEN, apiUrl: fake.apiUrl, log: createLogger({ level: 'debug', destination: logSink().stream }) });
    await sink.post('COPS', reply);
    expect(fake.uploads).toHaveLength(1);
    // The upload is multipart form data: the PNG must be inside it byte for byte (not re-encoded as text).
    expect(fake.uploads[0]!.bytes.indexOf(png)).toBeGreaterThan(0);
  });

  it('Discord sends the PNG bytes as a file of the first message', () => {
    const [first] = renderDiscordReply(reply);
    expect(first!.files).toEqual([expect.objectContaining({ name: 'summary.png', contentType: 'image/png' })]);
    expect(Buffer.from(first!.files[0]!.data as Buffer).equals(png)).toBe(true);
  });
});

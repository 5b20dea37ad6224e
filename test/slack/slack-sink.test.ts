import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatRateLimitedError } from '../../src/chat/chat-sink.js';
import { SlackSink } from '../../src/chat/slack/slack-sink.js';
import type { Reply } from '../../src/framework/reply.js';
import { createLogger } from '../../src/log.js';
import { logSink } from '../helpers/test-app.js';
import { FakeSlack } from './fake-slack.js';
import { BOT_TOKEN } from './slack-harness.js';

let fake: FakeSlack;
let sink: SlackSink;
const logs = logSink();
beforeEach(async () => {
  fake = await FakeSlack.start();
  sink = new SlackSink({ botToken: BOT_TOKEN, apiUrl: fake.apiUrl, log: createLogger({ level: 'debug', destination: logs.stream }) });
});
afterEach(async () => fake?.close());

const alert = (over: Partial<Reply> = {}): Reply => ({
  title: 'Error rate on api above 5%',
  text: 'p95 latency 2.3 s, errors 7.1% over 5 minutes.',
  fields: [{ name: 'Cluster', value: 'api' }, { name: 'Since', value: '03:12 UTC' }],
  severity: 'critical',
  visibility: 'channel',
  outcome: 'ok',
  traceId: 'trace12345',
  time: '2026-11-21T03:15:00.000Z',
  ...over,
});

describe('SlackSink', () => {
  it('posts an alert and later updates the same message on resolve', async () => {
    const posted = await sink.post('CALERTS', alert());
    expect(posted).toMatchObject({ platform: 'slack', channel: 'CALERTS' });
    const [post] = fake.callsTo('chat.postMessage');
    expect(post!.token).toBe(BOT_TOKEN);
    expect(post!.params.text).toContain('Error rate on api above 5%');
    expect(JSON.stringify(post!.params.blocks)).toContain(':rotating_light: Error rate on api above 5%');

    await sink.update(posted, alert({ title: 'Resolved: error rate on api back to normal', severity: 'success', text: 'Resolved after 14 minutes.' }));
    const [update] = fake.callsTo('chat.update');
    expect(update!.params).toMatchObject({ channel: 'CALERTS', ts: posted.messageId });
    expect(JSON.stringify(update!.params.blocks)).toContain(':white_check_mark: Resolved: error rate on api back to normal');
  });

  it('posts into an incident thread', async () => {
    const posted = await sink.post('CINCIDENT', alert({ title: 'Timeline update' }), { threadId: '1700000000.000100' });
    expect(fake.callsTo('chat.postMessage')[0]!.params.thread_ts).toBe('1700000000.000100');
    expect(posted.threadId).toBe('1700000000.000100');
  });

  it('surfaces a burst of 429s as ChatRateLimitedError with Slack\'s Retry-After, then succeeds', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfterSeconds: 7 }, 3);
    // What the durable outbox does: try, and on a rate limit wait retryAfterMs (not here: a test has no time).
    const delays: number[] = [];
    let posted;
    for (let attempt = 0; attempt < 5 && !posted; attempt++) {
      try {
        posted = await sink.post('CALERTS', alert());
      } catch (err) {
        expect(err).toBeInstanceOf(ChatRateLimitedError);
        delays.push((err as ChatRateLimitedError).retryAfterMs);
      }
    }
    expect(delays).toEqual([7000, 7000, 7000]);
    expect(posted?.messageId).toMatch(/^\d+\.\d+$/);
    // Each attempt was one HTTP call: the sink's client never waits or retries on its own.
    expect(fake.callsTo('chat.postMessage')).toHaveLength(4);
  });

  it('throws server errors at once so the outbox owns the retry', async () => {
    fake.failNext('chat.update', { status: 503 });
    await expect(sink.update({ platform: 'slack', channel: 'CALERTS', messageId: '1.2' }, alert())).rejects.not.toBeInstanceOf(ChatRateLimitedError);
    expect(fake.callsTo('chat.update')).toHaveLength(1);
  });

  it('attaches output too long for chat as a file with the three-step upload', async () => {
    const rows = Array.from({ length: 900 }, (_, i) => [`2026-11-21T03:${String(i % 60).padStart(2, '0')}:00Z`, `slack:U${i}`, `ratelimit set api --per-minute ${i + 1}`, 'ok']);
    const posted = await sink.post('CALERTS', alert({ title: 'Audit export', table: { columns: ['at', 'user', 'command', 'outcome'], rows } }));

    const [post] = fake.callsTo('chat.postMessage');
    expect(JSON.stringify(post!.params.blocks)).toContain('900 rows');
    expect(fake.callsTo('files.getUploadURLExternal')).toHaveLength(1);
    expect(fake.uploads).toHaveLength(1);
    expect(fake.uploads[0]!.body).toContain('ratelimit set api --per-minute 900');
    const [complete] = fake.callsTo('files.completeUploadExternal');
    expect(complete!.params).toMatchObject({ channel_id: 'CALERTS', thread_ts: posted.messageId });
    expect(complete!.params.files).toEqual([{ id: fake.uploads[0]!.fileId, title: 'Audit export' }]);
  });

  it('sends an alert whose image Slack cannot fetch again with the image as a link button', async () => {
    fake.failNext('chat.postMessage', { status: 200, error: 'invalid_blocks' });
    const posted = await sink.post('CALERTS', alert({ imageUrl: 'https://grafana.internal/render/panel.png', links: [{ label: 'Runbook', url: 'https://runbooks.example.com/x' }] }));
    expect(posted.messageId).not.toBe('');
    const [refused, sent] = fake.callsTo('chat.postMessage');
    expect(JSON.stringify(refused!.params.blocks)).toContain('"type":"image"');
    expect(JSON.stringify(sent!.params.blocks)).not.toContain('"type":"image"');
    expect(JSON.stringify(sent!.params.blocks)).toContain('"url":"https://grafana.internal/render/panel.png"');
    expect(logs.text()).toContain('Slack could not show the image');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { SlackSink } from '../../src/chat/slack/slack-sink.js';
import { createLogger } from '../../src/log.js';
import { logSink } from '../helpers/test-app.js';
import { FakeSlack } from '../slack/fake-slack.js';
import { BOT_TOKEN } from '../slack/slack-harness.js';
import { outboxHarness, threadNote } from './outbox-harness.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(channel = 'CALERTS') {
  const fake = await FakeSlack.start();
  cleanups.push(() => fake.close());
  const sink = new SlackSink({ botToken: BOT_TOKEN, apiUrl: fake.apiUrl, log: createLogger({ level: 'warn', destination: logSink().stream }) });
  // A deadline a loaded machine still meets for a prompt answer; the late answers come well after it.
  const h = await outboxHarness(sink, channel, { deliverTimeoutMs: 800 });
  cleanups.push(() => h.cleanup());
  return { fake, h };
}

const blocksOf = (m: { blocks?: unknown }) => JSON.stringify(m.blocks);

describe('Slack delivery posts once', () => {
  it('a post that lands after the deadline is found by its metadata, not posted again, and ends up resolved', async () => {
    const { fake, h } = await setup();
    fake.delayNext('chat.postMessage', 2500);
    await h.fire();
    expect(await h.deliverer.drain()).toBe(0); // the deadline (800 ms) passed: unknown outcome
    expect(h.rows()[0]).toMatchObject({ status: 'pending', kind: 'timeout' });
    // Slack did take the message, tagged with the job's key.
    const [first] = fake.channelMessages('CALERTS');
    expect(first!.metadata).toEqual({ event_type: 'infrabot_outbox', event_payload: { key: 'n1:1' } });

    expect(await h.later()).toBe(1);
    const [lookup] = fake.callsTo('conversations.history');
    expect(lookup!.params).toMatchObject({ channel: 'CALERTS', include_all_metadata: true });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
    expect((await h.health.deliveries('n1'))[0]!.messageId).toBe(first!.ts);
    // The abandoned call was aborted at the deadline: Slack's late answer found the connection closed.
    await fake.waitFor("the late answer", () => fake.hungUp === 1, 5000);

    await h.resolve();
    expect(await h.later()).toBe(1);
    const live = fake.channelMessages('CALERTS');
    expect(live).toHaveLength(1);
    expect(blocksOf(live[0]!)).toContain('RESOLVED');
  });

  it('a thread reply that lands after the deadline is found in the thread (conversations.replies), not posted twice', async () => {
    const { fake, h } = await setup();
    await h.fire();
    await h.deliverer.drain();
    const [head] = fake.channelMessages('CALERTS');
    fake.delayNext('chat.postMessage', 2500);
    await h.reply(threadNote('Timeline: paged the on-call'));
    expect(await h.deliverer.drain()).toBe(0);
    expect(await h.later()).toBe(1);
    expect(fake.callsTo('conversations.replies')[0]!.params).toMatchObject({ channel: 'CALERTS', ts: head!.ts, include_all_metadata: true });
    expect(fake.messages.filter((m) => m.thread_ts === head!.ts).map((m) => m.text)).toEqual([expect.stringContaining('Timeline: paged the on-call')]);
  });

  it('without the history scope the retry posts anyway (a duplicate is better than a lost alert) and says why', async () => {
    const { fake, h } = await setup();
    fake.delayNext('chat.postMessage', 2500);
    fake.failNext('conversations.history', { status: 200, error: 'missing_scope' });
    await h.fire();
    await h.deliverer.drain();
    expect(await h.later()).toBe(1);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(2);
    expect(h.rows()[0]!.status).toBe('done');
    expect(h.app.logs.text()).toContain("could not look for an earlier attempt's message");
  });

  it('a deleted alert message is posted afresh, and the jobs behind it still go out', async () => {
    const { fake, h } = await setup();
    await h.fire();
    expect(await h.deliverer.drain()).toBe(1);
    const [old] = fake.channelMessages('CALERTS');
    fake.deleteMessage(old!.ts);

    await h.resolve(threadNote('Timeline: api recovered'));
    expect(await h.later()).toBe(2);
    const [fresh] = fake.channelMessages('CALERTS');
    expect(fresh!.ts).not.toBe(old!.ts);
    expect(blocksOf(fresh!)).toContain('RESOLVED');
    expect((await h.health.deliveries('n1'))[0]!.messageId).toBe(fresh!.ts);
    const reply = fake.messages.find((m) => m.thread_ts);
    expect(reply).toMatchObject({ thread_ts: fresh!.ts });
    expect(h.rows().map((r) => r.status)).toEqual(['done', 'done', 'done']);
  });

  it('content Slack refuses for good is dead-lettered at once and does not hold back the next job', async () => {
    const { fake, h } = await setup();
    fake.failNext('chat.postMessage', { status: 200, error: 'msg_too_long' });
    await h.fire();
    await h.reply(threadNote('Timeline: paged the on-call'));
    await h.deliverer.drain();
    expect(h.rows()).toMatchObject([
      { status: 'dead', attempts: 1, kind: 'refused' },
      { status: 'done' },
    ]);
    // The reply went out on its own (its head message never existed), now, not after 24 hours.
    expect(fake.channelMessages('CALERTS').map((m) => m.text)).toEqual([expect.stringContaining('Timeline: paged the on-call')]);
  });

  it('a channel that is gone dead-letters the job at once instead of retrying for a day', async () => {
    const { fake, h } = await setup('CGONE');
    fake.missingChannels.add('CGONE');
    await h.fire();
    await h.deliverer.drain();
    expect(h.rows()).toMatchObject([{ status: 'dead', attempts: 1, kind: 'gone' }]);
    expect(h.app.logs.text()).toContain('notification given up');
  });
});

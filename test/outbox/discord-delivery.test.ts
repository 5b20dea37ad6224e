import { API } from '@discordjs/core/http-only';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiscordRest } from '../../src/chat/discord/create-discord-rest.js';
import { createDiscordSink } from '../../src/chat/discord/discord-sink.js';
import { BOT_TOKEN, CHANNEL_ID, startFakeDiscord } from '../discord/fake-discord.js';
import { outboxHarness, threadNote } from './outbox-harness.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const fake = await startFakeDiscord();
  cleanups.push(() => fake.close());
  const sink = createDiscordSink(new API(createDiscordRest({ apiUrl: fake.apiUrl, token: BOT_TOKEN, rejectOnRateLimit: true })));
  const h = await outboxHarness(sink, CHANNEL_ID, { deliverTimeoutMs: 800 });
  cleanups.push(() => h.cleanup());
  const posts = () => fake.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${CHANNEL_ID}/messages`);
  const live = () => [...fake.messages.values()].filter((m) => m.channel_id === CHANNEL_ID && !m.deleted);
  return { fake, h, posts, live };
}

const embedsOf = (m: { embeds?: unknown }) => JSON.stringify(m.embeds);

describe('Discord delivery posts once', () => {
  it('a retried post carries the same enforced nonce, so Discord returns the first message instead of a second', async () => {
    const { fake, h, posts, live } = await setup();
    fake.delay((method, path) => method === 'POST' && path.endsWith('/messages'), 1, 2500);
    await h.fire();
    expect(await h.deliverer.drain()).toBe(0); // the deadline passed; Discord created the message anyway
    expect(await h.later()).toBe(1);

    const [first, retry] = posts();
    expect(first!.body).toMatchObject({ nonce: expect.stringMatching(/^[0-9a-f]{25}$/), enforce_nonce: true });
    expect((retry!.body as { nonce: string }).nonce).toBe((first!.body as { nonce: string }).nonce);
    expect(live()).toHaveLength(1);
    expect((await h.health.deliveries('n1'))[0]!.messageId).toBe(live()[0]!.id);

    await h.resolve();
    expect(await h.later()).toBe(1);
    expect(live()).toHaveLength(1);
    expect(embedsOf(live()[0]!)).toContain('RESOLVED');
  });

  it('an alert message deleted in Discord (Unknown Message) is posted afresh and its thread reply follows', async () => {
    const { fake, h, live } = await setup();
    await h.fire();
    expect(await h.deliverer.drain()).toBe(1);
    const [old] = live();
    old!.deleted = true;

    await h.resolve(threadNote('Timeline: api recovered'));
    expect(await h.later()).toBe(2);
    const [fresh] = live();
    expect(fresh!.id).not.toBe(old!.id);
    expect(embedsOf(fresh!)).toContain('RESOLVED');
    expect((await h.health.deliveries('n1'))[0]).toMatchObject({ messageId: fresh!.id, threadId: fresh!.id });
    expect(fake.threads.map((t) => t.messageId)).toEqual([fresh!.id]);
    expect(h.rows().map((r) => r.status)).toEqual(['done', 'done', 'done']);
  });

  it('a thread whose creation answered too late is found, not created twice, and the reply lands in it', async () => {
    const { fake, h, live } = await setup();
    await h.fire();
    await h.deliverer.drain();
    fake.delay((method, path) => method === 'POST' && path.endsWith('/threads'), 1, 2500);
    await h.reply(threadNote('Timeline: paged the on-call'));
    expect(await h.deliverer.drain()).toBe(0);
    expect(await h.later()).toBe(1);
    const [head] = live();
    expect(fake.threads).toHaveLength(1);
    expect([...fake.messages.values()].filter((m) => m.channel_id === head!.id).map((m) => embedsOf(m))).toEqual([expect.stringContaining('Timeline: paged the on-call')]);
  });
});

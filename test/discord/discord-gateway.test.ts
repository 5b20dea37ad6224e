import { afterEach, describe, expect, it } from 'vitest';
import { ChatRateLimitedError } from '../../src/chat/chat-sink.js';
import type { Reply } from '../../src/framework/reply.js';
import { APP_ID, BOT_TOKEN, CHANNEL_ID, type FakeMessage } from './fake-discord.js';
import { autocomplete, buttonClick, slashCommand } from './interactions.js';
import { NOBODY, ONCALL_ROLE, OPERATOR, startGatewayWorld, type GatewayWorld } from './setup.js';

let world: GatewayWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const EPHEMERAL = 64;
const reasonOpt = (value: string) => ({ name: 'reason', type: 3, value });
const clusterOpt = (value: string) => ({ name: 'cluster', type: 3, value });

describe('Discord over the gateway (discord.js Client against a fake Discord)', () => {
  it('connects with the bot token and answers a slash command with an embed', async () => {
    world = await startGatewayWorld();
    const { fake, app } = world;
    expect(fake.identifies.map((i) => i.token)).toEqual([BOT_TOKEN]);

    const i = slashCommand('ratelimit', 'set', [clusterOpt('api'), { name: 'per-minute', type: 4, value: 500 }], { userId: OPERATOR });
    fake.dispatchInteraction(i);
    const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
    expect(cb.body.type).toBe(4);
    const embed = (cb.body.data!.embeds as FakeMessage['embeds'])![0]!;
    expect(embed.color).toBe(0x57f287); // a change: success green, posted in channel
    expect(cb.body.data!.flags ?? 0).toBe(0);
    expect(embed.footer?.text).toMatch(/^ref [a-z0-9]{10}$/);

    const state = await app.engine.state();
    expect(state.clusters.api!.rateLimits.perMinute).toBe(500);
    const [audit] = await app.store.searchAudit({ limit: 1 });
    expect(audit).toMatchObject({ platform: 'discord', userId: `discord:${OPERATOR}`, rawText: 'ratelimit set api --per-minute 500', outcome: 'ok' });
    expect(app.logs.text()).not.toContain(BOT_TOKEN);
  });

  it('shows a table reply (status) as a code block, only to the caller', async () => {
    world = await startGatewayWorld();
    const { fake } = world;
    const i = slashCommand('status', undefined, [], { userId: OPERATOR });
    fake.dispatchInteraction(i);
    const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
    const embed = (cb.body.data!.embeds as FakeMessage['embeds'])![0]!;
    expect(embed.title).toBe('infrabot status');
    expect(embed.description).toContain('```');
    expect(embed.description).toMatch(/api[\s\S]*db[\s\S]*web/);
    expect(cb.body.data!.flags).toBe(EPHEMERAL);
  });

  it('defers a slow command, then edits @original with the reply', async () => {
    world = await startGatewayWorld({ deferAfterMs: 0 });
    const { fake } = world;
    const i = slashCommand('ratelimit', 'set', [clusterOpt('web'), { name: 'per-hour', type: 4, value: 40_000 }], { userId: OPERATOR });
    fake.dispatchInteraction(i);
    const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
    expect(cb.body.type).toBe(5);
    // A control change is predicted to be public, so "thinking…" is shown to the channel.
    expect(cb.body.data?.flags ?? 0).toBe(0);
    const original = await fake.waitFor(() => fake.messagesFor(i.token).find((m) => m.edits > 0));
    expect(original.embeds![0]!.title).toMatch(/web/);
    expect(fake.requests.some((r) => r.method === 'PATCH' && r.path.endsWith('/messages/@original'))).toBe(true);
  });

  it('delivers a deferred denial privately and removes the public placeholder', async () => {
    world = await startGatewayWorld({ deferAfterMs: 0 });
    const { fake } = world;
    const i = slashCommand('ratelimit', 'set', [clusterOpt('web'), { name: 'per-hour', type: 4, value: 1 }], { userId: NOBODY });
    fake.dispatchInteraction(i);
    const privateReply = await fake.waitFor(() => fake.messagesFor(i.token).find((m) => m.flags === EPHEMERAL));
    expect(privateReply.embeds![0]!.title).toBe('Not allowed');
    await fake.waitFor(() => fake.messagesFor(i.token)[0]!.deleted);
    expect(fake.messagesFor(i.token).filter((m) => !m.deleted && m.flags !== EPHEMERAL)).toEqual([]);
  });

  it('shows a denial only to the caller, in amber', async () => {
    world = await startGatewayWorld();
    const { fake, app } = world;
    const i = slashCommand('cluster', 'disable', [clusterOpt('api'), reasonOpt('bad deploy')], { userId: NOBODY });
    fake.dispatchInteraction(i);
    const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
    expect(cb.body.type).toBe(4);
    expect(cb.body.data!.flags).toBe(EPHEMERAL);
    const embed = (cb.body.data!.embeds as FakeMessage['embeds'])![0]!;
    expect(embed.title).toBe('Not allowed');
    expect(embed.color).toBe(0xe67e22);
    expect((await app.engine.state()).clusters.api!.enabled).toBe(true);
  });

  it('lets a Discord role granted in infrabot act through its members', async () => {
    world = await startGatewayWorld();
    const { fake, app } = world;
    await app.run(`role grant discord-role:${ONCALL_ROLE} viewer`);
    const i = slashCommand('cluster', 'list', [], { userId: NOBODY, roles: [ONCALL_ROLE] });
    fake.dispatchInteraction(i);
    const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
    expect((cb.body.data!.embeds as FakeMessage['embeds'])![0]!.title).toBe('3 clusters');
  });

  it('confirms a dangerous action with a button; the result is posted in the channel, the private prompt resolved', async () => {
    world = await startGatewayWorld();
    const { fake, app } = world;
    const i = slashCommand('cluster', 'disable', [clusterOpt('api'), reasonOpt('bad deploy, rolling back')], { userId: OPERATOR });
    fake.dispatchInteraction(i);
    const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
    expect(cb.body.data!.flags).toBe(EPHEMERAL);
    const confirmMsg = fake.messagesFor(i.token)[0]!;
    const buttons = confirmMsg.components![0]!.components;
    expect(buttons.map((b) => [b.label, b.style])).toEqual([['Confirm', 4], ['Cancel', 2]]);
    expect((await app.engine.state()).clusters.api!.enabled).toBe(true);

    const click = buttonClick(buttons[0]!.custom_id, { id: confirmMsg.id, flags: EPHEMERAL }, { userId: OPERATOR });
    fake.dispatchInteraction(click);
    const update = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === click.id));
    // The ephemeral prompt cannot become public: it is resolved with a note, its buttons gone…
    expect(update.body.type).toBe(7);
    const prompt = fake.messages.get(confirmMsg.id)!;
    expect(prompt).toMatchObject({ content: '✅ Confirmed — posted in the channel.', embeds: [], components: [], flags: EPHEMERAL });
    // …and the team sees the change in a public follow-up.
    const result = await fake.waitFor(() => fake.messagesFor(click.token)[0]);
    expect(result.flags).toBe(0);
    expect(result.embeds![0]!.title).toBe('🔴 Cluster api disabled');
    expect(result.content).toBe(`Confirmed by <@${OPERATOR}>`);
    const followUp = fake.requests.find((r) => r.method === 'POST' && r.path === `/webhooks/${APP_ID}/${click.token}`)!;
    expect(followUp.body).toMatchObject({ allowed_mentions: { parse: [] } });
    expect((followUp.body as { flags?: number }).flags ?? 0).toBe(0);
    expect((await app.engine.state()).clusters.api!.enabled).toBe(false);
    const audit = await app.store.searchAudit({ limit: 5 });
    expect(audit.map((a) => a.outcome)).toEqual(expect.arrayContaining(['confirm', 'ok']));
  });

  it('posts a slow confirmed result in the channel too (deferred update, then a public follow-up)', async () => {
    world = await startGatewayWorld({ deferAfterMs: 0 });
    const { fake, app } = world;
    const i = slashCommand('cluster', 'disable', [clusterOpt('web'), reasonOpt('load test')], { userId: OPERATOR });
    fake.dispatchInteraction(i);
    const prompt = await fake.waitFor(() => fake.messagesFor(i.token).find((m) => m.components?.length));
    expect(prompt.flags).toBe(EPHEMERAL);
    const click = buttonClick(prompt.components![0]!.components[0]!.custom_id, { id: prompt.id, flags: EPHEMERAL }, { userId: OPERATOR });
    fake.dispatchInteraction(click);
    const result = await fake.waitFor(() => fake.messagesFor(click.token)[0]);
    expect(fake.callbacks.find((c) => c.interactionId === click.id)!.body.type).toBe(6);
    expect(result).toMatchObject({ flags: 0, content: `Confirmed by <@${OPERATOR}>` });
    expect(result.embeds![0]!.title).toBe('🔴 Cluster web disabled');
    await fake.waitFor(() => fake.messages.get(prompt.id)!.content === '✅ Confirmed — posted in the channel.');
    expect(fake.messages.get(prompt.id)).toMatchObject({ embeds: [], components: [], flags: EPHEMERAL });
    expect((await app.engine.state()).clusters.web!.enabled).toBe(false);
  });

  it('replaces the prompt with the pipeline\'s "Cancelled" reply when Cancel is clicked, and runs nothing', async () => {
    world = await startGatewayWorld();
    const { fake, app } = world;
    const i = slashCommand('cluster', 'disable', [clusterOpt('api'), reasonOpt('bad deploy')], { userId: OPERATOR });
    fake.dispatchInteraction(i);
    await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
    const prompt = fake.messagesFor(i.token)[0]!;
    const [confirm, cancel] = prompt.components![0]!.components;

    const click = buttonClick(cancel!.custom_id, { id: prompt.id, flags: EPHEMERAL }, { userId: OPERATOR });
    fake.dispatchInteraction(click);
    const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === click.id));
    expect(cb.body.type).toBe(7);
    const updated = fake.messages.get(prompt.id)!;
    expect(updated.flags).toBe(EPHEMERAL);
    expect(updated.embeds![0]!.title).toBe('Cancelled');
    expect(updated.embeds![0]!.description).toContain('Nothing was changed: `cluster disable api --reason "bad deploy"` was not run.');
    expect(updated.components).toEqual([]);
    expect(fake.messagesFor(click.token)).toEqual([]); // nothing posted in the channel

    // The confirmation is answered: a late Confirm (say, from a second tab) is refused and runs nothing.
    const late = buttonClick(confirm!.custom_id, { id: prompt.id, flags: EPHEMERAL }, { userId: OPERATOR });
    fake.dispatchInteraction(late);
    await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === late.id));
    expect(fake.messages.get(prompt.id)!.embeds![0]!.title).toBe('Already answered');
    expect((await app.engine.state()).clusters.api!.enabled).toBe(true);
    const audit = await app.store.searchAudit({ limit: 5 });
    expect(audit.map((a) => [a.rawText, a.outcome])).toEqual(
      expect.arrayContaining([['cancel: cluster disable api --reason "bad deploy"', 'ok']]),
    );
  });

  it('re-authorises a button click as the clicker, not the author', async () => {
    world = await startGatewayWorld();
    const { fake, app } = world;
    const i = slashCommand('cluster', 'disable', [clusterOpt('db'), reasonOpt('maintenance window')], { userId: OPERATOR });
    fake.dispatchInteraction(i);
    await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
    const msg = fake.messagesFor(i.token)[0]!;
    // Pretend the confirmation were visible to someone without a role.
    const click = buttonClick(msg.components![0]!.components[0]!.custom_id, { id: msg.id, flags: 0 }, { userId: NOBODY });
    fake.dispatchInteraction(click);
    const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === click.id));
    expect(cb.body.type).toBe(4); // a private answer, the shared message untouched
    expect(cb.body.data!.flags).toBe(EPHEMERAL);
    expect((cb.body.data!.embeds as FakeMessage['embeds'])![0]!.title).toBe('Not allowed');
    expect((await app.engine.state()).clusters.db!.enabled).toBe(true);
  });

  it('autocompletes cluster names from the current control state', async () => {
    world = await startGatewayWorld();
    const { fake } = world;
    const i = autocomplete('cluster', 'disable', [{ name: 'cluster', type: 3, value: 'w', focused: true }], { userId: OPERATOR });
    fake.dispatchInteraction(i);
    const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
    expect(cb.body).toEqual({ type: 8, data: { choices: [{ name: 'web', value: 'web' }] } });
  });

  it('suggests no cluster names to a member with no role, and all of them once they hold one anywhere', async () => {
    world = await startGatewayWorld();
    const { fake, app } = world;
    const ask = async (who: { userId: string; roles?: string[] }) => {
      const i = autocomplete('cluster', 'disable', [{ name: 'cluster', type: 3, value: '', focused: true }], who);
      fake.dispatchInteraction(i);
      return (await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id))).body;
    };
    const names = (body: { data?: Record<string, unknown> }) => (body.data!.choices as { value: string }[]).map((c) => c.value);

    expect(await ask({ userId: NOBODY })).toEqual({ type: 8, data: { choices: [] } });
    expect(names(await ask({ userId: NOBODY, roles: [ONCALL_ROLE] }))).toEqual([]);

    await app.run(`role grant discord-role:${ONCALL_ROLE} viewer --cluster db`);
    expect(names(await ask({ userId: NOBODY, roles: [ONCALL_ROLE] }))).toEqual(['api', 'db', 'web']);
    expect(names(await ask({ userId: NOBODY }))).toEqual([]);
    expect(names(await ask({ userId: OPERATOR }))).toEqual(['api', 'db', 'web']);
  });

  it('offers "global" for the history scope', async () => {
    world = await startGatewayWorld();
    const { fake } = world;
    const ask = async (value: string, userId = OPERATOR) => {
      const i = autocomplete('history', undefined, [{ name: 'scope', type: 3, value, focused: true }], { userId });
      fake.dispatchInteraction(i);
      const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
      return (cb.body.data!.choices as { value: string }[]).map((c) => c.value);
    };
    expect(await ask('')).toEqual(['api', 'db', 'global', 'web']);
    expect(await ask('gl')).toEqual(['global']);
    expect(await ask('', NOBODY)).toEqual([]);
  });
});

const alert: Reply = {
  title: '🚨 api error rate above 5%',
  text: 'p99 latency 2.3 s over the last 5 minutes.',
  severity: 'critical',
  visibility: 'channel',
  outcome: 'ok',
  traceId: 'alerttrace',
  time: '2026-11-21T03:00:00.000Z',
};

describe('DiscordSink', () => {
  it('posts a message, edits it and opens a thread under it', async () => {
    world = await startGatewayWorld();
    const { fake, adapter } = world;
    const sink = adapter.sink!;
    const posted = await sink.post(CHANNEL_ID, alert);
    const msg = fake.messages.get(posted.messageId)!;
    expect(msg.channel_id).toBe(CHANNEL_ID);
    expect(msg.embeds![0]).toMatchObject({ title: alert.title, color: 0xed4245 });

    await sink.update(posted, { ...alert, title: '✅ api recovered', severity: 'success' });
    expect(fake.messages.get(posted.messageId)!.embeds![0]).toMatchObject({ title: '✅ api recovered', color: 0x57f287 });

    const threadId = await sink.openThread!(posted, 'Incident: api error rate');
    expect(fake.threads).toEqual([{ id: threadId, parentId: CHANNEL_ID, messageId: posted.messageId, name: 'Incident: api error rate', autoArchive: 1440 }]);
    const inThread = await sink.post(CHANNEL_ID, { ...alert, title: 'Update' }, { threadId });
    expect(fake.messages.get(inThread.messageId)!.channel_id).toBe(threadId);
    expect(inThread.threadId).toBe(threadId);
  });

  it('surfaces a 429 burst as ChatRateLimitedError with the retry delay, and succeeds once retried after it', async () => {
    world = await startGatewayWorld();
    const { fake, adapter } = world;
    fake.rateLimit((m, p) => m === 'POST' && p === `/channels/${CHANNEL_ID}/messages`, 2, 0.3);
    const errors: ChatRateLimitedError[] = [];
    let posted;
    for (let attempt = 0; attempt < 5 && !posted; attempt++) {
      try {
        posted = await adapter.sink!.post(CHANNEL_ID, alert);
      } catch (err) {
        expect(err).toBeInstanceOf(ChatRateLimitedError);
        errors.push(err as ChatRateLimitedError);
        await new Promise((r) => setTimeout(r, (err as ChatRateLimitedError).retryAfterMs));
      }
    }
    expect(posted).toBeDefined();
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e.retryAfterMs).toBeGreaterThanOrEqual(300);
    expect(fake.requests.filter((r) => r.status === 429)).toHaveLength(2);
    expect([...fake.messages.values()].filter((m) => m.embeds?.[0]?.title === alert.title)).toHaveLength(1);
  });

  it('still delivers an interaction reply when Discord answers the callback with 429 (the REST client waits)', async () => {
    world = await startGatewayWorld();
    const { fake } = world;
    fake.rateLimit((m, p) => m === 'POST' && p.startsWith('/interactions/'), 1, 0.2);
    const i = slashCommand('whoami', undefined, [], { userId: NOBODY });
    fake.dispatchInteraction(i);
    const cb = await fake.waitFor(() => fake.callbacks.find((c) => c.interactionId === i.id));
    expect(cb.body.type).toBe(4);
    expect(fake.requests.filter((r) => r.path.startsWith(`/interactions/${i.id}/`)).map((r) => r.status)).toEqual([429, 200]);
  });
});

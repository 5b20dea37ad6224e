import { afterEach, describe, expect, it } from 'vitest';
import { startDiscordAdapter, type DiscordAdapter } from '../../src/chat/discord/discord-adapter.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { startFakeDiscord, type FakeDiscord, type FakeMessage } from './fake-discord.js';
import { buttonClick, slashCommand } from './interactions.js';
import { OPERATOR } from './setup.js';
import { makeSigningKey, signedHeaders } from './signing.js';

let fake: FakeDiscord | undefined;
let app: TestApp | undefined;
let adapter: DiscordAdapter | undefined;
afterEach(async () => {
  await adapter?.stop();
  await fake?.close();
  await app?.cleanup();
  adapter = undefined;
  fake = undefined;
  app = undefined;
});

const key = makeSigningKey();

async function start(opts: { deferAfterMs?: number } = {}) {
  fake = await startFakeDiscord();
  app = await createTestApp();
  await app.run(`role grant discord:${OPERATOR} operator`);
  adapter = await startDiscordAdapter({
    app,
    env: { DISCORD_PUBLIC_KEY: key.publicHex, DISCORD_INTERACTIONS_PORT: '0', DISCORD_INTERACTIONS_HOST: '127.0.0.1', DISCORD_API_URL: fake.apiUrl },
    log: app.log,
    ...opts,
  });
  expect(adapter.mode).toBe('http');
  return adapter.url!;
}

const post = (url: string, body: string, headers: Record<string, string>) => fetch(url, { method: 'POST', body, headers });

describe('Discord HTTP interactions endpoint', () => {
  it('answers a signed PING with PONG', async () => {
    const url = await start();
    const body = JSON.stringify({ id: '1', application_id: '2', type: 1, token: 't', version: 1 });
    const res = await post(url, body, signedHeaders(key.privateKey, body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 1 });
  });

  it('runs a signed command and replies inline', async () => {
    const url = await start();
    const body = JSON.stringify(slashCommand('cluster', 'list', [], { userId: OPERATOR }));
    const res = await post(url, body, signedHeaders(key.privateKey, body));
    expect(res.status).toBe(200);
    const reply = (await res.json()) as { type: number; data: { flags: number; embeds: NonNullable<FakeMessage['embeds']> } };
    expect(reply.type).toBe(4);
    expect(reply.data.embeds[0]!.title).toBe('3 clusters');
    expect(reply.data.flags).toBe(64);
    const [audit] = await app!.store.searchAudit({ limit: 1 });
    expect(audit).toMatchObject({ platform: 'discord', rawText: 'cluster list' });
  });

  it('defers a slow command inline and edits @original through the REST API', async () => {
    const url = await start({ deferAfterMs: 0 });
    const interaction = slashCommand('ratelimit', 'set', [{ name: 'cluster', type: 3, value: 'db' }, { name: 'per-day', type: 4, value: 20_000 }], { userId: OPERATOR });
    fake!.rememberInteraction(interaction);
    const body = JSON.stringify(interaction);
    const res = await post(url, body, signedHeaders(key.privateKey, body));
    expect(await res.json()).toEqual({ type: 5 });
    const edit = await fake!.waitFor(() => fake!.requests.find((r) => r.method === 'PATCH' && r.path.endsWith(`${interaction.token}/messages/@original`)));
    expect((edit.body as { embeds: { title: string }[] }).embeds[0]!.title).toMatch(/db/);
  });

  it('posts a confirmed result in the channel and resolves the private prompt inline', async () => {
    const url = await start();
    const command = slashCommand('cluster', 'disable', [{ name: 'cluster', type: 3, value: 'api' }, { name: 'reason', type: 3, value: 'bad deploy' }], { userId: OPERATOR });
    const commandBody = JSON.stringify(command);
    const prompt = (await (await post(url, commandBody, signedHeaders(key.privateKey, commandBody))).json()) as {
      data: { flags: number; components: { components: { custom_id: string }[] }[] };
    };
    expect(prompt.data.flags).toBe(64);
    const confirmId = prompt.data.components[0]!.components[0]!.custom_id;

    const click = buttonClick(confirmId, { id: '1300000000000000001', flags: 64 }, { userId: OPERATOR });
    fake!.rememberInteraction(click);
    const clickBody = JSON.stringify(click);
    const res = await post(url, clickBody, signedHeaders(key.privateKey, clickBody));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      type: 7,
      data: { content: '✅ Confirmed — posted in the channel.', embeds: [], components: [], allowed_mentions: { parse: [] } },
    });
    const result = await fake!.waitFor(() => fake!.messagesFor(click.token)[0]);
    expect(result.flags).toBe(0);
    expect(result.embeds![0]!.title).toBe('🔴 Cluster api disabled');
    expect((await app!.engine.state()).clusters.api!.enabled).toBe(false);
  });

  it('refuses a forged signature with 401', async () => {
    const url = await start();
    const other = makeSigningKey();
    const body = JSON.stringify(slashCommand('cluster', 'list', [], { userId: OPERATOR }));
    const res = await post(url, body, signedHeaders(other.privateKey, body));
    expect(res.status).toBe(401);
    expect(await app!.store.searchAudit({ limit: 10 })).toHaveLength(1); // only the setup grant
  });

  it('refuses missing signature headers with 401', async () => {
    const url = await start();
    const res = await post(url, '{"type":1}', { 'content-type': 'application/json' });
    expect(res.status).toBe(401);
  });

  it('refuses an altered body with 401', async () => {
    const url = await start();
    const signedBody = JSON.stringify(slashCommand('cluster', 'list', [], { userId: OPERATOR }));
    const headers = signedHeaders(key.privateKey, signedBody);
    const altered = signedBody.replace('"list"', '"disable"');
    const res = await post(url, altered, headers);
    expect(res.status).toBe(401);
  });

  it('refuses a replayed request and a stale timestamp with 401', async () => {
    const url = await start();
    const body = JSON.stringify(slashCommand('cluster', 'list', [], { userId: OPERATOR }));
    const headers = signedHeaders(key.privateKey, body);
    expect((await post(url, body, headers)).status).toBe(200);
    expect((await post(url, body, headers)).status).toBe(401);

    const old = String(Math.floor(Date.now() / 1000) - 3600);
    const oldBody = JSON.stringify(slashCommand('cluster', 'list', [], { userId: OPERATOR }));
    expect((await post(url, oldBody, signedHeaders(key.privateKey, oldBody, old))).status).toBe(401);
  });

  it('answers only POST on its path', async () => {
    const url = await start();
    expect((await fetch(url)).status).toBe(405);
    expect((await fetch(url.replace('/discord/interactions', '/other'), { method: 'POST' })).status).toBe(404);
  });
});

import { startDiscordAdapter, type DiscordAdapter } from '../../src/chat/discord/discord-adapter.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { BOT_TOKEN, startFakeDiscord, type FakeDiscord } from './fake-discord.js';

export const OPERATOR = '2200000000000000001';
export const NOBODY = '2200000000000000009';
export const ONCALL_ROLE = '4400000000000000001';

export interface GatewayWorld {
  fake: FakeDiscord;
  app: TestApp;
  adapter: DiscordAdapter;
  close(): Promise<void>;
}

/** A real app (SQLite in a temp dir), the fake Discord, and the adapter connected to it over the gateway. */
export async function startGatewayWorld(opts: { deferAfterMs?: number } = {}): Promise<GatewayWorld> {
  const fake = await startFakeDiscord({ heartbeatIntervalMs: 200 });
  const app = await createTestApp();
  await app.run(`role grant discord:${OPERATOR} operator`);
  const adapter = await startDiscordAdapter({
    app,
    env: { DISCORD_TOKEN: BOT_TOKEN, DISCORD_API_URL: fake.apiUrl },
    log: app.log,
    ...(opts.deferAfterMs !== undefined ? { deferAfterMs: opts.deferAfterMs } : {}),
  });
  return {
    fake,
    app,
    adapter,
    close: async () => {
      await adapter.stop();
      await fake.close();
      await app.cleanup();
    },
  };
}

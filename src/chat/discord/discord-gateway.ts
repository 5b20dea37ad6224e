import { API, GatewayDispatchEvents, Routes, type APIInteraction } from '@discordjs/core/http-only';
import { Client, GatewayIntentBits } from 'discord.js';
import type { Logger } from 'pino';
import { DEFAULT_DISCORD_API } from './create-discord-rest.js';
import type { InteractionHandler } from './handle-discord-interaction.js';
import { safeError } from './safe-error.js';

export interface DiscordGateway {
  client: Client;
  /** REST API over the client's own REST manager, for follow-ups and edits. */
  api: API;
  stop(): Promise<void>;
}

/**
 * Connects a discord.js Client to the gateway and feeds raw INTERACTION_CREATE payloads to the shared handler,
 * so gateway and HTTP interactions take the same path. Slash commands need no privileged intents.
 */
export async function startDiscordGateway(opts: {
  token: string;
  apiUrl?: string | undefined;
  log: Logger;
  handler: (api: API) => InteractionHandler;
}): Promise<DiscordGateway> {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: opts.apiUrl ?? DEFAULT_DISCORD_API } });
  const api = new API(client.rest);
  const handle = opts.handler(api);
  client.ws.on(GatewayDispatchEvents.InteractionCreate, (interaction: APIInteraction) => {
    void handle(interaction, {
      respond: async (body, files) => {
        await api.rest.post(Routes.interactionCallback(interaction.id, interaction.token), { body, files, auth: false });
      },
    });
  });
  client.on('error', (err) => opts.log.error({ error: safeError(err) }, 'discord client error'));
  client.on('shardDisconnect', (event, shard) => opts.log.warn({ code: event.code, shard }, 'discord gateway disconnected'));
  const ready = new Promise<void>((resolve) => client.once('clientReady', () => resolve()));
  try {
    await client.login(opts.token);
    await ready;
  } catch (err) {
    await client.destroy();
    throw new Error(`could not connect to the Discord gateway: ${(err as Error).message}`);
  }
  opts.log.info({ bot: client.user?.tag, application: client.application?.id }, 'discord gateway connected');
  return { client, api, stop: () => client.destroy() };
}

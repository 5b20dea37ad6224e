import { API } from '@discordjs/core/http-only';
import type { Logger } from 'pino';
import type { App } from '../../app.js';
import type { AdapterFactory, ChatAdapter } from '../chat-adapter.js';
import type { ChatSink } from '../chat-sink.js';
import { createDiscordRest } from './create-discord-rest.js';
import { discordConfigured, discordMode, parseDiscordEnv } from './discord-env.js';
import { startDiscordGateway } from './discord-gateway.js';
import { startDiscordHttpEndpoint } from './discord-http-endpoint.js';
import { createDiscordSink } from './discord-sink.js';
import { createInteractionHandler } from './handle-discord-interaction.js';
import { createSignatureVerifier } from './verify-discord-signature.js';

export interface DiscordAdapter extends ChatAdapter {
  mode: 'http' | 'gateway';
  /** The interactions endpoint URL in HTTP mode (useful with port 0). */
  url?: string;
}

export interface DiscordAdapterDeps {
  app: App;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** See InteractionHandlerDeps.deferAfterMs. */
  deferAfterMs?: number;
}

/**
 * Starts Discord in the mode the environment selects: the HTTP interactions endpoint when a public key and
 * port are set, else the gateway. A bot token, when present, also gives a ChatSink for alerts.
 */
export async function startDiscordAdapter(deps: DiscordAdapterDeps): Promise<DiscordAdapter> {
  const env = parseDiscordEnv(deps.env);
  const { app, log } = deps;
  const mode = discordMode(env);
  const apiUrl = env.DISCORD_API_URL;
  const token = env.DISCORD_TOKEN;
  const handler = (api: API) =>
    createInteractionHandler({
      pipeline: app.pipeline,
      api,
      log,
      ...(deps.deferAfterMs !== undefined ? { deferAfterMs: deps.deferAfterMs } : {}),
    });
  // The sink has its own REST client: it must throw on 429, while interaction replies may wait their turn.
  const sink: ChatSink | undefined = token ? createDiscordSink(new API(createDiscordRest({ apiUrl, token, rejectOnRateLimit: true }))) : undefined;

  if (mode === 'http') {
    const api = new API(createDiscordRest({ apiUrl, token }));
    const endpoint = await startDiscordHttpEndpoint({
      port: env.DISCORD_INTERACTIONS_PORT!,
      host: env.DISCORD_INTERACTIONS_HOST,
      verifier: createSignatureVerifier(env.DISCORD_PUBLIC_KEY!),
      handler: handler(api),
      api,
      log,
    });
    log.info({ mode, url: endpoint.url, sink: Boolean(sink) }, 'discord interactions endpoint listening');
    return { name: 'discord', mode, url: endpoint.url, ...(sink ? { sink } : {}), stop: () => endpoint.close() };
  }

  if (!token) throw new Error('DISCORD_TOKEN is needed for the gateway (or set DISCORD_PUBLIC_KEY and DISCORD_INTERACTIONS_PORT)');
  const gateway = await startDiscordGateway({ token, apiUrl, log, handler });
  return { name: 'discord', mode, ...(sink ? { sink } : {}), stop: () => gateway.stop() };
}

export const discordAdapterFactory: AdapterFactory = {
  name: 'discord',
  configured: discordConfigured,
  start: (deps) => startDiscordAdapter(deps),
};

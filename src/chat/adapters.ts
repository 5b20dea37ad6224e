import type { AdapterFactory } from './chat-adapter.js';
import { discordConfigured } from './discord/discord-env.js';
import { slackConfigured } from './slack/slack-settings.js';

/**
 * Chat adapters `infrabot start` knows; each runs when its credentials are set in the environment. Their
 * platform stacks (Bolt, discord.js: over a second to load) are imported only when one starts, so
 * `infrabot run` and the console never pay for them.
 */
export const ADAPTER_FACTORIES: readonly AdapterFactory[] = [
  { name: 'slack', configured: slackConfigured, start: async (deps) => (await import('./slack/slack-adapter.js')).slackAdapterFactory.start(deps) },
  { name: 'discord', configured: discordConfigured, start: async (deps) => (await import('./discord/discord-adapter.js')).discordAdapterFactory.start(deps) },
];

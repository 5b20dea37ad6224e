import type { AdapterFactory } from './chat-adapter.js';
import { discordAdapterFactory } from './discord/discord-adapter.js';
import { slackAdapterFactory } from './slack/slack-adapter.js';

/** Chat adapters `infrabot start` knows; each runs when its credentials are set in the environment. */
export const ADAPTER_FACTORIES: readonly AdapterFactory[] = [
  slackAdapterFactory,
  discordAdapterFactory,
];

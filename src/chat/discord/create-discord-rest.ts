import { REST, type RESTOptions } from '@discordjs/rest';

export const DEFAULT_DISCORD_API = 'https://discord.com/api';

/**
 * A REST client for Discord. `rejectOnRateLimit` makes a 429 (or a bucket known to be empty) throw a
 * RateLimitError instead of sleeping inside the client: the chat sink's callers (the durable outbox)
 * own retries and must not be blocked.
 */
export function createDiscordRest(opts: { apiUrl?: string | undefined; token?: string | undefined; rejectOnRateLimit?: boolean }): REST {
  const options: Partial<RESTOptions> = {
    api: opts.apiUrl ?? DEFAULT_DISCORD_API,
    ...(opts.rejectOnRateLimit ? { rejectOnRateLimit: () => true, offset: 0 } : {}),
  };
  const rest = new REST(options);
  if (opts.token) rest.setToken(opts.token);
  return rest;
}

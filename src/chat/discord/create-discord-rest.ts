import { REST, type RESTOptions } from '@discordjs/rest';

export const DEFAULT_DISCORD_API = 'https://discord.com/api';
/** Each request to Discord is aborted after this long (ms); the outbox's own deadline is longer. */
const SINK_REQUEST_TIMEOUT_MS = 15_000;

/**
 * A REST client for Discord. `rejectOnRateLimit` (the chat sink's client) makes a 429 (or a bucket known to be
 * empty) throw a RateLimitError instead of sleeping inside the client, and turns off the client's own retries:
 * the sink's caller (the durable outbox) owns retries and must not be blocked.
 */
export function createDiscordRest(opts: { apiUrl?: string | undefined; token?: string | undefined; rejectOnRateLimit?: boolean }): REST {
  const options: Partial<RESTOptions> = {
    api: opts.apiUrl ?? DEFAULT_DISCORD_API,
    ...(opts.rejectOnRateLimit ? { rejectOnRateLimit: () => true, offset: 0, retries: 0, timeout: SINK_REQUEST_TIMEOUT_MS } : {}),
  };
  const rest = new REST(options);
  if (opts.token) rest.setToken(opts.token);
  return rest;
}

import { controlKeys, publishedVersion, publishSnapshot, readGuards, readTraffic } from '@infrabot/guard';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ControlPublisher } from '../engine/control-publisher.js';

/** Every call gives up after this long, so a hung Redis never holds a command or `status`. */
const COMMAND_TIMEOUT_MS = 1_000;

/** The Redis side of the control channel: snapshot + pub/sub announcements, guards' traffic, claims. */
export function createRedisControlLink(opts: { url: string; prefix: string; log: Logger }): ControlPublisher {
  const keys = controlKeys(opts.prefix);
  // Commands wait for a (re)connection for at most COMMAND_TIMEOUT_MS, so the first publication after start
  // does not fail just because the connection was still being set up.
  const redis = new Redis(opts.url, { maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS, connectTimeout: 2_000 });
  let lastError = '';
  redis.on('error', (err: Error) => {
    // Logged once per distinct problem: a down Redis would otherwise log on every retry.
    if (err.message !== lastError) opts.log.warn({ err: err.message }, 'redis control channel unavailable');
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) opts.log.info('redis control channel connected again');
    lastError = '';
  });
  const url = new URL(opts.url);
  return {
    target: `${url.protocol}//${url.hostname}:${url.port || 6379}${url.pathname.length > 1 ? url.pathname : ''}`,
    publish: (snapshot, prev) => publishSnapshot(redis, keys, snapshot, prev),
    publishedVersion: () => publishedVersion(redis, keys),
    traffic: (clusters, seconds) => readTraffic(redis, keys, clusters, seconds),
    guards: (clusters) => readGuards(redis, keys, clusters),
    claim: async (name, ttlMs) => (await redis.set(keys.autoTripLock(name), '1', 'PX', ttlMs, 'NX')) === 'OK',
    async close() {
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}

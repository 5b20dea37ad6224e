import { controlKeys, publishedVersion, publishSnapshot, readGuards, readTraffic } from '@infrabot/guard';
import { createRedisConnection, describeRedisUrl } from './redis-connection.js';
import type { Logger } from 'pino';
import type { ControlPublisher } from '../engine/control-publisher.js';

/** The Redis side of the control channel: snapshot + pub/sub announcements, guards' traffic, claims. */
export function createRedisControlLink(opts: { url: string; prefix: string; log: Logger }): ControlPublisher {
  const keys = controlKeys(opts.prefix);
  // Every call gives up after a second, so a hung Redis never holds a command or `status`.
  const redis = createRedisConnection(opts.url, 'command');
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
  return {
    target: describeRedisUrl(opts.url),
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

import { Redis, type RedisOptions } from 'ioredis';

/**
 * The one place Redis connections are made (one REDIS_URL). `command`: short calls that give up fast (control
 * channel, locks); `queue`: BullMQ producers fail fast while Redis is away (`enableOfflineQueue: false`);
 * `worker`: BullMQ workers and event listeners block and retry forever (`maxRetriesPerRequest: null`).
 */
export function createRedisConnection(url: string, purpose: 'command' | 'queue' | 'worker'): Redis {
  const opts: RedisOptions =
    purpose === 'command'
      ? { maxRetriesPerRequest: 1, commandTimeout: 1_000, connectTimeout: 2_000 }
      : purpose === 'queue'
        ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 }
        : { maxRetriesPerRequest: null, connectTimeout: 2_000 };
  return new Redis(url, opts);
}

/** `redis://host:port/db` without credentials, for status lines and logs. */
export function describeRedisUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || 6379}${u.pathname.length > 1 ? u.pathname : ''}`;
}

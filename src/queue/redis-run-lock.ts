import type { Redis } from 'ioredis';
import type { RunLock } from '../engine/runbooks/run-lock.js';

// Compare-and-act scripts: only the run holding the lock extends or releases it.
const REFRESH = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** The per service+environment lock in Redis (SET NX PX), shared by every replica and worker. */
export function redisRunLock(redis: Redis, prefix: string): RunLock {
  const k = (key: string) => `${prefix}:runbook-lock:${key}`;
  return {
    async acquire(key, runId, ttlMs) {
      for (let i = 0; i < 3; i++) {
        if ((await redis.set(k(key), runId, 'PX', ttlMs, 'NX')) === 'OK') return { ok: true };
        const holder = await redis.get(k(key));
        if (holder === runId) return { ok: true };
        if (holder) return { ok: false, holder };
      }
      throw new Error('runbook lock kept changing hands');
    },
    refresh: async (key, runId, ttlMs) => Number(await redis.eval(REFRESH, 1, k(key), runId, String(ttlMs))) === 1,
    release: async (key, runId) => {
      await redis.eval(RELEASE, 1, k(key), runId);
    },
  };
}

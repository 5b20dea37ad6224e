import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { DenyReason } from './decision.js';
import type { ControlKeys } from './keys.js';

/** How long per-second traffic buckets are kept in Redis. */
const TRAFFIC_TTL_SECONDS = 600;
/** The guards hash of a cluster goes away this long after its last guard stopped reporting. */
const GUARD_TTL_MS = 600_000;

type Bucket = Map<string, number>;

/**
 * Aggregates a guard's outcomes per second in memory and adds them to Redis once a second (one pipelined
 * HINCRBY per field), so `/infra status` sees live traffic per cluster without a write per request.
 */
export function createOutcomeReporter(opts: {
  redis?: Redis;
  keys: ControlKeys;
  cluster: string;
  service: string;
  intervalMs: number;
  /** This guard's health, written with every flush so `/infra status` can tell current guards from stale ones. */
  health: () => { status: string; version?: number; staleSince?: string };
  now?: () => number;
}) {
  const now = opts.now ?? Date.now;
  const pending = new Map<number, Bucket>();
  const add = (field: string, n = 1) => {
    if (!opts.redis) return; // nowhere to report to: count nothing rather than grow forever
    const second = Math.floor(now() / 1000);
    let b = pending.get(second);
    if (!b) pending.set(second, (b = new Map()));
    b.set(field, (b.get(field) ?? 0) + n);
  };
  const svcField = `svc:${opts.service}`;
  const instance = `${opts.service}|${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  async function flush(): Promise<void> {
    if (!opts.redis) return;
    const batch = [...pending];
    pending.clear();
    const p = opts.redis.pipeline();
    const h = opts.health();
    const guardsKey = opts.keys.guards(opts.cluster);
    p.hset(guardsKey, instance, JSON.stringify({ s: h.status, v: h.version ?? -1, t: now(), ...(h.staleSince ? { since: h.staleSince } : {}) }));
    p.pexpire(guardsKey, GUARD_TTL_MS);
    for (const [second, bucket] of batch) {
      const key = opts.keys.traffic(opts.cluster, second);
      for (const [field, n] of bucket) p.hincrby(key, field, n);
      p.expire(key, TRAFFIC_TTL_SECONDS);
    }
    try {
      await p.exec();
    } catch {
      // Redis is down: these seconds are lost (live traffic is a gauge, not a record). Nothing to retry.
    }
  }
  const timer = opts.redis ? setInterval(() => void flush(), opts.intervalMs) : undefined;
  timer?.unref();

  return {
    checked(result: 'allow' | DenyReason, stale: boolean) {
      add('req');
      add(svcField);
      add(result === 'allow' ? 'allow' : `deny:${result}`);
      if (stale) add('stale');
    },
    finished(error: boolean, latencyMs: number) {
      add('done');
      if (error) add('err');
      add('lat_us', Math.round(latencyMs * 1000));
    },
    /** Many finished requests at once (services reporting over HTTP). */
    finishedMany(finished: number, errors: number, latencyMsTotal: number) {
      add('done', finished);
      if (errors > 0) add('err', errors);
      add('lat_us', Math.round(latencyMsTotal * 1000));
    },
    flush,
    async close() {
      if (timer) clearInterval(timer);
      await flush();
      // Gone, not stale: a stopped guard should not show up as one that fell behind.
      await opts.redis?.hdel(opts.keys.guards(opts.cluster), instance).catch(() => undefined);
    },
  };
}

export type OutcomeReporter = ReturnType<typeof createOutcomeReporter>;

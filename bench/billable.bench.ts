/**
 * Two-phase billable actions: reserve + confirm pairs per second and their p99 on Redis (the guard's Lua
 * scripts: idempotency, digest, budget hold, charge stream), against a peer measured in the same run: the
 * usual store-backed design on PostgreSQL (an idempotency-key table and a budget row, one transaction per
 * phase, `INSERT … ON CONFLICT` and a conditional UPDATE so the budget is never overspent). Same semantics,
 * same concurrency, every pair against one cluster budget. Needs Redis (REDIS_URL) and, for the peer,
 * PostgreSQL (TEST_DATABASE_URL).
 */
import { createGuard, type Reservation } from '@infrabot/guard';
import { Redis } from 'ioredis';
import pg from 'pg';
import { redisPrefix } from '../test/helpers/redis.js';
import { line, summarize } from './stats.js';
import { shortId } from '../src/util/ids.js';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONCURRENCY = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

async function load(pair: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let n = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < until) {
      const t = performance.now();
      await pair(n++);
      latencies.push(performance.now() - t);
    }
  }));
  return { perSecond: latencies.length / SECONDS, ...summarize(latencies) };
}

async function ours(round: string) {
  const keys = redisPrefix(REDIS);
  const redis = new Redis(REDIS);
  const snap = {
    version: 1, at: new Date().toISOString(), killSwitch: { on: false },
    clusters: { api: { enabled: true, rateLimits: { perMinute: 0, perHour: 0, perDay: 0 }, breaker: { state: 'closed' as const, cooldownMs: 1000, trickle: 0.1 }, failMode: 'open' as const, billing: { currency: 'USD', daily: 1e9, monthly: 1e9 } } },
  };
  const guard = await createGuard({ redis, prefix: keys.prefix, cluster: 'api', service: 'bench', source: { feed: { current: () => snap, subscribe: () => () => undefined } } });
  try {
    return await load(async (i) => {
      const r = await guard.reserve({ idempotencyKey: `${round}-${i}`, action: 'mint', amount: 0.01, request: { i } });
      if (r.status !== 'reserved') throw new Error(`reserve: ${JSON.stringify(r)}`);
      if ((await guard.confirm(r as Reservation, { ok: i })) !== 'confirmed') throw new Error('confirm failed');
    });
  } finally {
    await guard.close();
    redis.disconnect();
    await keys.cleanup();
  }
}

async function peer(round: string) {
  const schema = `bench_${shortId(8).toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
  const pool = new pg.Pool({ connectionString: PG, max: CONCURRENCY, options: `-c search_path=${schema}` });
  await pool.query(`CREATE SCHEMA ${schema}`);
  try {
    await pool.query(`CREATE TABLE ${schema}.idem (key TEXT PRIMARY KEY, state TEXT NOT NULL, amount BIGINT NOT NULL, digest TEXT NOT NULL, response TEXT, expires_at TIMESTAMPTZ NOT NULL)`);
    await pool.query(`CREATE TABLE ${schema}.budget (id INT PRIMARY KEY, lim BIGINT NOT NULL, held BIGINT NOT NULL, spent BIGINT NOT NULL)`);
    await pool.query(`INSERT INTO ${schema}.budget VALUES (1, 1000000000000000, 0, 0)`);
    const tx = async <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const r = await fn(c);
        await c.query('COMMIT');
        return r;
      } catch (err) {
        await c.query('ROLLBACK');
        throw err;
      } finally {
        c.release();
      }
    };
    return await load(async (i) => {
      const key = `${round}-${i}`;
      await tx(async (c) => {
        const ins = await c.query(`INSERT INTO idem VALUES ($1, 'reserved', 10000, $2, NULL, now() + interval '5 minutes') ON CONFLICT (key) DO NOTHING`, [key, `d${i}`]);
        if (ins.rowCount !== 1) throw new Error('replay');
        const b = await c.query('UPDATE budget SET held = held + 10000 WHERE id = 1 AND held + spent + 10000 <= lim', []);
        if (b.rowCount !== 1) throw new Error('budget');
      });
      await tx(async (c) => {
        const u = await c.query(`UPDATE idem SET state = 'confirmed', response = $2 WHERE key = $1 AND state = 'reserved' AND expires_at > now()`, [key, JSON.stringify({ ok: i })]);
        if (u.rowCount !== 1) throw new Error('confirm');
        await c.query('UPDATE budget SET held = held - 10000, spent = spent + 10000 WHERE id = 1');
      });
    });
  } finally {
    await pool.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

const probe = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
probe.on('error', () => undefined);
const redisUp = await probe.connect().then(() => true, () => false);
probe.disconnect();
if (!redisUp) {
  console.log(`Redis not reachable at ${REDIS}: billable figures skipped (start redis-server).`);
} else {
  const pgUp = await new pg.Client({ connectionString: PG, connectionTimeoutMillis: 1500 }).connect().then((c) => c.end().then(() => true), () => false);
  // Warm both, then measure; alternating so neither gets the quieter machine.
  await ours('warm');
  if (pgUp) await peer('warm');
  const a = await ours('run');
  const b = pgUp ? await peer('run') : undefined;
  line('billable reserve + confirm pairs (Redis Lua)', `${Math.round(a.perSecond).toLocaleString('en-US')} pairs/s`, b ? '≥ 2× peer' : undefined, b ? a.perSecond >= 2 * b.perSecond : undefined);
  line('  pair p50 / p99', `${a.p50.toFixed(2)} / ${a.p99.toFixed(2)} ms`);
  if (b) {
    line('  PostgreSQL idempotency table + budget row (peer)', `${Math.round(b.perSecond).toLocaleString('en-US')} pairs/s`);
    line('  peer p50 / p99', `${b.p50.toFixed(2)} / ${b.p99.toFixed(2)} ms`);
    line('  ours / peer', `${(a.perSecond / b.perSecond).toFixed(2)}×`);
  } else console.log(`PostgreSQL not reachable at ${PG}: the peer was not measured.`);
}

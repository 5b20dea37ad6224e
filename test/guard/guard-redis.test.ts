import { controlKeys, createGuard, publishSnapshot, type ControlSnapshot, type Guard } from '@infrabot/guard';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { guardRoutes } from '../../src/http/guard-routes.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { canRunRedisServer, eventually, privateRedis, REDIS_URL, redisPrefix, redisReachable } from '../helpers/redis.js';

const up = await redisReachable('guard tests against Redis (test/guard/guard-redis.test.ts)');

const config = (url: string, prefix: string, more = '') => `
clusters:
  api:
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
    breaker: { cooldown: 1s, trickle: 0.25 }
  web:
    rateLimits: { perMinute: 1200, perHour: 50000, perDay: 800000 }
    failMode: closed
  db:
    rateLimits: { perMinute: 100, perHour: 1000, perDay: 10000 }
    breaker: { cooldown: 1m, autoTrip: { errorRate: 0.5, minRequests: 10, window: 3s } }
  cache:
    rateLimits: { perMinute: 10000, perHour: 100000, perDay: 1000000 }
    breaker: { cooldown: 1s, trickle: 1, autoTrip: { errorRate: 0.5, minRequests: 4, window: 3s } }
admins: [local:root-admin]
redis: { url: "${url}", prefix: ${prefix} }
${more}`;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function setup(opts: { url?: string; dir?: string } = {}) {
  const url = opts.url ?? REDIS_URL;
  const keys = redisPrefix(url);
  const app = await createTestApp({ config: config(url, keys.prefix), ...(opts.dir ? { dir: opts.dir } : {}) });
  cleanups.push(() => keys.cleanup(), () => app.cleanup());
  const guard = async (cluster = 'api', service = 'checkout', more: Partial<Parameters<typeof createGuard>[0]> = {}) => {
    const g = await createGuard({ redis: url, prefix: keys.prefix, cluster, service, reportIntervalMs: 50, ...more });
    cleanups.push(() => g.close());
    return g;
  };
  const seen = (g: Guard, version: () => number | Promise<number>) =>
    eventually(async () => (g.snapshot()?.version ?? -1) >= (await version()), 5_000, 'the guard to see the change');
  const stateSeq = async () => (await app.engine.state()).seq;
  return { app, keys, url, guard, seen, stateSeq, redis: () => { const r = new Redis(url); cleanups.push(async () => r.disconnect()); return r; } };
}

const yes = async (app: TestApp, text: string) => {
  const reply = await app.run(text, { confirmed: true });
  expect(reply.outcome, reply.text).toBe('ok');
  return reply;
};

describe.skipIf(!up)('guard with Redis', () => {
  it('obeys chat commands within milliseconds: each deny reason, then allows again', async () => {
    const s = await setup();
    const g = await s.guard();
    expect(await g.check()).toMatchObject({ allowed: true });

    await yes(s.app, 'killswitch on --reason "stop everything"');
    await s.seen(g, () => 1);
    expect(await g.check()).toMatchObject({ allowed: false, reason: 'killswitch', status: 503 });
    await yes(s.app, 'killswitch off');
    await yes(s.app, 'cluster disable api --reason "bad deploy"');
    await s.seen(g, () => 3);
    expect(await g.check()).toMatchObject({ allowed: false, reason: 'cluster-disabled', status: 503 });
    await yes(s.app, 'cluster enable api');
    await yes(s.app, 'breaker trip api --reason "upstream timeouts"');
    await s.seen(g, () => 5);
    const open = await g.check();
    expect(open).toMatchObject({ allowed: false, reason: 'breaker-open', status: 503 });
    expect((open as { retryAfterSeconds: number }).retryAfterSeconds).toBe(1);
    await yes(s.app, 'ratelimit set api --per-minute 2');
    await yes(s.app, 'breaker reset api');
    await s.seen(g, () => 7);
    // A tenant of its own, so a minute boundary since the first check of this test cannot change the count.
    expect(await g.check({ key: 'fresh' })).toMatchObject({ allowed: true, remaining: [1, 19_999, 299_999] });
    expect(await g.check({ key: 'fresh' })).toMatchObject({ allowed: true, remaining: [0, 19_998, 299_998] });
    const limited = await g.check({ key: 'fresh' });
    expect(limited).toMatchObject({ allowed: false, reason: 'rate-limited', status: 429 });
    expect((limited as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((limited as { retryAfterSeconds: number }).retryAfterSeconds).toBeLessThanOrEqual(60);
    // Never published: users, grants, audit.
    const doc = await s.redis().hget(controlKeys(s.keys.prefix).snapshot, 'doc');
    expect(doc).not.toMatch(/grants|root-admin|audit|bad deploy|upstream timeouts/);
  });

  it('keeps publishing after reconcile rounds that had nothing to do', async () => {
    const s = await setup();
    const g = await s.guard();
    await s.app.control.reconcile();
    await s.app.control.reconcile();
    await yes(s.app, 'killswitch on --reason "after a quiet reconcile"');
    // Well within the 2 s reconcile interval: published by the commit itself.
    await eventually(() => g.snapshot()?.version === 1, 1_000, 'the change');
  });

  it('a half-open breaker lets the configured trickle through after its cool-down', async () => {
    const s = await setup();
    const g = await s.guard();
    await yes(s.app, 'breaker trip api --reason "flapping"');
    await s.seen(g, () => 1);
    expect(g.checkLocal()).toMatchObject({ allowed: false, reason: 'breaker-open' });
    await new Promise((r) => setTimeout(r, 1_050));
    const results = Array.from({ length: 20 }, () => g.checkLocal().allowed);
    expect(results.filter(Boolean)).toHaveLength(5); // trickle 0.25
  });

  it('decides three windows atomically: under concurrent load a denied request charges no window', async () => {
    const s = await setup();
    await yes(s.app, 'ratelimit set db --per-minute 40 --per-hour 40 --per-day 40');
    const guards = await Promise.all([s.guard('db', 'a'), s.guard('db', 'b'), s.guard('db', 'c')]);
    for (const g of guards) await s.seen(g, async () => s.stateSeq());
    const decisions = await Promise.all(Array.from({ length: 300 }, (_, i) => guards[i % 3]!.check()));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(40);
    expect(decisions.filter((d) => !d.allowed && d.reason === 'rate-limited')).toHaveLength(260);
    const [m, h, d] = controlKeys(s.keys.prefix).rate('db');
    const counts = (await s.redis().mget(m, h, d)).map(Number);
    expect(counts).toEqual([40, 40, 40]);

    // The day window is the one that refuses: the minute and hour windows are not charged either.
    await yes(s.app, 'ratelimit set db --per-minute 1000 --per-hour 1000 --per-day 1000');
    const t = controlKeys(s.keys.prefix).rate('db', 'tenant-x');
    const r = s.redis();
    await r.set(t[2], '1000', 'PX', 60_000); // this tenant's day is used up
    await s.seen(guards[0]!, async () => s.stateSeq());
    const burst = await Promise.all(Array.from({ length: 50 }, () => guards[0]!.check({ key: 'tenant-x' })));
    expect(burst.every((b) => !b.allowed && b.reason === 'rate-limited')).toBe(true);
    expect(await r.get(t[0])).toBeNull();
    expect(await r.get(t[1])).toBeNull();
  });

  it('keeps per-tenant keys apart', async () => {
    const s = await setup();
    await yes(s.app, 'ratelimit set api --per-minute 3');
    const g = await s.guard();
    await s.seen(g, () => 1);
    for (let i = 0; i < 3; i++) expect((await g.check({ key: 'acme' })).allowed).toBe(true);
    expect(await g.check({ key: 'acme' })).toMatchObject({ allowed: false, reason: 'rate-limited' });
    expect((await g.check({ key: 'globex' })).allowed).toBe(true);
    expect((await g.check()).allowed).toBe(true); // cluster-wide bucket is separate from tenants
  });

  it('re-reads the snapshot on a version gap instead of applying a change out of order', async () => {
    const s = await setup();
    const g = await s.guard();
    await s.seen(g, () => 0);
    const held = g.snapshot()!;
    const keys = controlKeys(s.keys.prefix);
    const r = s.redis();
    const next = (v: number, on: boolean): ControlSnapshot => ({ ...held, version: v, killSwitch: { on } });
    // Version 50 lands in Redis but its announcement is lost; 51 is announced as following 50.
    await r.hset(keys.snapshot, 'version', 50, 'doc', JSON.stringify(next(50, true)));
    await publishSnapshot(r, keys, next(51, true), 50);
    await eventually(() => g.snapshot()?.version === 51, 3_000, 'version 51');
    expect(g.health().resyncs).toBeGreaterThanOrEqual(1);
    expect(g.checkLocal()).toMatchObject({ allowed: false, reason: 'killswitch' });
  });

  it('repairs a publication lost in a crash: on start the store state is published again', async () => {
    const s = await setup();
    await yes(s.app, 'killswitch on --reason "before the crash"');
    const r = s.redis();
    const keys = controlKeys(s.keys.prefix);
    await eventually(async () => (await r.hget(keys.snapshot, 'version')) === '1', 3_000, 'first publication');
    // The process died after committing version 2 and before publishing it: Redis still holds version 1.
    await s.app.close();
    const { createApp } = await import('../../src/app.js');
    const { parseConfig } = await import('../../src/config/load-config.js');
    const { createLogger } = await import('../../src/log.js');
    const { createSqlStore } = await import('../../src/store/sql-store.js');
    const { createSqliteDb } = await import('../../src/store/db/sqlite-db.js');
    const store = await createSqlStore({ db: createSqliteDb({ file: s.app.dbFile }) });
    const state = (await store.readState())!;
    const off = await store.commit({
      expectedSeq: state.seq, events: [{ actor: 'local:root-admin', scope: 'global', event: { type: 'killswitch.set', on: false } }],
      state: { ...state, seq: state.seq + 1, killSwitch: { on: false } },
      audit: { at: new Date().toISOString(), platform: 'cli', userId: 'local:root-admin', userName: 'root', rawText: 'killswitch off', outcome: 'ok', traceId: 't', invocationId: 'crash-test' },
    });
    expect(off.ok).toBe(true);
    await store.close();
    expect(await r.hget(keys.snapshot, 'version')).toBe('1');
    const g = await s.guard();
    expect(g.checkLocal()).toMatchObject({ allowed: false, reason: 'killswitch' }); // what Redis still says

    const restarted = await createApp({ config: parseConfig(config(s.url, s.keys.prefix), 't.yaml', {}), dataDir: s.app.dir, keyDir: s.app.keyDir, env: {}, log: createLogger({ level: 'silent' as 'info' }) });
    cleanups.push(() => restarted.close());
    await s.seen(g, () => 2);
    expect(g.checkLocal()).toMatchObject({ allowed: true });
  });

  it('automatic breaker trip from reported errors, audited as system through the pipeline', async () => {
    const s = await setup();
    const g = await s.guard('db', 'orders');
    for (let i = 0; i < 12; i++) {
      await g.check();
      g.report({ error: i % 4 !== 0, latencyMs: 3 }); // 9 of 12 fail
    }
    // The monitor reads whole seconds: wait until this one is over, then let it evaluate.
    await new Promise((r) => setTimeout(r, 1_100));
    await g.close();
    await s.app.traffic.tick();
    const db = s.app.engine.cluster(await s.app.engine.state(), 'db');
    expect(db.breakerView).toBe('open');
    expect(db.breaker.change).toMatchObject({ by: 'system', reason: expect.stringContaining('error rate 75.0%') });
    const audit = await s.app.store.searchAudit({ limit: 5 });
    expect(audit.find((a) => a.command === 'breaker trip')).toMatchObject({ userId: 'system', platform: 'system', outcome: 'ok', cluster: 'db' });
    const g2 = await s.guard('db', 'orders');
    expect(await g2.check()).toMatchObject({ allowed: false, reason: 'breaker-open' });
  });

  it('resets a half-open breaker automatically once its trial traffic is healthy for a whole window', async () => {
    const s = await setup();
    await yes(s.app, 'breaker trip cache --reason "by hand"');
    const g = await s.guard('cache', 'sessions');
    await new Promise((r) => setTimeout(r, 1_000)); // cool-down: half-open now (trickle 1 lets all through)
    expect(s.app.engine.cluster(await s.app.engine.state(), 'cache').breakerView).toBe('half-open');
    await new Promise((r) => setTimeout(r, 1_500));
    for (let i = 0; i < 5; i++) {
      expect((await g.check()).allowed).toBe(true);
      g.report({ error: false, latencyMs: 2 });
    }
    await new Promise((r) => setTimeout(r, 1_100));
    await s.app.traffic.tick();
    expect(s.app.engine.cluster(await s.app.engine.state(), 'cache').breakerView).toBe('half-open'); // not a whole window yet
    await new Promise((r) => setTimeout(r, 500));
    await s.app.traffic.tick();
    const cache = s.app.engine.cluster(await s.app.engine.state(), 'cache');
    expect(cache.breakerView).toBe('closed');
    expect(cache.breaker.change?.by).toBe('system');
  });

  it('services in other languages check and report over HTTP: live traffic and automatic trips work for them too', async () => {
    const s = await setup();
    const server = Fastify({ forceCloseConnections: true });
    await server.register(guardRoutes, { feed: s.app.control, redis: { url: s.url, prefix: s.keys.prefix } });
    await server.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => server.close());
    const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
    const post = (path: string, body: unknown) => fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (let i = 0; i < 5; i++) expect(await (await post('/api/control/check', { cluster: 'db', service: 'billing-go' })).json()).toMatchObject({ allowed: true });
    expect((await post('/api/control/report', { cluster: 'db', service: 'billing-go', finished: 20, errors: 15, latencyMsTotal: 400 })).status).toBe(202);
    expect((await post('/api/control/report', { cluster: 'db', finished: 1, errors: 2 })).status).toBe(400);
    await new Promise((r) => setTimeout(r, 2_100)); // the server-side guard reports each second; whole seconds only
    await s.app.traffic.tick();
    expect(s.app.engine.cluster(await s.app.engine.state(), 'db').breakerView).toBe('open');
    expect((await s.app.run('status db')).fields?.find((f) => f.name === 'Live traffic')?.value).toMatch(/from 1 service/);
  });

  it('shows the impact of a dangerous action and live traffic in status', async () => {
    const s = await setup();
    const services = await Promise.all(['checkout', 'search', 'profile'].map((n) => s.guard('api', n)));
    for (let i = 0; i < 30; i++) for (const g of services) await g.check();
    await g0Flush(services);
    const reply = await s.app.run('cluster disable api --reason "bad deploy"');
    expect(reply.outcome).toBe('confirm');
    expect(reply.text).toMatch(/Impact: disabling api rejects ~\d+(\.\d)? req\/s from 3 services \(live, last 10 s\)\./);
    const status = await s.app.run('status');
    expect(status.text).toContain(`📡 Redis redis://127.0.0.1:6379: published v`);
    expect(status.data).toMatchObject({ controlChannel: { redis: 'connected', target: 'redis://127.0.0.1:6379', degraded: false } });
    expect(status.table?.columns).toContain('live traffic');
    expect(status.table?.rows.find((r) => r[0] === 'api')?.at(-1)).toMatch(/req\/s from 3 services .*3 of 3 guards current/);

    // A guard that cannot reach its source shows up as stale, by service.
    const cut = await s.guard('api', 'billing', { source: { feed: { current: () => undefined, subscribe: () => () => undefined } }, readyTimeoutMs: 10 });
    await cut.check();
    await new Promise((r) => setTimeout(r, 200)); // one report interval
    const api = (await s.app.run('status api')).fields?.find((f) => f.name === 'Live traffic')?.value;
    expect(api).toContain('3 of 4 guards current, ⚠️ 1 stale (billing)');
  });

  it.skipIf(!canRunRedisServer('the Redis restart test'))('fails open or closed per cluster when Redis goes away, marks itself stale, and resyncs after a restart', async () => {
    const priv = await privateRedis();
    cleanups.push(() => priv.stop());
    const s = await setup({ url: priv.url });
    const api = await s.guard('api', 'checkout', { rateLimitTimeoutMs: 100 }); // api fails open
    const web = await s.guard('web', 'home', { rateLimitTimeoutMs: 100 }); // web is configured failMode: closed
    expect(api.health().status).toBe('ready');

    await priv.stop();
    await eventually(() => api.health().status === 'stale', 3_000, 'stale');
    expect(await api.check()).toMatchObject({ allowed: true, degraded: 'rate-limit-unavailable' });
    expect(await web.check()).toMatchObject({ allowed: false, reason: 'unavailable', status: 503 });
    expect(api.health().staleSince).toBeDefined();
    const status = await s.app.run('status');
    expect(status.text).toContain('is unreachable');
    expect(status.data).toMatchObject({ controlChannel: { redis: 'unreachable', degraded: true, notice: expect.stringContaining('is unreachable') } });

    // Changed while Redis was down: the bot publishes it again once Redis is back (it restarted empty).
    await yes(s.app, 'killswitch on --reason "during the outage"');
    await priv.start();
    // Each guard resyncs on its own reconnect: wait for both, not just the first to come back.
    await eventually(
      () => [api, web].every((g) => g.health().status === 'ready' && g.checkLocal().allowed === false),
      8_000,
      'resync of both guards after the restart',
    );
    expect(await web.check()).toMatchObject({ allowed: false, reason: 'killswitch' });
  });
});

async function g0Flush(guards: Guard[]) {
  // Reports go out every 50 ms here; the traffic window counts whole seconds, so wait for this one to end.
  await new Promise((r) => setTimeout(r, 1_100));
  void guards;
}

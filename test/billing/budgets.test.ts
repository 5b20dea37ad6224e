import { createGuard, type Guard, type Reservation } from '@infrabot/guard';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { REDIS_URL, redisPrefix, redisReachable } from '../helpers/redis.js';
import { sql } from '../../src/store/db/sql.js';

const up = await redisReachable('budgets and costs against Redis (test/billing/budgets.test.ts)');

const config = (prefix: string, throttle: boolean) => `
clusters:
  api:
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
    team: payments
    prices: { mint-dream: 2.5 }
  web:
    rateLimits: { perMinute: 1200, perHour: 50000, perDay: 800000 }
    team: payments
admins: [local:root-admin]
redis: { url: "${REDIS_URL}", prefix: ${prefix} }
billing: { currency: USD, thresholds: [0.5, 0.8, 1], throttle: { enabled: ${throttle}, from: 0.8, minFactor: 0.25 } }
`;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function setup(throttle = false) {
  const keys = redisPrefix();
  const app = await createTestApp({ config: config(keys.prefix, throttle) });
  const redis = new Redis(REDIS_URL);
  await redis.ping();
  cleanups.push(() => keys.cleanup(), () => app.cleanup(), async () => redis.disconnect());
  const guards = new Map<string, Guard>();
  const guard = async (cluster = 'api') => {
    let g = guards.get(cluster);
    if (!g) {
      g = await createGuard({ redis, prefix: keys.prefix, cluster, service: 'minter', source: { feed: app.control } });
      guards.set(cluster, g);
      cleanups.push(() => g!.close());
    }
    return g;
  };
  /** Reserves and confirms one action (the cluster's price unless `amount` is given). */
  const spend = async (key: string, amount?: number, cluster = 'api') => {
    const g = await guard(cluster);
    const r = await g.reserve({ idempotencyKey: key, action: 'mint-dream', ...(amount !== undefined ? { amount } : {}), request: { key } });
    if (r.status !== 'reserved') return r;
    expect(await g.confirm(r as Reservation, { ok: key })).toBe('confirmed');
    return r;
  };
  const alerts = async () => ((await app.run('alert list')).data as { alerts: { check: string; summary: string; severity: string }[] }).alerts.filter((a) => a.check === 'BudgetThreshold');
  return { app, guard, spend, alerts };
}

describe.runIf(up)('budgets and costs (Redis + store)', () => {
  it('a cluster budget reaches the guards: reservations beyond it are refused, naming budget, charged and held', async () => {
    const { app, spend, guard } = await setup();
    expect((await app.run('budget set api --daily 10 --monthly 200')).title).toBe('Budget of cluster api');
    expect(app.control.current()!.clusters.api!.billing).toEqual({ currency: 'USD', daily: 10, monthly: 200, prices: { 'mint-dream': 2.5 } });
    for (const k of ['a', 'b', 'c', 'd']) expect((await spend(k)).status).toBe('reserved');
    const held = await (await guard()).reserve({ idempotencyKey: 'e', action: 'mint-dream', amount: 0.01 });
    expect(held).toMatchObject({ status: 'refused', reason: 'budget-exhausted' });
    expect(held.status === 'refused' && held.message).toBe('The daily budget of api (10 USD) cannot cover 0.01 USD: 10 charged and 0 held by open reservations.');
    const history = await app.run('history api --at 1m');
    expect(JSON.stringify(history.data)).toContain('budget.set');
  });

  it('collects confirmed charges once, fires each threshold alert once per period, and shows budgets', async () => {
    const { app, spend, alerts } = await setup();
    await app.run('budget set payments --team --daily 10');
    await spend('a');
    await spend('b', 1.5, 'web'); // 4 of 10: below every threshold
    expect(await app.billing!.collect()).toBe(2);
    expect(await app.billing!.collect()).toBe(0);
    await app.billing!.evaluate();
    expect(await alerts()).toEqual([]);
    await spend('c', 2); // 6 of 10: 50 %
    await app.billing!.tick();
    await app.billing!.tick();
    expect((await alerts()).map((a) => a.summary)).toEqual(['50% of the daily budget of team payments reached: 6.00 of 10.00 USD today']);
    await spend('d', 4); // 10 of 10: 80 % and 100 % at once
    await app.billing!.tick();
    await app.billing!.tick();
    const fired = (await alerts()).map((a) => `${a.severity} ${a.summary}`).sort();
    expect(fired).toEqual([
      'critical 100% of the daily budget of team payments reached: 10.00 of 10.00 USD today',
      'warning 50% of the daily budget of team payments reached: 6.00 of 10.00 USD today',
      'warning 80% of the daily budget of team payments reached: 10.00 of 10.00 USD today',
    ]);
    const list = await app.run('budget list');
    expect(list.data).toMatchObject({ budgets: [{ subject: 'team:payments', clusters: ['api', 'web'], daily: 10, spentToday: 10 }] });
    const rows = await app.billing!.db.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM costs`);
    expect(Number(rows[0]!.n)).toBe(4);
  });

  it('throttles as spend nears the budget (audited as system), a human set wins until released, and a new budget lifts it', async () => {
    const { app, spend } = await setup(true);
    await app.run('budget set api --daily 10');
    await spend('a', 9); // 90 %: halfway from 80 % to 100 % → 62.5 %, in 5 % steps down → 60 %
    await app.billing!.tick();
    let show = (await app.run('ratelimit show api')).data as { rateLimits: { effective: { perMinute: number }; throttleFactor: number | null; why: string | null }[] };
    expect(show.rateLimits[0]).toMatchObject({ effective: { perMinute: 360 }, throttleFactor: 0.6 });
    expect(show.rateLimits[0]!.why).toContain('cluster api has spent 90% of its daily budget (9.00 of 10.00 USD today)');
    expect(app.control.current()!.clusters.api!.rateLimits.perMinute).toBe(360);
    const hist = JSON.stringify((await app.run('history api --at 1m')).data);
    expect(hist).toMatch(/"actor":"system","scope":"api","type":"ratelimit.throttled"/);

    await app.run('ratelimit set api --per-minute 500', { confirmed: true });
    expect(app.control.current()!.clusters.api!.rateLimits.perMinute).toBe(500);
    await spend('b', 0.9); // 99 %: the throttle would go deeper, but the human holds the limits
    await app.billing!.tick();
    expect(app.control.current()!.clusters.api!.rateLimits.perMinute).toBe(500);

    await app.run('ratelimit release api');
    await app.billing!.tick();
    // 99 % → 1 - 0.95 × 0.75 = 0.2875 → floor to 5 % steps = 0.25 (the floor), of the human's 500.
    expect(app.control.current()!.clusters.api!.rateLimits.perMinute).toBe(125);

    await app.run('budget set api --daily 100');
    await app.billing!.tick();
    expect(app.control.current()!.clusters.api!.rateLimits.perMinute).toBe(500);
    show = (await app.run('ratelimit show api')).data as typeof show;
    expect(show.rateLimits[0]).toMatchObject({ throttleFactor: null, why: null });
  });

  it('costs: spend by action with a PNG chart and a month-end forecast that states its error', async () => {
    const { app, spend } = await setup();
    await spend('a');
    await spend('b', 1, 'web');
    await app.billing!.collect();
    const r = await app.run('costs --by action');
    expect(r.outcome).toBe('ok');
    expect(r.title).toMatch(/^💰 Spend · last 30d: 3\.50 USD$/);
    expect(r.data).toMatchObject({ currency: 'USD', total: 3.5, by: 'action', groups: [{ key: 'mint-dream', amount: 3.5, count: 2 }], forecast: { model: 'holt-linear', monthToDate: 3.5 } });
    expect(Buffer.from(r.attachments![0]!.content, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(r.fields!.find((f) => f.name === 'Forecast model')!.value).toMatch(/Holt's linear trend .*(error on the last|rough guess)/);
    const bad = await app.run('costs --since forever');
    expect(bad.error?.message ?? bad.text).toContain('"forever"');
  });
});

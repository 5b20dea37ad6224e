import { createGuard, type Guard } from '@infrabot/guard';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/test-app.js';
import { REDIS_URL, redisPrefix, redisReachable } from '../helpers/redis.js';

const up = await redisReachable('adaptive rate limits against Redis (test/billing/adaptive-limits.test.ts)');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function setup() {
  const keys = redisPrefix();
  const app = await createTestApp({ config: `
clusters:
  api:
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
    adaptive: { floor: { perMinute: 100 }, errorRate: 0.2, latencyMs: 500, minRequests: 5, window: 1s, decrease: 0.5, increase: 0.25, interval: 900ms, announceEvery: 1h }
  web:
    rateLimits: { perMinute: 1200, perHour: 50000, perDay: 800000 }
admins: [local:root-admin]
redis: { url: "${REDIS_URL}", prefix: ${keys.prefix} }
` });
  const guard: Guard = await createGuard({ redis: REDIS_URL, prefix: keys.prefix, cluster: 'api', service: 'checkout', reportIntervalMs: 30, readyTimeoutMs: 2_000 });
  cleanups.push(() => keys.cleanup(), () => app.cleanup(), () => guard.close());
  // The test drives the controller itself, one evaluation per step.
  await app.adaptive.stop();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Reports 20 requests inside one wall-clock second, waits for it to end, then lets the controller evaluate. */
  const step = async (o: { errors: number; latencyMs: number }) => {
    while (Date.now() % 1000 > 100) await sleep(10);
    guard.reportMany({ finished: 20, errors: o.errors, latencyMsTotal: 20 * o.latencyMs });
    await sleep(1000 - (Date.now() % 1000) + 60);
    await app.adaptive.tick();
    return app.control.current()!.clusters.api!.rateLimits.perMinute;
  };
  return { app, step };
}

describe.runIf(up)('adaptive rate limits (Redis + store)', () => {
  it('steps down under errors and latency to the floor, recovers gradually to the ceiling, each step audited as system', async () => {
    const { app, step } = await setup();
    expect(await step({ errors: 10, latencyMs: 20 })).toBe(300); // 50 % errors: × 0.5
    expect(await step({ errors: 0, latencyMs: 900 })).toBe(150); // slow: × 0.5
    expect(await step({ errors: 8, latencyMs: 20 })).toBe(102); // floor 100/600 → 17 %
    expect(await step({ errors: 20, latencyMs: 20 })).toBe(102); // never under the floor
    const show = (await app.run('ratelimit show api')).data as { rateLimits: { perMinute: number; effective: { perMinute: number }; why: string }[] };
    expect(show.rateLimits[0]).toMatchObject({ perMinute: 600, effective: { perMinute: 102 } });
    expect(show.rateLimits[0]!.why).toContain('adaptive step at 17%: error rate 40.0% (8 of 20 requests), average latency 20 ms over 1s');
    expect(await step({ errors: 0, latencyMs: 20 })).toBe(252); // + 25 % of the ceiling
    expect(await step({ errors: 0, latencyMs: 20 })).toBe(402);
    expect(await step({ errors: 1, latencyMs: 20 })).toBe(552); // 5 %: healthy
    expect(await step({ errors: 0, latencyMs: 20 })).toBe(600); // never over the ceiling
    expect(await step({ errors: 0, latencyMs: 20 })).toBe(600);
    const history = (await app.run('history api --at 1h')).data as { changes: { actor: string; type: string }[] };
    const steps = history.changes.filter((e) => e.type === 'ratelimit.adapted');
    expect(steps).toHaveLength(7);
    expect(steps.every((e) => e.actor === 'system')).toBe(true);
  }, 30_000);

  it('a human `ratelimit set` wins until released; adaptive off restores the configured limits at once', async () => {
    const { app, step } = await setup();
    expect(await step({ errors: 10, latencyMs: 20 })).toBe(300);
    await app.run('ratelimit set api --per-minute 500', { confirmed: true });
    expect(await step({ errors: 10, latencyMs: 20 })).toBe(500);
    await app.run('ratelimit release api');
    expect(await step({ errors: 10, latencyMs: 20 })).toBe(125); // the step held (0.5) × 0.5, of the new ceiling 500
    const off = await app.run('ratelimit adaptive off api');
    expect(off.title).toBe('Adaptive rate limits of api off');
    expect(app.control.current()!.clusters.api!.rateLimits.perMinute).toBe(500);
    expect(await step({ errors: 10, latencyMs: 20 })).toBe(500);
    expect((await app.run('ratelimit adaptive on web')).text).toContain('no adaptive policy');
  }, 30_000);
});
